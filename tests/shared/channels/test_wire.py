"""NewsML-G2 and NITF documents map to article payloads."""

from __future__ import annotations

import pytest

from shared.channels.errors import ChannelError
from shared.channels.payloads import xml_items
from shared.channels.wire import parse_date, parse_wire_xml
from shared.schemas.articles import ArticleIn
from tests.shared.channels.samples import NEWSML_ITEM, NITF


def test_newsml_g2_news_item() -> None:
    [item] = parse_wire_xml(NEWSML_ITEM, source="agency")
    article = item.data
    assert article is not None
    assert article["title"] == "Portugal's economy grows faster than expected"
    assert article["body"] == "Portugal's economy grew 2.1 percent in the fourth quarter.\n\nExports led the way."
    assert article["summary"] == "Growth reached 2.1 percent."
    assert article["external_id"] == "urn:newsml:example.com:20240305:econ-1"
    assert article["published_at"] == "2024-03-05T08:55:00+01:00"
    assert article["language"] == "en"
    assert article["authors"] == ["Ana Silva"]
    assert article["section"] == "PORTUGAL-ECONOMY"
    assert article["credit"] == "Example Agency"
    assert article["metadata"]["located"] == "Lisbon"
    assert article["metadata"]["subjects"] == [{"qcode": "medtop:04000000", "name": "economy, business and finance"}]
    ArticleIn.model_validate(article)


def test_newsml_g2_news_message_with_several_items_and_one_bad() -> None:
    item = NEWSML_ITEM.split(b"?>", 1)[1]
    second = item.replace(b"econ-1", b"econ-2").replace(b"faster than expected", b"again")
    broken = (
        item.replace(b"econ-1", b"econ-3")
        .replace(b"<contentSet>", b"<contentSetX>")
        .replace(b"</contentSet>", b"</contentSetX>")
    )
    message = (
        b'<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header><sent>2024-03-05T11:00:00Z</sent></header>'
        b"<itemSet>" + item + second + broken + b"</itemSet></newsMessage>"
    )
    delivery = xml_items(message, source="agency")
    assert delivery.format == "newsml-g2"
    assert [i.data["external_id"] for i in delivery.items if i.data] == [
        "urn:newsml:example.com:20240305:econ-1",
        "urn:newsml:example.com:20240305:econ-2",
    ]
    assert [(i.index, i.error) for i in delivery.items if i.data is None] == [
        (2, "the newsItem has no text in its contentSet")
    ]


def test_nitf() -> None:
    [item] = parse_wire_xml(NITF, source="wire")
    article = item.data
    assert article is not None
    assert article["title"] == "Council approves new budget"
    assert article["body"] == (
        "The city council approved a new budget on Tuesday after a long debate.\n\nSpending rises by 4 percent."
    )
    assert article["summary"] == "The council approved the budget on Tuesday."
    assert article["external_id"] == "NITF-2024-0042"
    assert article["published_at"] == "2024-03-05T10:15:00+00:00"
    assert article["authors"] == ["John Roe"]
    assert article["credit"] == "Example Wire"
    assert article["language"] == "en"
    assert article["metadata"]["keywords"] == ["budget", "council"]
    assert article["metadata"]["hl2"] == "Spending rises 4 percent"
    ArticleIn.model_validate(article)


def test_nitf_without_a_body_names_the_field() -> None:
    doc = NITF.replace(b"<body.content>", b"<other>").replace(b"</body.content>", b"</other>")
    with pytest.raises(ChannelError) as caught:
        parse_wire_xml(doc, source="wire")
    assert caught.value.field == "body.content"
    assert caught.value.status == 422


def test_another_xml_vocabulary_is_refused() -> None:
    with pytest.raises(ChannelError, match="unsupported XML document <svg>"):
        xml_items(b'<svg xmlns="http://www.w3.org/2000/svg"/>', source="s")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240305T101500Z", "2024-03-05T10:15:00+00:00"),
        ("20240305T1015+0100", "2024-03-05T10:15:00+01:00"),
        ("2024-03-05T10:15:00Z", "2024-03-05T10:15:00+00:00"),
        ("2024-03-05", "2024-03-05T00:00:00+00:00"),
        ("not a date", None),
    ],
)
def test_dates_in_basic_and_extended_iso_forms(value: str, expected: str | None) -> None:
    parsed = parse_date(value)
    assert (parsed.isoformat() if parsed else None) == expected
