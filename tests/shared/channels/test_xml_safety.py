"""XML bombs and external entities are refused by every XML reader before anything is expanded or fetched."""

from __future__ import annotations

import pytest

from shared.channels.errors import MalformedError, UnsafeXmlError
from shared.channels.feeds import parse_feed
from shared.channels.payloads import xml_items
from shared.channels.wire import parse_wire_xml
from shared.channels.xml import parse_xml, refuse_unsafe_xml
from tests.shared.channels.samples import NITF, UNSAFE_XML, unsafe

KINDS = sorted(UNSAFE_XML)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("root", ["rss", "feed", "nitf", "newsItem"])
def test_every_reader_refuses_entity_declarations(kind: str, root: str) -> None:
    doc = unsafe(kind, root)
    with pytest.raises(UnsafeXmlError) as caught:
        xml_items(doc, source="s")
    assert caught.value.status == 400
    assert "refused" in caught.value.message
    with pytest.raises(UnsafeXmlError):
        parse_xml(doc)


@pytest.mark.parametrize("kind", KINDS)
def test_feed_parser_refuses_before_feedparser_sees_the_document(kind: str) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_feed(unsafe(kind, "rss"), source="s")


@pytest.mark.parametrize("kind", KINDS)
def test_wire_parser_refuses(kind: str) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_wire_xml(unsafe(kind, "nitf"), source="s")


def test_a_broken_document_with_an_internal_subset_is_refused_too() -> None:
    # Not well-formed before the strict parser reaches the root: the lenient feed parser must not see it.
    doc = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "&b;&b;"> <!ENTITY b "x" ><rss><channel></rss>'
    with pytest.raises(UnsafeXmlError):
        refuse_unsafe_xml(doc)


def test_a_public_dtd_reference_is_not_fetched_and_not_refused() -> None:
    # NITF documents name their DTD by URL: it is never loaded, and the document reads fine.
    [item] = parse_wire_xml(NITF, source="wire")
    assert item.data is not None
    assert item.data["title"] == "Council approves new budget"


def test_malformed_xml_is_a_400_not_a_crash() -> None:
    with pytest.raises(MalformedError) as caught:
        parse_xml(b"<nitf><head></nitf>")
    assert caught.value.status == 400
    assert "invalid XML" in caught.value.message
