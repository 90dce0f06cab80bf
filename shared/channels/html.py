"""Main text and metadata of a whole HTML page (trafilatura): what an article sent as ``html`` becomes.

Boilerplate (navigation, footers, share buttons, comments) is left out; the title, authors, publication date
and description come from the page's metadata where it has them. Runs offline: nothing is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from shared.channels.errors import ChannelError, UnsafeXmlError
from shared.channels.xml import refuse_declarations
from shared.text.normalise import clean_inline, paragraphs

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_DATE_PARAMS = {"outputformat": _DATE_FORMAT, "extensive_search": True, "original_date": True}


# Page furniture: when everything trafilatura found lies inside these, the page has no main text (its fallback
# extractors take the navigation or the footer of a page that has nothing else).
_FURNITURE = "//nav | //footer | //header | //aside | //menu | //*[@role='navigation' or @role='contentinfo']"


def _furniture_text(html: str) -> str:
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return ""
    return " ".join(" ".join(e.text_content().split()) for e in root.xpath(_FURNITURE))


def _only_furniture(paras: list[str], html: str) -> bool:
    furniture = _furniture_text(html).casefold()
    return bool(furniture) and all(" ".join(p.split()).casefold() in furniture for p in paras)


@dataclass(frozen=True)
class ExtractedPage:
    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    description: str | None = None
    sitename: str | None = None
    url: str | None = None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _authors(value: str | None) -> list[str]:
    if not value:
        return []
    names = (clean_inline(part) for part in value.replace(" and ", ";").split(";"))
    return list(dict.fromkeys(n for n in names if n))[:50]


def extract_page(html: str, *, url: str | None = None) -> ExtractedPage | None:
    """The page's main text (paragraphs separated by blank lines) and metadata; None when there is no text.
    An ENTITY declaration or a DOCTYPE internal subset is refused (:class:`UnsafeXmlError`) before trafilatura
    (lxml) reads the page."""
    refuse_declarations(html)
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        date_extraction_params=_DATE_PARAMS,
    )
    if doc is None or isinstance(doc, dict):
        return None
    title = clean_inline(doc.title) if doc.title else None
    paras = paragraphs((doc.text or "").replace("\n", "\n\n"))
    # trafilatura repeats the <h1> as the first line of the text; the title has its own field.
    if title and paras and clean_inline(paras[0]).casefold() == title.casefold():
        paras = paras[1:]
    if not paras or _only_furniture(paras, html):
        return None
    return ExtractedPage(
        title=title,
        text="\n\n".join(paras),
        authors=_authors(doc.author),
        published_at=_date(doc.date),
        description=clean_inline(doc.description) if doc.description else None,
        sitename=clean_inline(doc.sitename) if doc.sitename else None,
        url=doc.url or None,
    )


def article_from_html(data: dict[str, Any]) -> dict[str, Any]:
    """An article payload with ``html`` instead of ``body`` → the same payload with the extracted fields.

    What the sender gave explicitly (title, authors, published_at, summary, url) wins over what the page says.
    Raises :class:`ChannelError` naming ``html`` when no main text can be found.
    """
    html = data.get("html")
    if not isinstance(html, str):
        raise ChannelError("must be a string holding an HTML page", field="html")
    url = data.get("url") if isinstance(data.get("url"), str) else None
    try:
        page = extract_page(html, url=url)
    except UnsafeXmlError as exc:
        raise UnsafeXmlError(exc.message, field="html") from exc
    if page is None:
        raise ChannelError("no main text could be extracted from the HTML page", field="html")
    out = {k: v for k, v in data.items() if k != "html"}
    out["body"] = page.text
    if not out.get("title") and page.title:
        out["title"] = page.title
    if not out.get("authors") and page.authors:
        out["authors"] = page.authors
    if not out.get("published_at") and page.published_at:
        out["published_at"] = page.published_at.isoformat()
    if not out.get("summary") and page.description:
        out["summary"] = page.description
    metadata = out.get("metadata", {})
    if isinstance(metadata, dict):  # anything else is left for validation to refuse
        extraction = {"from": "html", "tool": f"trafilatura {trafilatura.__version__}"}
        if page.sitename:
            extraction["sitename"] = page.sitename
        out["metadata"] = {"extraction": extraction, **metadata}
    return out
