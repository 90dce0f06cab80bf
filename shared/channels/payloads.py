"""Read a delivery body in any supported format into article payloads, one per item.

JSON: one Tidings article or a list of them, or IPTC ninjs (one item or a list). XML: RSS/Atom (a WebSub
content delivery, or a feed file), NewsML-G2 or NITF. Each item is an unvalidated article payload with the
given ``source``, or the reason it could not be read; validation against ``ArticleIn`` is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.channels.common import Item
from shared.channels.errors import ChannelError
from shared.channels.feeds import parse_feed
from shared.channels.ninjs import is_ninjs, looks_like_ninjs, ninjs_article
from shared.channels.wire import NEWSML_ROOTS, NITF_ROOT, parse_wire_xml
from shared.channels.xml import guard_xml, root_name

FEED_ROOTS = frozenset({"rss", "feed", "RDF", "channel"})
XML_TYPES = frozenset({"application/xml", "text/xml", "application/rss+xml", "application/atom+xml"})


@dataclass(frozen=True)
class Delivery:
    format: str
    items: list[Item]


def is_xml(media_type: str) -> bool:
    """``application/xml``, ``text/xml`` and every ``*+xml`` type."""
    return media_type in XML_TYPES or media_type.endswith("+xml")


def json_items(data: Any, *, source: str) -> Delivery:
    """A parsed JSON body: an article object, a list of them, or ninjs."""
    values = data if isinstance(data, list) else [data]
    if isinstance(data, list) and not data:
        raise ChannelError("the list of articles is empty")
    kinds = {"ninjs" if is_ninjs(v) else "tidings" for v in values}
    items = []
    for index, value in enumerate(values):
        if is_ninjs(value):
            try:
                items.append(Item(index=index, data=ninjs_article(value, source=source)))
            except ChannelError as exc:
                items.append(Item(index=index, error=exc.message, field=exc.field))
        elif looks_like_ninjs(value):
            items.append(
                Item(
                    index=index,
                    error="not recognised as ninjs (an item with a uri or guid and a headline, headlines, body_text, "
                    "body_html or bodies) nor as a Tidings article (title and body)",
                    field="body",
                )
            )
        elif isinstance(value, dict):
            items.append(Item(index=index, data={**value, "source": source}))
        else:
            items.append(Item(index=index, error="expected a JSON object", field="body"))
    return Delivery(format="+".join(sorted(kinds)), items=items)


def xml_items(raw: bytes, *, source: str, url: str | None = None) -> Delivery:
    """An XML body: RSS/Atom, NewsML-G2 or NITF. Raises :class:`UnsafeXmlError` for entity declarations,
    :class:`MalformedError` for an unusable encoding (see :func:`guard_xml`)."""
    checked = guard_xml(raw)
    root = root_name(checked)
    if root in NEWSML_ROOTS or root == NITF_ROOT:
        return Delivery(
            format="nitf" if root == NITF_ROOT else "newsml-g2", items=parse_wire_xml(checked, source=source)
        )
    if root is not None and root not in FEED_ROOTS:
        raise ChannelError(f"unsupported XML document <{root}>: expected RSS, Atom, NewsML-G2 or NITF")
    feed = parse_feed(checked, source=source, url=url)
    if not feed.items:
        raise ChannelError("the feed has no entries", field="body")
    return Delivery(format=feed.version, items=feed.items)
