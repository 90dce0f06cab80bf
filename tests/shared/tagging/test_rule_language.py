"""The rule language: what matches, and errors that name the position of the problem."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.tagging.rule_language import Matchable, RuleSyntaxError, matches, parse

ARTICLE = Matchable(
    {
        "title": "Syrian troops on offensive in two main cities",
        "summary": "Clashes rage around Damascus and in Aleppo.",
        "body": "Activists said President Bashar al-Assad’s troops were backed by Hezbollah. Economic hardship grows.",
        "caption": "Assad troops [Reuters]",
        "source": "Al Jazeera",
        "section": "Middle East",
        "language": "en",
    }
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("syrian", True),
        ("SYRIAN", True),
        ("syria", False),  # whole words only
        ("syria*", True),  # prefix
        ("econom*", True),
        ('"bashar al-assad"', True),  # phrase across punctuation
        ("al-assad", True),  # a hyphenated word is a phrase
        ('"assad bashar"', False),  # order matters
        ("assad", True),  # the possessive does not hide the name
        ("aleppo AND damascus", True),
        ("aleppo damascus", True),  # adjacent terms: AND
        ("aleppo AND baghdad", False),
        ("baghdad OR aleppo", True),
        ("NOT baghdad", True),
        ("NOT aleppo", False),
        ("aleppo AND NOT (baghdad OR mosul)", True),
        ("(aleppo OR baghdad) AND NOT hezbollah", False),
        ("title:troops", True),
        ("title:damascus", False),
        ("summary:damascus", True),
        ("body:damascus", False),
        ("caption:reuters", True),
        ("title:(troops AND cities)", True),
        ("title:(troops AND damascus)", False),
        ("source:jazeera", True),
        ('section:"middle east"', True),
        ("language:en AND NOT language:de", True),
        ("zurich", False),
        ("troops OR (NOT x AND y)", True),
        ("a OR b AND c", False),  # AND binds tighter than OR: a OR (b AND c)
        ("syrian OR b AND c", True),
    ],
)
def test_matching(expression: str, expected: bool) -> None:
    assert matches(parse(expression), ARTICLE) is expected


def test_accents_and_case_are_ignored() -> None:
    doc = Matchable({"title": "Grève à ZÜRICH", "body": ""})
    assert matches(parse("zurich AND greve"), doc)
    assert matches(parse('"Zürich"'), doc)


def test_a_phrase_does_not_span_two_fields() -> None:
    doc = Matchable({"title": "Talks in Geneva", "summary": "Peace is near", "body": ""})
    assert not matches(parse('"geneva peace"'), doc)
    assert matches(parse("geneva peace"), doc)


@pytest.mark.parametrize(
    ("expression", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("(syria", 0, "never closed"),
        ("syria AND (iraq OR iran", 10, "never closed"),
        ("syria)", 5, 'no "("'),
        ("syria AND", 9, "term is expected after AND"),
        ("syria OR OR iraq", 9, "after OR"),
        ("AND syria", 0, "needs a term before it"),
        ("NOT", 3, "after NOT"),
        ('"bashar al-assad', 0, "closing quote"),
        ('syria AND "', 10, "closing quote"),
        ("titel:syria", 0, "unknown field 'titel'"),
        ("syria AND title:", 16, "needs a word"),
        ("()", 1, "empty parentheses"),
        ('""', 0, "phrase is empty"),
        ("syria AND ***", 10, "no letter or digit"),
        ("sy*ria", 2, "only at the end"),
        (":syria", 0, "colon"),
        ("title:body:syria", 6, "needs a word"),
        ("title:(body:syria)", 7, "cannot hold another field"),
    ],
)
def test_errors_name_the_position(expression: str, position: int, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as err:
        parse(expression)
    assert err.value.position == position, err.value
    assert fragment in err.value.message
    assert f"at position {position}" in str(err.value)


def test_limits() -> None:
    with pytest.raises(RuleSyntaxError, match="longer than"):
        parse("a " * 1500)
    with pytest.raises(RuleSyntaxError, match="nested"):
        parse("(" * 40 + "a" + ")" * 40)


@given(st.text(alphabet=st.sampled_from(list('ab "():*-AND OR NOT title:é')), max_size=40))
def test_any_input_parses_or_fails_with_a_position(expression: str) -> None:
    try:
        node = parse(expression)
    except RuleSyntaxError as exc:
        assert 0 <= exc.position <= len(expression)
    else:
        assert isinstance(matches(node, ARTICLE), bool)
