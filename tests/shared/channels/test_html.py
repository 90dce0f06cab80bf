"""HTML: whole pages give their main text and metadata (trafilatura); fragments give paragraph text."""

from __future__ import annotations

import pytest

from shared.channels.errors import ChannelError
from shared.channels.html import article_from_html, extract_page
from shared.channels.htmltext import text_from_html
from shared.schemas.articles import ArticleIn
from tests.shared.channels.samples import html_page


def test_a_page_gives_its_main_text_without_boilerplate() -> None:
    page = extract_page(html_page())
    assert page is not None
    assert page.title == "Quake hits city"
    assert page.text.startswith("A strong earthquake struck the city early on Tuesday")
    assert "\n\nPower cut\n\n" in page.text
    assert "Privacy policy" not in page.text and "Sport" not in page.text
    assert page.authors == ["Jane Doe"]
    assert page.published_at is not None and page.published_at.isoformat() == "2024-03-05T10:15:00+02:00"
    assert page.description == "A strong earthquake struck the city early on Tuesday."


def test_an_html_payload_becomes_an_article_and_sent_fields_win() -> None:
    data = article_from_html(
        {"html": html_page(), "source": "daily", "external_id": "q-1", "title": "Sender's own headline"}
    )
    assert "html" not in data
    assert data["title"] == "Sender's own headline"
    assert data["authors"] == ["Jane Doe"]
    assert data["published_at"] == "2024-03-05T10:15:00+02:00"
    assert data["summary"] == "A strong earthquake struck the city early on Tuesday."
    assert data["metadata"]["extraction"]["from"] == "html"
    article = ArticleIn.model_validate(data)
    assert article.body.startswith("A strong earthquake")


@pytest.mark.parametrize("html", ["<html><body><script>track()</script></body></html>", "", "<p></p>"])
def test_a_page_without_text_is_refused_naming_html(html: str) -> None:
    with pytest.raises(ChannelError) as caught:
        article_from_html({"html": html})
    assert caught.value.field == "html"


def test_fragments_keep_paragraphs_and_drop_scripts() -> None:
    assert text_from_html("<p>One <b>two</b></p><p>Three<br>four</p><script>x()</script>tail &amp; end") == (
        "One two\n\nThree four\n\ntail & end"
    )
    assert text_from_html("plain\n\ntext") == "plain\n\ntext"
    assert text_from_html("") == ""
