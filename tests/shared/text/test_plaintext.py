"""The plain newsroom format, read from the project's newsroom article."""

from __future__ import annotations

import pytest

from shared.text.plaintext import PlainTextError, parse_plain_article
from tests.support import NEWSROOM_ARTICLE


def test_newsroom_article_fields() -> None:
    article = parse_plain_article(NEWSROOM_ARTICLE.read_text(encoding="utf-8"))
    assert article.title == "Sudanese army presses offensive on Omdurman as talks stall in Cairo"
    assert article.summary == (
        "Fighting spreads to the outskirts of Khartoum and El Fasher while mediators from Egypt and the African "
        "Union struggle to revive a ceasefire."
    )
    assert article.caption is not None and article.caption.endswith("[AFP]")
    assert article.credit == "News Agencies"
    paragraphs = article.body.split("\n\n")
    assert paragraphs[0].startswith("Sudan's army launched a fresh offensive")
    assert "Mediators call for restraint" in paragraphs, "a sub-heading stays in the body as its own paragraph"
    assert paragraphs[-1].startswith("More than ten million people have been forced from their homes")
    assert not any(p.startswith("Source:") for p in paragraphs)


def test_headline_and_one_paragraph_is_all_body() -> None:
    article = parse_plain_article("Markets rally\n\nShares rose sharply on Tuesday.")
    assert (article.title, article.summary, article.body) == ("Markets rally", None, "Shares rose sharply on Tuesday.")


@pytest.mark.parametrize(
    ("text", "field"),
    [("", "title"), ("   \n\n  ", "title"), ("Only a headline", "body")],
)
def test_unreadable_text_names_the_missing_field(text: str, field: str) -> None:
    with pytest.raises(PlainTextError) as err:
        parse_plain_article(text)
    assert err.value.field == field
