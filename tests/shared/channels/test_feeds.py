"""RSS and Atom entries become article payloads; entries without text are skipped with the reason."""

from __future__ import annotations

import pytest

from shared.channels.errors import MalformedError
from shared.channels.feeds import parse_feed
from shared.schemas.articles import ArticleIn
from tests.shared.channels.samples import ATOM, RSS


def test_rss_entries_map_to_articles() -> None:
    feed = parse_feed(RSS, source="example", url="https://news.example.com/rss")
    assert feed.version == "rss20"
    assert feed.title == "Example World News"
    first, summary_only = feed.articles
    assert first["title"] == "Floods close roads across the north & west"
    assert first["body"] == (
        "Heavy rain closed dozens of roads across the north and west on Tuesday.\n\n"
        "Forecasters warned that more rain was on the way."
    )
    assert "track()" not in first["body"]
    assert first["summary"] == "Heavy rain closed dozens of roads."
    assert first["external_id"] == "floods-2024-03-05"
    assert first["url"] == "https://news.example.com/floods?utm_source=rss"
    assert first["published_at"] == "2024-03-05T09:00:00+00:00"
    assert first["authors"] == ["Jane Doe"]
    assert first["language"] == "en"
    assert first["source"] == "example"
    assert first["metadata"]["categories"] == ["UK"]
    assert first["metadata"]["feed"] == {"title": "Example World News", "url": "https://news.example.com/rss"}
    assert summary_only["body"] == "Only a summary here, but it is the text we have."
    assert summary_only["external_id"] == "https://news.example.com/summary-only"
    for article in feed.articles:
        ArticleIn.model_validate(article)


def test_entries_without_text_are_skipped_with_the_reason() -> None:
    feed = parse_feed(RSS, source="example")
    skipped = [item for item in feed.items if item.data is None]
    assert [(s.index, s.error) for s in skipped] == [(2, "the entry has no text (no content and no summary)")]


def test_atom_entries_map_to_articles() -> None:
    feed = parse_feed(ATOM, source="exemple", url="https://exemple.fr/feed.atom")
    assert feed.version == "atom10"
    [article] = feed.articles
    assert article["title"] == "Le conseil vote le budget"
    assert article["body"] == "Le conseil municipal a vote le budget.\n\nDeuxieme paragraphe."
    assert article["url"] == "https://exemple.fr/articles/budget"
    assert article["external_id"] == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert article["authors"] == ["Marie Curie", "Pierre Curie"]
    assert article["language"] == "fr"
    assert article["published_at"] == "2024-03-05T09:30:00+00:00"


def test_an_entry_without_an_id_gets_a_stable_one() -> None:
    doc = b"""<rss version="2.0"><channel><title>t</title><item><title>A</title><description>Text.</description>
    </item></channel></rss>"""
    first = parse_feed(doc, source="s").articles[0]["external_id"]
    again = parse_feed(doc, source="s").articles[0]["external_id"]
    assert first == again
    assert first.startswith("sha256:")


@pytest.mark.parametrize("body", [b"not a feed at all", b"<html><body><p>a web page</p></body></html>"])
def test_what_is_not_a_feed_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedError, match="not an RSS or Atom feed"):
        parse_feed(body, source="s")
