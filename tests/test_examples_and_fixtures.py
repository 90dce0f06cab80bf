"""The files in ``examples/`` and ``tests/fixtures/`` are what their READMEs say: each example reads as the format
it is documented as, each text in another language is identified as that language, briefs are all body."""

from __future__ import annotations

import json

import pytest

from shared.channels.html import extract_page
from shared.channels.payloads import json_items, xml_items
from shared.schemas.articles import ArticleIn, BatchIn
from shared.tagging.language import detect_language
from shared.text.plaintext import parse_plain_article
from tests.support import EXAMPLES, fixture_text


def test_the_plain_example_has_every_part_of_the_format() -> None:
    article = parse_plain_article((EXAMPLES / "article.txt").read_text(encoding="utf-8"))
    assert article.title.startswith("Lisbon council approves second bridge")
    assert article.summary is not None and article.summary.startswith("The 1.9 billion euro crossing")
    assert article.caption is not None and article.caption.endswith("[Tidings Photo]")
    assert "Work to start next year" in article.body.split("\n\n"), "the sub-heading is a paragraph of the body"
    assert article.credit == "Tidings Newsdesk" and "Source:" not in article.body


def test_the_json_examples_are_valid_requests() -> None:
    ArticleIn.model_validate(json.loads((EXAMPLES / "article.json").read_text(encoding="utf-8")))
    batch = BatchIn.model_validate(json.loads((EXAMPLES / "batch.json").read_text(encoding="utf-8")))
    valid = []
    for item in batch.articles:
        try:
            valid.append(ArticleIn.model_validate(item))
        except ValueError:
            assert "body" not in item, "only the item without a body is refused"
    assert len(valid) == 2 == len(batch.articles) - 1


@pytest.mark.parametrize(
    ("name", "fmt", "titles"),
    [
        ("feed.rss", "rss20", ["Wildfire forces evacuation of hillside villages", "Rail strike called off after late pay offer"]),
        ("newsml.xml", "newsml-g2", ["City closes flood barrier as spring tide meets storm surge"]),
        ("nitf.xml", "nitf", ["Orchestra names new principal conductor"]),
    ],
)  # fmt: skip
def test_the_xml_examples_read_as_their_format(name: str, fmt: str, titles: list[str]) -> None:
    delivery = xml_items((EXAMPLES / name).read_bytes(), source="examples")
    assert delivery.format == fmt
    assert [item.data["title"] for item in delivery.items if item.data] == titles
    for item in delivery.items:
        assert item.data is not None, item.error
        ArticleIn.model_validate(item.data)


def test_the_ninjs_example_reads_as_ninjs() -> None:
    delivery = json_items(json.loads((EXAMPLES / "ninjs.json").read_text(encoding="utf-8")), source="examples")
    [item] = delivery.items
    assert delivery.format == "ninjs" and item.data is not None
    assert item.data["title"] == "Harbour orders electric cranes to cut emissions"
    assert item.data["authors"] == ["Lena Fischer"] and item.data["credit"] == "Tidings Example Agency"
    assert item.data["body"].endswith("cut the port's emissions by a fifth.")


def test_the_html_page_gives_its_main_text_without_navigation_or_footer() -> None:
    page = extract_page(fixture_text("channels/earthquake.html"))
    assert page is not None
    assert page.title is not None and page.title.startswith("Earthquake shakes coastal towns")
    assert page.text.startswith("A magnitude 5.1 earthquake shook towns along the coast")
    assert "Schools in the area will open as normal" in page.text
    assert "Facebook" not in page.text and "Home" not in page.text.split()
    assert page.authors == ["Sara Kim"]


@pytest.mark.parametrize("language", ["de", "fr", "es", "zh", "ar", "ru", "th"])
def test_each_text_in_another_language_is_identified_as_that_language(language: str) -> None:
    assert detect_language(fixture_text(f"languages/{language}.txt")).code == language


@pytest.mark.parametrize("name", ["earnings", "dividend"])
def test_a_brief_is_a_headline_and_all_body(name: str) -> None:
    article = parse_plain_article(fixture_text(f"briefs/{name}.txt"))
    assert article.summary is None and article.caption is None
    assert article.body == fixture_text(f"briefs/{name}.txt").split("\n\n", 1)[1].strip()


def test_a_results_table_keeps_the_results_as_standfirst_and_the_table_as_body() -> None:
    article = parse_plain_article(fixture_text("briefs/results-table.txt"))
    assert article.title == "Football: Northern League results and table"
    assert article.summary is not None and article.summary.startswith("Saturday's results: Riverside Rovers 2")
    assert article.body.startswith("Table: 1. Riverside Rovers P30") and article.body.endswith("Pts 41.")
