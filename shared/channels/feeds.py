"""RSS and Atom feeds (feedparser) mapped to article payloads, one per entry.

Entries become articles with the entry's id (or link) as ``external_id``, so a feed polled again, or the
same item pushed by WebSub, replays instead of duplicating. Entries without any text are skipped, with the
reason. The XML passes :func:`shared.channels.xml.guard_xml` first: feedparser only ever sees checked UTF-8.
"""

from __future__ import annotations

import calendar
import io
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from shared.channels.common import (
    MAX_FIELD_CHARS,
    MAX_TITLE_CHARS,
    Item,
    clip,
    drop_empty,
    external_id,
    iso,
    language_code,
)
from shared.channels.errors import ChannelError, MalformedError
from shared.channels.htmltext import text_from_html
from shared.channels.xml import check_expansion, guard_xml
from shared.dates import in_window


@dataclass(frozen=True)
class ParsedFeed:
    version: str
    title: str | None
    link: str | None
    items: list[Item] = field(default_factory=list)

    @property
    def articles(self) -> list[dict[str, Any]]:
        return [item.data for item in self.items if item.data is not None]


def _text(detail: Any) -> str:
    # feedparser leaves None (or other types) where a broken document had an empty or odd element.
    value = detail.get("value") if detail else None
    value = value if isinstance(value, str) else ""
    kind = detail.get("type") if detail else None
    kind = kind if isinstance(kind, str) else ""
    if "html" in kind or "<" in value:
        return text_from_html(value)
    return value.strip()


def _when(parsed: time.struct_time | None) -> datetime | None:
    """The entry's date, or None when it has none within the date window. A feed has no one to answer a 4xx
    to, so an entry with an impossible date (year 10000, 1 BC) is kept and dated by its arrival, as one
    without a date, rather than lost."""
    if not parsed:
        return None
    try:
        return in_window(datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC))
    except (ValueError, OverflowError, OSError):
        return None


def _body(entry: Any) -> str:
    candidates = [_text(c) for c in entry.get("content") or []]
    best = max(candidates, key=len, default="")
    if best:
        return best
    return _text(entry.get("summary_detail") or {"value": entry.get("summary", "")})


def _authors(entry: Any) -> list[str]:
    names = [clip(a.get("name"), 200) for a in entry.get("authors") or [] if isinstance(a, dict)]
    if not any(names) and entry.get("author"):
        names = [clip(entry.get("author"), 200)]
    return list(dict.fromkeys(n for n in names if n))[:50]


def entry_article(entry: Any, *, source: str, feed_language: str | None, feed_meta: dict[str, Any]) -> dict[str, Any]:
    """One feed entry as an article payload; :class:`ChannelError` when the entry has no text."""
    body = _body(entry)
    title = clip(_text(entry.get("title_detail") or {"value": entry.get("title", "")}), MAX_TITLE_CHARS)
    if not body and not title:
        raise ChannelError("the entry has neither a title nor any text", field="entry")
    if not body:
        raise ChannelError("the entry has no text (no content and no summary)", field="entry.content")
    if not title:
        title = clip(body.split("\n\n", 1)[0], 120)
    summary = None
    if entry.get("content") and entry.get("summary"):
        described = _text(entry.get("summary_detail") or {"value": entry.get("summary")})
        if described and described != body and len(described) <= MAX_FIELD_CHARS:
            summary = described
    link = entry.get("link") or None
    published = _when(entry.get("published_parsed") or entry.get("updated_parsed"))
    categories = [t.get("term") for t in entry.get("tags") or [] if isinstance(t, dict) and t.get("term")]
    return drop_empty(
        {
            "title": title,
            "body": body,
            "summary": summary,
            "url": link if link and link.startswith(("http://", "https://")) else None,
            "source": source,
            "external_id": external_id(entry.get("id") or link, title, iso(published)),
            "published_at": iso(published),
            # Atom's (and some RSS feeds') modification time: orders the revisions of an edited entry.
            # (``in`` first: feedparser's ``get`` would answer the publication date for a missing one.)
            "version_created": iso(_when(entry["updated_parsed"])) if "updated_parsed" in entry else None,
            "language": language_code(entry.get("language") or feed_language),
            "authors": _authors(entry),
            "metadata": drop_empty({"feed": feed_meta, "categories": categories[:50]}),
        }
    )


def parse_feed(raw: bytes, *, source: str, url: str | None = None) -> ParsedFeed:
    """Every entry of an RSS or Atom document as an article payload (``source`` set on each).

    Raises :class:`UnsafeXmlError` for entity declarations, :class:`MalformedError` for an unusable encoding,
    :class:`ChannelError` when it is not a feed.
    """
    checked = guard_xml(raw)
    headers = {"content-location": url} if url else {}
    # The guard's bytes are UTF-8 whatever the sender declared; say so, so feedparser does not guess again.
    headers["content-type"] = "application/xml; charset=utf-8"
    parsed = feedparser.parse(io.BytesIO(checked), response_headers=headers, sanitize_html=True)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise MalformedError(f"not an RSS or Atom feed{f': {reason}' if reason else ''}")
    feed = parsed.feed
    feed_meta = drop_empty({"title": clip(feed.get("title"), 300), "url": url or feed.get("link")})
    language = feed.get("language")
    out = ParsedFeed(version=parsed.get("version") or "unknown", title=feed_meta.get("title"), link=feed.get("link"))
    for index, entry in enumerate(parsed.entries):
        try:
            article = entry_article(entry, source=source, feed_language=language, feed_meta=feed_meta)
            out.items.append(Item(index=index, data=article))
        except ChannelError as exc:
            ref = entry.get("id") or entry.get("link")
            ref = ref if isinstance(ref, str) else None
            out.items.append(Item(index=index, error=exc.message, field=exc.field, ref=ref))
    check_expansion(
        (text for a in out.articles for text in (a.get("title"), a.get("body"), a.get("summary"))),
        document_bytes=len(raw),
    )
    return out
