"""Agency wire formats in XML mapped to article payloads: IPTC NewsML-G2 (``newsItem``, or a ``newsMessage``
carrying several) and NITF. Read through :func:`shared.channels.xml.parse_xml`: entity declarations and external
references are refused (:class:`UnsafeXmlError`) before anything is expanded. Element names are matched without namespaces, since
agencies differ in the NewsML-G2 and NITF versions they declare."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from shared.channels.common import MAX_FIELD_CHARS, MAX_TITLE_CHARS, Item, clip, drop_empty, external_id, language_code
from shared.channels.errors import ChannelError
from shared.channels.htmltext import decode_references, looks_like_html, text_from_element, text_from_html
from shared.channels.xml import attr, check_expansion, child, children, descendants, local, parse_xml, text_of
from shared.revisions import version_number

NEWSML_ROOTS = frozenset({"newsItem", "newsMessage"})
NITF_ROOT = "nitf"
_BASIC_ISO = re.compile(r"^(\d{8})T(\d{4,6})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 in its extended (``2024-03-05T10:00:00Z``) or basic (``20240305T100000Z``) form."""
    if not value:
        return None
    value = value.strip()
    basic = _BASIC_ISO.match(value)
    if basic:
        day, clock, zone = basic.groups()
        clock = clock.ljust(6, "0")
        zone = (zone or "Z").replace(":", "")
        value = f"{day[:4]}-{day[4:6]}-{day[6:]}T{clock[:2]}:{clock[2:4]}:{clock[4:]}{zone}"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _names(elements: list[Element]) -> list[str]:
    out = []
    for element in elements:
        name = text_of(child(element, "name")) or attr(element, "literal") or text_of(element)
        if name and (clipped := clip(name, 200)):
            out.append(clipped)
    return list(dict.fromkeys(out))


# NewsML-G2 ----------------------------------------------------------------------------------------------------


# The XHTML body of a NewsML-G2 item repeats the item's metadata in its <header> (dpa: slugline, time, headline,
# byline and teaser), which contentMeta already gives; the article text is what follows it.
_XHTML_METADATA = frozenset({"header"})


def _xhtml_text(inline: Element) -> str:
    body = next(iter(descendants(inline, "body")), None)
    root = body if body is not None else inline
    return text_from_element(root, skip=_XHTML_METADATA) or text_from_element(root)


def _inline_data_text(inline: Element) -> str:
    """``inlineData`` holds escaped text; agencies label HTML in it ``text/plain`` too, so markup is read as
    HTML whatever the label says."""
    raw = "".join(inline.itertext())
    if "html" in (attr(inline, "contenttype") or "") or looks_like_html(raw):
        return text_from_html(raw)
    return decode_references(text_from_element(inline))


def _embedded_nitf(content_set: Element | None) -> Element | None:
    if content_set is None:
        return None
    return next((n for inline in children(content_set, "inlineXML") for n in descendants(inline, NITF_ROOT)), None)


def _newsml_body(content_set: Element | None) -> str:
    if content_set is None:
        return ""
    for inline in children(content_set, "inlineXML"):
        nitf = next(iter(descendants(inline, NITF_ROOT)), None)
        if nitf is not None:
            return _nitf_body_text(nitf)
        if text := _xhtml_text(inline):
            return text
    for inline in children(content_set, "inlineData"):
        if text := _inline_data_text(inline):
            return text
    return ""


def newsml_item_article(item: Element, *, source: str) -> dict[str, Any]:
    """One ``newsItem`` as an article payload."""
    guid = attr(item, "guid")
    if not guid:
        raise ChannelError("a NewsML-G2 newsItem needs a guid", field="newsItem.guid")
    meta = child(item, "contentMeta")
    item_meta = child(item, "itemMeta")
    content_set = child(item, "contentSet")
    nitf = _embedded_nitf(content_set)
    title = clip(
        text_of(child(meta, "headline"))
        or text_of(child(item_meta, "title"))
        or (_nitf_title(nitf) if nitf is not None else None),
        MAX_TITLE_CHARS,
    )
    if not title:
        raise ChannelError(
            "the newsItem has no headline (contentMeta/headline, itemMeta/title or an embedded NITF hedline)",
            field="contentMeta.headline",
        )
    withdrawn = _killed(attr(child(item_meta, "pubStatus"), "qcode"))
    body = _newsml_body(content_set)
    if not body and withdrawn:
        body = WITHDRAWN_BODY  # a kill often carries no text: the article it withdraws keeps its own
    if not body:
        raise ChannelError("the newsItem has no text in its contentSet", field="contentSet")
    descriptions = children(meta, "description") if meta is not None else []
    summary = next((text_of(d) for d in descriptions if (attr(d, "role") or "").endswith("summary")), None)
    summary = summary or (text_of(descriptions[0]) if descriptions else None)
    published = (
        parse_date(text_of(child(meta, "contentCreated")))
        or parse_date(text_of(child(item_meta, "firstCreated")))
        or parse_date(text_of(child(item_meta, "versionCreated")))
    )
    language = attr(child(meta, "language"), "tag") or attr(item, "lang")
    subjects = [
        drop_empty({"qcode": attr(s, "qcode"), "uri": attr(s, "uri"), "name": text_of(child(s, "name"))})
        for s in (children(meta, "subject") if meta is not None else [])
    ]
    holder = child(item, "rightsInfo", "copyrightHolder")
    located = child(meta, "located")
    return drop_empty(
        {
            "title": title,
            "body": body,
            "summary": clip(summary, MAX_FIELD_CHARS),
            "source": source,
            "external_id": external_id(guid),
            "published_at": _iso(published),
            "language": language_code(language),
            "authors": _names(children(meta, "creator") if meta is not None else [])[:50],
            "section": clip(text_of(child(meta, "slugline")), 200),
            "credit": clip(text_of(child(holder, "name")) or attr(holder, "literal"), MAX_FIELD_CHARS),
            "version": version_number(attr(item, "version")),
            "version_created": _iso(parse_date(text_of(child(item_meta, "versionCreated")))),
            "withdrawn": withdrawn or None,
            "metadata": drop_empty(
                {
                    "format": "newsml-g2",
                    "guid": guid,
                    "version": attr(item, "version"),
                    "subjects": subjects[:50],
                    "located": text_of(child(located, "name")),
                    "urgency": text_of(child(meta, "urgency")),
                }
            ),
        }
    )


# What a kill's article says when the kill carries no text of its own.
WITHDRAWN_BODY = "This article has been withdrawn."


def _killed(status: str | None) -> bool:
    """NewsML-G2 ``pubStatus`` (``stat:canceled``, ``stat:withheld``) or NITF ``management-status``."""
    return (status or "").rsplit(":", 1)[-1].strip().lower() in {"canceled", "cancelled", "withheld", "withdrawn"}


# NITF ---------------------------------------------------------------------------------------------------------


def _nitf_body_text(nitf: Element) -> str:
    content = next(iter(descendants(nitf, "body.content")), None)
    return text_from_element(content) if content is not None else ""


def _nitf_title(nitf: Element) -> str | None:
    hedline = next(iter(descendants(nitf, "hedline")), None)
    return text_of(child(hedline, "hl1")) or text_of(child(child(nitf, "head"), "title"))


def _nitf_authors(nitf: Element) -> list[str]:
    bylines = descendants(nitf, "byline")
    people = [p for b in bylines for p in descendants(b, "person")]
    if people:
        return _names(people)
    names = []
    for byline in bylines:
        text = re.sub(r"^\s*by\s+", "", text_of(byline) or "", flags=re.IGNORECASE)
        if clipped := clip(text, 200):
            names.append(clipped)
    return names


def nitf_article(nitf: Element, *, source: str) -> dict[str, Any]:
    """One NITF document as an article payload."""
    head = child(nitf, "head")
    docdata = child(head, "docdata")
    hedline = next(iter(descendants(nitf, "hedline")), None)
    title = clip(_nitf_title(nitf), MAX_TITLE_CHARS)
    if not title:
        raise ChannelError("the NITF document has no headline (hedline/hl1 or head/title)", field="hedline")
    withdrawn = _killed(attr(docdata, "management-status"))
    body = _nitf_body_text(nitf)
    if not body and withdrawn:
        body = WITHDRAWN_BODY
    if not body:
        raise ChannelError("the NITF document has no body.content", field="body.content")
    du_key = child(docdata, "du-key")
    doc_id = attr(child(docdata, "doc-id"), "id-string")
    published = (
        parse_date(attr(child(docdata, "date.issue"), "norm"))
        or parse_date(attr(child(docdata, "date.release"), "norm"))
        or parse_date(attr(next(iter(descendants(nitf, "story.date")), None), "norm"))
    )
    abstract = next(iter(descendants(nitf, "abstract")), None)
    copyright_ = child(docdata, "doc.copyright")
    keywords = [attr(k, "key") for k in descendants(nitf, "keyword") if attr(k, "key")]
    subjects = [
        attr(s, "tobject.subject.matter") or attr(s, "tobject.subject.refnum")
        for s in descendants(nitf, "tobject.subject")
    ]
    return drop_empty(
        {
            "title": title,
            "body": body,
            "summary": clip(text_of(abstract), MAX_FIELD_CHARS),
            "source": source,
            "external_id": external_id(doc_id, title, _iso(published), body[:2000]),
            "published_at": _iso(published),
            "language": language_code(attr(nitf, "lang") or attr(child(nitf, "body"), "lang")),
            "authors": _nitf_authors(nitf)[:50],
            "credit": clip(
                attr(copyright_, "holder") or text_of(next(iter(descendants(nitf, "distributor")), None)),
                MAX_FIELD_CHARS,
            ),
            # NITF numbers the versions of a document in du-key (version, else generation).
            "version": version_number(attr(du_key, "version")) or version_number(attr(du_key, "generation")),
            "withdrawn": withdrawn or None,
            "metadata": drop_empty(
                {
                    "format": "nitf",
                    "doc_id": doc_id,
                    "urgency": attr(child(docdata, "urgency"), "ed-urg"),
                    "keywords": keywords[:50],
                    "subjects": [s for s in subjects if s][:50],
                    "hl2": text_of(child(hedline, "hl2")),
                }
            ),
        }
    )


def parse_wire_xml(raw: bytes, *, source: str) -> list[Item]:
    """The items of a NewsML-G2 or NITF document. :class:`ChannelError` for another or broken XML, or for a
    single-item document that cannot be read."""
    items = _wire_items(parse_xml(raw), source=source)
    check_expansion(
        (item.data.get(f) for item in items if item.data for f in ("title", "body", "summary")),
        document_bytes=len(raw),
    )
    return items


def _wire_items(root: Element, *, source: str) -> list[Item]:
    name = local(root.tag)
    if name == NITF_ROOT:
        return [Item(index=0, data=nitf_article(root, source=source))]
    if name == "newsItem":
        return [Item(index=0, data=newsml_item_article(root, source=source))]
    if name == "newsMessage":
        news_items = descendants(root, "newsItem")
        if not news_items:
            raise ChannelError("the newsMessage carries no newsItem", field="itemSet")
        out = []
        for index, news_item in enumerate(news_items):
            try:
                out.append(Item(index=index, data=newsml_item_article(news_item, source=source)))
            except ChannelError as exc:
                out.append(Item(index=index, error=exc.message, field=exc.field))
        return out
    raise ChannelError(f"unsupported XML document <{name}>: expected RSS, Atom, NewsML-G2 or NITF")
