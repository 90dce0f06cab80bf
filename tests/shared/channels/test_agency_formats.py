"""Wire formats read the way agencies write them: ninjs of every version and dialect, NewsML-G2 bodies with
their metadata header, HTML labelled as plain text, headlines only an embedded NITF carries, and text escaped
once more than its format asks."""

from __future__ import annotations

import copy

import pytest

from shared.channels.errors import ChannelError
from shared.channels.html import article_from_html, extract_page
from shared.channels.htmltext import decode_references, text_from_html
from shared.channels.ninjs import is_ninjs, ninjs_article
from shared.channels.payloads import json_items, xml_items
from shared.schemas.articles import ArticleIn
from tests.shared.channels.samples import (
    ENTITIES_RSS,
    FURNITURE_ONLY_PAGE,
    NEWSML_EMBEDDED_NITF,
    NEWSML_INLINE_DATA_HTML,
    NEWSML_XHTML_HEADER,
    NINJS_2,
    NINJS_3,
    NINJS_SUPERDESK,
    NINJS_WITH_TITLE,
    html_page,
)

# ninjs -----------------------------------------------------------------------------------------------------


def test_ninjs_with_its_optional_title_is_ninjs() -> None:
    assert is_ninjs(NINJS_WITH_TITLE)
    delivery = json_items(NINJS_WITH_TITLE, source="wire")
    assert delivery.format == "ninjs"
    [item] = delivery.items
    assert item.data is not None
    assert item.data["title"] == "Port strike enters second day"
    assert item.data["body"] == "Dock workers stayed away for a second day."
    assert item.data["metadata"]["name"] == "port-strike"
    ArticleIn.model_validate(item.data)


def test_a_tidings_article_with_a_uri_field_is_still_a_tidings_article() -> None:
    assert not is_ninjs({"uri": "urn:x", "title": "t", "body": "b", "headline": "h"})
    assert not is_ninjs({"guid": "g", "html": "<p>page</p>", "headline": "h"})


def test_ninjs_3_camel_case_properties_are_read() -> None:
    article = ninjs_article(NINJS_3, source="wire")
    assert article["published_at"] == "2019-05-10T16:02:28+02:00"
    assert article["credit"] == "nordpresse"
    assert article["language"] == "en"
    assert article["authors"] == ["Tom Evans"]
    assert article["metadata"]["version_created"] == "2019-05-10T17:15:00+02:00"
    assert article["metadata"]["alt_ids"] == {"nordpresse-id": "np-2019-05-10-0042"}
    assert (
        article["body"]
        == "The city museum reopens on Saturday after a two-year renovation.\n\nEntry is free for the first week."
    )
    ArticleIn.model_validate(article)


@pytest.mark.parametrize(
    "spelling",
    [
        {"firstcreated": "2019-05-10T16:02:28+02:00", "copyrightholder": "dpa"},  # 1.x, 2.x
        {"firstCreated": "2019-05-10T16:02:28+02:00", "copyrightHolder": "dpa"},  # 3.0
    ],
)
def test_every_version_s_spelling_of_dates_and_credit(spelling: dict[str, str]) -> None:
    item = {k: v for k, v in NINJS_2.items() if k not in ("firstcreated", "versioncreated", "copyrightholder")}
    article = ninjs_article({**item, **spelling}, source="wire")
    assert (article["published_at"], article["credit"]) == ("2019-05-10T16:02:28+02:00", "dpa")


def test_the_summary_is_the_description_whose_role_says_so() -> None:
    # The writer's credit comes first in the list; the summary is the one with the summary role.
    assert ninjs_article(NINJS_3, source="wire")["summary"] == "The museum’s new wing opens on Saturday."
    only_writer = copy.deepcopy(NINJS_3)
    only_writer["descriptions"] = [{"role": "writer", "value": "www.photo-desk.example"}]
    assert "summary" not in ninjs_article(only_writer, source="wire")
    text_role = {**NINJS_2, "descriptions": [{"role": "text", "value": "What the derby decided."}]}
    assert ninjs_article(text_role, source="wire")["summary"] == "What the derby decided."


def test_superdesk_ninjs_with_a_guid_is_accepted() -> None:
    delivery = json_items(NINJS_SUPERDESK, source="desk")
    assert delivery.format == "ninjs"
    [item] = delivery.items
    article = item.data
    assert article is not None
    assert article["external_id"] == NINJS_SUPERDESK["guid"]
    assert article["title"] == "Island ferries cancelled as crews strike"
    assert article["summary"] == "All sailings to the islands are off until Monday."
    assert article["published_at"] == "2024-06-15T08:00:00+00:00"
    assert article["section"] == "FERRY-STRIKE" and article["authors"] == ["Maria Lopez"]
    assert article["metadata"]["guid"] == NINJS_SUPERDESK["guid"]
    ArticleIn.model_validate(article)


def test_an_object_that_is_neither_ninjs_nor_tidings_says_so() -> None:
    [item] = json_items({"guid": "urn:x", "type": "text", "title": "port-strike"}, source="desk").items
    assert item.data is None and item.field == "body"
    assert item.error is not None and item.error.startswith("not recognised as ninjs")


def test_a_ninjs_item_without_identity_names_uri() -> None:
    with pytest.raises(ChannelError) as caught:
        ninjs_article({k: v for k, v in NINJS_SUPERDESK.items() if k != "guid"}, source="desk")
    assert caught.value.field == "uri"


def test_ninjs_plain_text_escaped_twice_is_decoded_once() -> None:
    item = {**NINJS_SUPERDESK, "headline": "Q&amp;A: the ferry strike", "body_html": None}
    item["body_text"] = "Crews&#8217; pay is at stake &amp;amp; talks resume Monday."
    article = ninjs_article(item, source="desk")
    assert article["title"] == "Q&A: the ferry strike"
    assert article["body"] == "Crews’ pay is at stake &amp; talks resume Monday."


# NewsML-G2 -------------------------------------------------------------------------------------------------


def test_an_xhtml_body_leaves_out_its_metadata_header() -> None:
    [item] = xml_items(NEWSML_XHTML_HEADER, source="np").items
    article = item.data
    assert article is not None
    assert article["body"] == (
        "Hamburg (nordpresse) - An den vier großen Containerterminals standen am Mittwochmorgen die Brücken still."
        "\n\nDie Gewerkschaft fordert einen Inflationsausgleich für rund 12 000 Beschäftigte."
    )
    assert (
        article["summary"]
        == "Der Warnstreik im Hamburger Hafen hat den Umschlag am Mittwoch fast vollständig gestoppt."
    )
    for header_line in ("Hafen/Streik/Hamburg", "09:30", "Von Lena Brandt"):
        assert header_line not in article["body"]
    assert article["title"] == "Hafenarbeiter legen Containerterminals lahm"


def test_an_xhtml_body_that_is_all_header_keeps_it() -> None:
    doc = NEWSML_XHTML_HEADER.replace(b"</header>", b"").replace(b"<header>", b"")
    only_header = (
        NEWSML_XHTML_HEADER.split(b"</header>")[0]
        + b"</header></section></body></html></inlineXML></contentSet></newsItem>"
    )
    assert xml_items(doc, source="np").items[0].data is not None
    [item] = xml_items(only_header, source="np").items
    assert item.data is not None and "Der Warnstreik" in item.data["body"]


def test_inline_data_labelled_plain_text_holding_html_is_read_as_html() -> None:
    [item] = xml_items(NEWSML_INLINE_DATA_HTML, source="agenzia").items
    article = item.data
    assert article is not None
    assert article["body"] == (
        "The mobile barriers protecting Venice were raised on Thursday for an unusual summer tide."
        "\n\nThe city’s officials said the tide reached 110 centimetres."
    )
    assert "<p>" not in article["body"]


def test_inline_data_in_plain_text_stays_as_written() -> None:
    doc = (
        NEWSML_INLINE_DATA_HTML.replace(b"&lt;p&gt;The mobile", b"The mobile")
        .replace(b"tide.&lt;/p&gt;&lt;p&gt;The", b"tide.\n\nThe")
        .replace(b"centimetres.&lt;/p&gt;", b"centimetres. 3 &lt; 4")
    )
    [item] = xml_items(doc, source="agenzia").items
    assert item.data is not None
    assert item.data["body"].endswith("110 centimetres. 3 < 4")


def test_a_headline_only_the_embedded_nitf_carries_is_the_title() -> None:
    delivery = xml_items(NEWSML_EMBEDDED_NITF, source="desk")
    [item] = delivery.items
    article = item.data
    assert article is not None, item.error
    assert article["title"] == "Council approves harbour cycleway"
    assert article["body"].startswith("The council voted 11 to 4")
    ArticleIn.model_validate(article)


def test_a_newsitem_with_no_headline_anywhere_names_the_field() -> None:
    doc = NEWSML_EMBEDDED_NITF.replace(b"<head><title>Council approves harbour cycleway</title></head>", b"")
    [item] = xml_items(doc, source="desk").items
    assert item.data is None and item.field == "contentMeta.headline"


# Character references --------------------------------------------------------------------------------------


def test_feed_titles_and_bodies_have_their_references_decoded() -> None:
    first, second, _ = xml_items(ENTITIES_RSS, source="markets").items
    assert first.data is not None and second.data is not None
    assert first.data["title"] == "Q&A: what’s next for rates"
    assert first.data["body"] == "Economists answer readers’ questions on the central bank’s next move."
    assert second.data["title"] == "Gold climbs to $2150 an ounce"
    assert second.data["body"] == "Gold rose to $2150 as the dollar weakened & yields fell."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q&amp;A: what&#8217;s next", "Q&A: what’s next"),
        ("&#x0024;2150", "$2150"),
        ("AT&T and R&D &notes", "AT&T and R&D &notes"),  # no complete reference: left alone
        ("&amp;amp;", "&amp;"),  # decoded once, not until nothing is left
    ],
)
def test_references_in_text_without_tags(text: str, expected: str) -> None:
    assert decode_references(text) == expected
    assert text_from_html(text) == expected


# HTML pages ------------------------------------------------------------------------------------------------


def test_a_page_of_navigation_and_footer_only_has_no_main_text() -> None:
    assert extract_page(FURNITURE_ONLY_PAGE) is None
    with pytest.raises(ChannelError) as caught:
        article_from_html({"html": FURNITURE_ONLY_PAGE, "source": "site"})
    assert caught.value.field == "html"


def test_a_real_page_with_navigation_still_gives_its_text() -> None:
    page = extract_page(html_page())
    assert page is not None and page.text.startswith("A strong earthquake struck the city")


def test_ninjs_plain_text_with_a_less_than_sign_is_not_taken_for_html() -> None:
    item = {**NINJS_SUPERDESK, "headline": "Fares rise < 5% on island routes", "body_html": None}
    item["body_text"] = "Fares rise by less than 5%: 3 < 5.\n\nThe operator confirmed it."
    article = ninjs_article(item, source="desk")
    assert article["title"] == "Fares rise < 5% on island routes"
    assert article["body"] == "Fares rise by less than 5%: 3 < 5.\n\nThe operator confirmed it."


def test_ninjs_body_text_that_holds_html_is_read_as_html() -> None:
    item = {**NINJS_SUPERDESK, "body_html": None, "body_text": "<p>Crews walked out.</p><p>Talks resume Monday.</p>"}
    assert ninjs_article(item, source="desk")["body"] == "Crews walked out.\n\nTalks resume Monday."
