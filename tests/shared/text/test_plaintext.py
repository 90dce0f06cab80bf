"""The plain newsroom format, read from the real seed article."""

from __future__ import annotations

import pytest

from shared.text.plaintext import PlainTextError, parse_plain_article
from tests.support import SEED_ARTICLE


def test_seed_article_fields() -> None:
    article = parse_plain_article(SEED_ARTICLE.read_text(encoding="utf-8"))
    assert article.title == "Syrian troops on offensive in two main cities"
    assert article.summary == (
        "Clashes rage around Damascus and in Aleppo, as government attempts to retake opposition-held areas."
    )
    assert article.caption is not None and article.caption.endswith("[Reuters]")
    assert article.credit == "News Agencies"
    paragraphs = article.body.split("\n\n")
    assert paragraphs[0].startswith("Syrian troops have clashed with rebels")
    assert "Fighters summoned" in paragraphs, "a sub-heading stays in the body as its own paragraph"
    assert paragraphs[-1].startswith("More than 120,000 people have been killed")


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
