"""Fuzz targets for every parser of untrusted input: plain text, NewsML-G2, NITF, ninjs, RSS/Atom and HTML.

Each target asserts only what the parsers document: a result, or one of their 4xx errors (``ChannelError``
and its subclasses, ``PlainTextError``); never another exception, never more article text than
``MAX_TEXT_PER_BYTE`` characters per input byte (no expansion), never an entity declaration let through, and
each example within the hypothesis deadline. The XML inputs are built from the preambles hostile senders use
(byte-order marks, junk, comments, DOCTYPE variants with ``>`` inside literals, internal subsets, declared
encodings good and bogus), real-looking news documents, and byte-level mutations of the samples. The whole
file stays within about a minute.
"""

from __future__ import annotations

import codecs
import json
import tracemalloc
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.channels.errors import ChannelError, UnsafeXmlError
from shared.channels.feeds import parse_feed
from shared.channels.html import article_from_html
from shared.channels.htmltext import text_from_html
from shared.channels.ninjs import ninjs_article
from shared.channels.payloads import json_items, xml_items
from shared.channels.wire import parse_wire_xml
from shared.channels.xml import MAX_TEXT_PER_BYTE
from shared.text.plaintext import PlainTextError, parse_plain_article
from tests.shared.channels.samples import ATOM, NEWSML_ITEM, NINJS_1, NINJS_2, NITF, RSS, html_page

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),  # generous: the machine is shared; a blow-up takes far longer
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
SLACK = 4096
EXPANDED = "EXPANDEDENTITYTEXT"

# What news text looks like, plus the characters that matter to XML and HTML.
WORDS = st.sampled_from(
    ["The", "council", "approved", "budget", "on", "Tuesday", "flood", "warning", "for", "coast", "Müller",
     "São Paulo", "北京", "said", "&amp;", "&lt;b&gt;", "&#233;", "&#x1F600;", "&a;", "&unknown;", "]]>", "<",
     "&", "\x00", "\ufffd", "\u202e", "'", '"']
)  # fmt: skip
TEXT = st.lists(WORDS, max_size=30).map(" ".join)

ENTITY_DECL = f'<!ENTITY a "{EXPANDED * 50}">'
HOSTILE_PREAMBLES = [
    f"<!DOCTYPE rss [{ENTITY_DECL}]>",
    f'junk\n<!DOCTYPE rss SYSTEM "a>b" [{ENTITY_DECL}]>',
    f"<!-- note --><!DOCTYPE rss PUBLIC '-//a>b//EN' 'x.dtd' [{ENTITY_DECL}]>",
    f"<!doctype rss [{ENTITY_DECL}]>",
    f'<!DOCTYPE rss [<!ENTITY % p "{EXPANDED}"> %p;]>',
    ENTITY_DECL,
]
HARMLESS_PREAMBLES = [
    "",
    "\n  ",
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="ISO-8859-1"?>',
    "<!-- comment -->",
    '<!DOCTYPE nitf SYSTEM "http://www.nitf.org/IPTC/NITF/3.5/documentation/nitf-3-5.dtd">',
    '<!DOCTYPE rss SYSTEM "a>b">',
    '<?xml-stylesheet href="feed.xsl"?>',
]
ODD_PREAMBLES = [
    '<?xml version="1.0" encoding="x-bogus"?>',
    '<?xml version="1.0" encoding="rot13"?>',
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<?xml version="1.0" encoding="punycode"?>',
    "junk before the root ",
    '<!DOCTYPE rss SYSTEM "never closed',  # refused, unless a quote in the text happens to close it
]


def _element(name: str, text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return text.map(lambda t: f"<{name}>{t}</{name}>")


def _nested(depth: int, inner: str) -> str:
    return "<div>" * depth + inner + "</div>" * depth


ROOTS = {
    "rss": lambda t, b: (
        f"<rss version='2.0'><channel><title>{t}</title><item><guid>g</guid><title>{t}</title>"
        f"<description>{b}</description></item></channel></rss>"
    ),
    "atom": lambda t, b: (
        f"<feed xmlns='http://www.w3.org/2005/Atom'><title>{t}</title><entry><id>e</id>"
        f"<title>{t}</title><content type='html'>{b}</content></entry></feed>"
    ),
    "nitf": lambda t, b: (
        f"<nitf><head><title>{t}</title><docdata><date.issue norm='20240305T100000Z'/></docdata>"
        f"</head><body><body.head><hedline><hl1>{t}</hl1></hedline></body.head><body.content><p>{b}</p>"
        f"</body.content></body></nitf>"
    ),
    "newsml": lambda t, b: (
        f"<newsItem guid='urn:x' xmlns='http://iptc.org/std/nar/2006-10-01/'><contentMeta>"
        f"<headline>{t}</headline></contentMeta><contentSet><inlineXML><html><body><p>{b}</p></body></html>"
        f"</inlineXML></contentSet></newsItem>"
    ),
    "message": lambda t, b: (
        f"<newsMessage><itemSet><newsItem guid='1'><contentMeta><headline>{t}</headline>"
        f"</contentMeta><contentSet><inlineData>{b}</inlineData></contentSet></newsItem></itemSet></newsMessage>"
    ),
}


@st.composite
def xml_documents(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A document and whether its preamble declares entities (then it must be refused)."""
    hostile = draw(st.booleans())
    preamble = draw(st.sampled_from(HOSTILE_PREAMBLES if hostile else HARMLESS_PREAMBLES + ODD_PREAMBLES))
    root = ROOTS[draw(st.sampled_from(sorted(ROOTS)))]
    depth = draw(st.sampled_from([0, 1, 5, 40, 300, 1200]))
    body = _nested(depth, draw(TEXT)) if depth else draw(TEXT)
    doc = preamble + root(draw(TEXT), body)
    if hostile and draw(st.booleans()):
        doc = doc.replace("</title>", "&a;&a;&a;</title>", 1)
    codec = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1"]))
    raw = doc.encode(codec, errors="replace")
    if draw(st.booleans()) and codec == "utf-8":
        raw = draw(st.sampled_from([b"", codecs.BOM_UTF8, b"\xff\xfe", b"\x00", b"  "])) + raw
    return raw, hostile


def _mutated(sample: bytes) -> st.SearchStrategy[bytes]:
    """Byte-level edits of a real sample: what a broken partner feed sends."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(sample)
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data)))
            action = draw(st.sampled_from(["insert", "delete", "replace"]))
            chunk = draw(st.sampled_from([b"<", b">", b"&", b"]]>", b"<!", b"\x00", b"\xff", b"<![CDATA[", b"&a;"]))
            if action == "insert":
                data[at:at] = chunk
            elif action == "delete":
                del data[at : at + draw(st.integers(1, 40))]
            else:
                data[at : at + len(chunk)] = chunk
        return bytes(data)

    return build()


def _article_text(articles: list[dict[str, Any]]) -> int:
    return sum(len(str(a.get(f) or "")) for a in articles for f in ("title", "body", "summary"))


def _check_bounded(articles: list[dict[str, Any]], raw_len: int) -> None:
    assert _article_text(articles) <= MAX_TEXT_PER_BYTE * raw_len + SLACK
    assert all(EXPANDED not in json.dumps(a) for a in articles)


@FUZZ
@given(xml_documents())
def test_xml_deliveries_only_raise_channel_errors_and_never_expand(case: tuple[bytes, bool]) -> None:
    raw, hostile = case
    try:
        delivery = xml_items(raw, source="fuzz")
    except ChannelError as exc:
        assert 400 <= exc.status < 500
        return
    assert not hostile, "a document declaring entities was read"
    _check_bounded([i.data for i in delivery.items if i.data], len(raw))


@FUZZ
@given(xml_documents())
def test_the_feed_parser_on_its_own_behaves_the_same(case: tuple[bytes, bool]) -> None:
    raw, hostile = case
    try:
        feed = parse_feed(raw, source="fuzz")
    except ChannelError:
        return
    assert not hostile
    _check_bounded(feed.articles, len(raw))


@FUZZ
@given(st.one_of(_mutated(NITF), _mutated(NEWSML_ITEM)))
def test_mutated_wire_documents(raw: bytes) -> None:
    try:
        items = parse_wire_xml(raw, source="fuzz")
    except ChannelError:
        return
    _check_bounded([i.data for i in items if i.data], len(raw))


@FUZZ
@given(st.one_of(_mutated(RSS), _mutated(ATOM)))
@example(RSS.replace(b'encoding="UTF-8"', b'encoding="\x00UTF-8"'))  # a NUL in the encoding name
def test_mutated_feeds(raw: bytes) -> None:
    try:
        feed = parse_feed(raw, source="fuzz")
    except ChannelError:
        return
    _check_bounded(feed.articles, len(raw))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["value", "role", "name"]), inner),
    max_leaves=12,
)
NINJS_KEYS = [
    "uri", "headline", "headlines", "body_text", "body_html", "bodies", "description_text", "description_html",
    "descriptions", "by", "byline", "firstcreated", "versioncreated", "language", "slugline", "subjects",
    "located", "urgency", "copyrightholder", "version",
]  # fmt: skip


@FUZZ
@given(
    st.sampled_from([NINJS_1, NINJS_2]),
    st.dictionaries(st.sampled_from(NINJS_KEYS), JSON_VALUES | _element("p", TEXT).map(lambda h: _nested(300, h))),
)
@example(NINJS_2, {"language": True, "subjects": [{"name": False}]})  # non-strings where text belongs
def test_ninjs_items(base: dict[str, Any], changes: dict[str, Any]) -> None:
    item = {**base, **changes}
    size = len(json.dumps(item))
    try:
        article = ninjs_article(item, source="fuzz")
    except ChannelError:
        return
    _check_bounded([article], size)
    delivery = json_items([item, item], source="fuzz")
    assert len(delivery.items) == 2


HTML_TAGS = st.sampled_from(["p", "div", "b", "script", "br", "h1", "li", "table", "td", "svg", "x"])


@st.composite
def html_fragments(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(HTML_TAGS)
        parts.append(f"<{tag}>{draw(TEXT)}" + (f"</{tag}>" if draw(st.booleans()) else ""))
    fragment = "".join(parts)
    if draw(st.booleans()):
        fragment = _nested(draw(st.sampled_from([10, 300, 2000])), fragment)
    if draw(st.booleans()):
        fragment = draw(st.sampled_from(HOSTILE_PREAMBLES + HARMLESS_PREAMBLES)) + fragment
    return fragment


@FUZZ
@given(html_fragments())
@example('<!DOCTYPE nitf SYSTEM "http://www.nitf.org/nitf.dtd"><script><p><p><p><p><p>')  # lxml asserted
def test_html_fragments(fragment: str) -> None:
    try:
        text = text_from_html(fragment)
    except UnsafeXmlError:
        return
    assert len(text) <= len(fragment)
    assert EXPANDED not in text


@settings(FUZZ, max_examples=40)  # trafilatura reads a whole page: fewer, larger examples
@given(html_fragments(), TEXT)
def test_html_pages(fragment: str, title: str) -> None:
    page = html_page(title or "Quake hits city").replace("<article>", "<article>" + fragment)
    try:
        article = article_from_html({"html": page})
    except ChannelError as exc:
        assert exc.field == "html"
        return
    _check_bounded([article], len(page.encode()))


PLAIN_PARAGRAPHS = st.lists(
    st.one_of(TEXT, st.just("Source: Reuters"), st.just("(Reporting by A. Reporter; Editing by B. Editor)"),
              st.just("Smoke rises over the city [Reuters]"), st.just("\u00a9 2024 Example News")),
    max_size=12,
)  # fmt: skip


@FUZZ
@given(PLAIN_PARAGRAPHS, st.sampled_from(["\n\n", "\r\n\r\n", "\n", "\n \n", "\u2029"]))
def test_plain_text(paragraphs: list[str], separator: str) -> None:
    text = separator.join(paragraphs)
    try:
        article = parse_plain_article(text)
    except PlainTextError as exc:
        assert exc.field in {"title", "body"}
        return
    produced = sum(len(p or "") for p in (article.title, article.summary, article.caption, article.body))
    assert produced <= len(text) + SLACK


def test_the_probes_expansion_payload_stays_small_in_memory() -> None:
    # The 56 kB payload that gave a 100 MB body and 370 MB of memory before the guard.
    entity = '<!ENTITY a "' + "A" * 10_000 + '">'
    item = "<item><title>t</title><description>" + "&a;" * 10_000 + "</description></item>"
    raw = f'junk\n<!DOCTYPE rss SYSTEM "a>b" [{entity}]><rss version="2.0"><channel>{item}</channel></rss>'.encode()
    tracemalloc.start()
    try:
        try:
            xml_items(raw, source="probe")
        except UnsafeXmlError:
            pass
        else:
            raise AssertionError("the payload was read")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(raw)
