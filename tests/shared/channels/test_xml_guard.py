"""The one XML gate: entity declarations and DOCTYPE internal subsets are refused wherever they hide (junk
first, BOMs, comments, ``>`` inside a quoted literal, UTF-16/UTF-32), an unusable encoding is a 400, deep
nesting is a 400, and no reader ever expands anything."""

from __future__ import annotations

import codecs

import pytest

from shared.channels.errors import ChannelError, MalformedError, UnsafeXmlError
from shared.channels.feeds import parse_feed
from shared.channels.html import article_from_html
from shared.channels.htmltext import text_from_html
from shared.channels.ninjs import ninjs_article
from shared.channels.payloads import xml_items
from shared.channels.wire import parse_wire_xml
from shared.channels.xml import check_expansion, guard_xml
from tests.shared.channels.samples import NITF, RSS

ITEM = (
    b'<rss version="2.0"><channel><title>Harbour News</title><item><guid>ferry-1</guid>'
    b"<title>Ferry service resumes</title><description>&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;</description>"
    b"</item></channel></rss>"
)
ENTITY = b'<!ENTITY a "' + b"The harbour reopened after the storm. " * 300 + b'">'

# Each hides an internal subset or an ENTITY declaration from a check that reads only the obvious prolog.
HIDDEN = {
    "probe: junk then > in SYSTEM literal": b'junk\n<!DOCTYPE rss SYSTEM "a>b" [' + ENTITY + b"]>" + ITEM,
    "> in PUBLIC literals": b"<!DOCTYPE rss PUBLIC \"-//x>y//EN\" 'http://e/a>b.dtd' [" + ENTITY + b"]>" + ITEM,
    "leading whitespace": b"\n\n   <!DOCTYPE rss [" + ENTITY + b"]>" + ITEM,
    "comment before": b"<!-- a comment --><!DOCTYPE rss [" + ENTITY + b"]>" + ITEM,
    "declaration, then comment": b'<?xml version="1.0"?>\n<!-- x --><!DOCTYPE rss [' + ENTITY + b"]>" + ITEM,
    "utf-8 BOM": codecs.BOM_UTF8 + b"<!DOCTYPE rss [" + ENTITY + b"]>" + ITEM,
    "lower-case doctype": b"<!doctype rss [" + ENTITY + b"]>" + ITEM,
    "whitespace in the keyword": b"<!DOCTYPE\n\trss\n[" + ENTITY + b"]>" + ITEM,
    "entity without doctype": ENTITY + ITEM,
    "entity after the root": ITEM + ENTITY,
    "doctype mid-document": ITEM[:40] + b"<!DOCTYPE x [" + ENTITY + b"]>" + ITEM[40:],
    "unterminated doctype": b'<!DOCTYPE rss SYSTEM "never closed' + ITEM,
}


def _wide(doc: str, codec: str, *, bom: bool) -> bytes:
    data = doc.encode(codec)
    marks = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE}
    return (marks[codec] if bom else b"") + data


WIDE_DOC = '<?xml version="1.0" encoding="{enc}"?><!DOCTYPE rss [' + ENTITY.decode() + "]>" + ITEM.decode()


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_hidden_declarations_are_refused_by_every_xml_reader(name: str) -> None:
    doc = HIDDEN[name]
    for read in (guard_xml, lambda d: xml_items(d, source="s"), lambda d: parse_feed(d, source="s")):
        with pytest.raises(UnsafeXmlError) as caught:
            read(doc)
        assert caught.value.status == 400
        assert "refused" in caught.value.message


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
@pytest.mark.parametrize("bom", [True, False])
def test_declarations_in_wide_encodings_are_refused(codec: str, bom: bool) -> None:
    doc = _wide(WIDE_DOC.format(enc=codec.upper()[:6]), codec, bom=bom)
    with pytest.raises(UnsafeXmlError):
        xml_items(doc, source="s")
    with pytest.raises(UnsafeXmlError):
        parse_feed(doc, source="s")


def test_a_utf16_feed_without_declarations_reads_as_usual() -> None:
    doc = codecs.BOM_UTF16_LE + RSS.decode().replace("UTF-8", "UTF-16").encode("utf-16-le")
    delivery = xml_items(doc, source="s")
    titles = [i.data["title"] for i in delivery.items if i.data]
    assert "Floods close roads across the north & west" in titles


@pytest.mark.parametrize(
    "encoding", ["x-bogus", "rot13", "zlib", "base64", "hex", "bz2", "uu", "undefined", "punycode", "idna"]
)
def test_an_unusable_declared_encoding_is_a_400_naming_it(encoding: str) -> None:
    doc = f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel/></rss>'.encode()
    for read in (lambda d: xml_items(d, source="s"), lambda d: parse_feed(d, source="s")):
        with pytest.raises(MalformedError) as caught:
            read(doc)
        assert caught.value.status == 400
        assert caught.value.field == "encoding"


def test_a_wide_encoding_declared_on_narrow_bytes_is_a_400() -> None:
    with pytest.raises(MalformedError):
        xml_items(b'<?xml version="1.0" encoding="UTF-16"?><rss/>', source="s")


def test_a_latin1_feed_is_read_in_its_declared_encoding() -> None:
    doc = RSS.replace(b"UTF-8", b"ISO-8859-1").replace(b"Jane Doe", "Jos\u00e9 Ram\u00edrez".encode("latin-1"))
    [first, *_] = [i.data for i in xml_items(doc, source="s").items if i.data]
    assert first["authors"] == ["Jos\u00e9 Ram\u00edrez"]


def test_an_external_dtd_reference_alone_is_allowed_and_not_fetched() -> None:
    [item] = parse_wire_xml(NITF, source="wire")
    assert item.data is not None and item.data["title"] == "Council approves new budget"


def _nested_nitf(depth: int) -> bytes:
    return (
        b"<nitf><head><title>Deep</title></head><body><body.content>"
        + b"<block>" * depth
        + b"<p>The council met.</p>"
        + b"</block>" * depth
        + b"</body.content></body></nitf>"
    )


def test_two_thousand_nested_nitf_elements_are_a_400_not_a_recursion_error() -> None:
    with pytest.raises(MalformedError) as caught:
        xml_items(_nested_nitf(2000), source="wire")
    assert caught.value.status == 400
    assert "nested deeper" in caught.value.message


def test_moderately_nested_nitf_still_reads() -> None:
    [item] = parse_wire_xml(_nested_nitf(100), source="wire")
    assert item.data is not None and item.data["body"] == "The council met."


def test_html_nested_two_thousand_deep_does_not_recurse() -> None:
    text = text_from_html("<div>" * 2000 + "<p>Deep paragraph.</p>" + "</div>" * 2000)
    assert len(text) <= len("Deep paragraph.")
    with pytest.raises(ChannelError):  # no text survives: the ninjs item is a 422 naming its body
        ninjs_article({"uri": "u", "headline": "Deep", "body_html": "<div>" * 2000 + "x" + "</div>" * 2000}, source="s")


def test_html_readers_refuse_internal_subsets() -> None:
    page = "<!DOCTYPE html [<!ENTITY a 'Storm'>]><html><body><article><p>&a;&a;&a;</p></article></body></html>"
    with pytest.raises(UnsafeXmlError) as caught:
        article_from_html({"html": page, "title": "Storm"})
    assert caught.value.field == "html"
    with pytest.raises(UnsafeXmlError):
        text_from_html(page)


def test_expansion_is_bounded_per_byte_whatever_a_parser_does() -> None:
    check_expansion(["x" * 1000], document_bytes=1000)
    with pytest.raises(UnsafeXmlError):
        check_expansion(["x" * 1_000_000], document_bytes=10_500)


def test_the_guard_hands_parsers_utf8_that_says_so() -> None:
    doc = b'<?xml version="1.0" encoding="ISO-8859-1"?><rss>caf\xe9</rss>'
    checked = guard_xml(doc)
    assert checked == '<?xml version="1.0" encoding="utf-8"?><rss>caf\u00e9</rss>'.encode()
    assert guard_xml(checked) is checked
