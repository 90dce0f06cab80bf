"""The search definition: web-search syntax with field scopes, evaluated by PostgreSQL itself."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Engine, func, literal, literal_column, select

from shared.search.filters import SEARCH_CONFIG, SearchFilters, split_tag, tsquery

TITLE, SUMMARY, BODY = "Assad visits Aleppo", "A standfirst about Iran", "Fighting near Damascus. Hezbollah said so."


def _matches(engine: Engine, q: str) -> bool:
    doc = (
        func.setweight(func.to_tsvector(SEARCH_CONFIG, literal(TITLE)), literal_column("'A'"))
        .op("||")(func.setweight(func.to_tsvector(SEARCH_CONFIG, literal(SUMMARY)), literal_column("'B'")))
        .op("||")(func.setweight(func.to_tsvector(SEARCH_CONFIG, literal(BODY)), literal_column("'C'")))
    )
    with engine.connect() as conn:
        return bool(conn.scalar(select(doc.op("@@")(tsquery(q)))))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("aleppo", True),
        ("title:aleppo", True),
        ("body:aleppo", False),
        ("summary:iran", True),
        ("title:iran", False),
        ('title:"assad visits"', True),
        ('title:"visits assad"', False),
        ("title:damascus OR body:damascus", True),
        ("title:assad -body:hezbollah", False),
        ("title:assad -body:tehran", True),
        ("-title:assad", False),
        ("Title:ASSAD", True),
        ('assad "near damascus"', True),
        ("assad OR nonsense", True),
        ("assad nonsense", False),
        ("Aleppo -Damascus", False),
    ],
)
def test_field_scopes_restrict_terms_to_their_field(engine: Engine, q: str, expected: bool) -> None:
    assert _matches(engine, q) is expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
            st.sampled_from(["title:", "body:", "summary:", '"', "-", "OR", "or", "(", ")", "'", ":", "&", "|", "!"]),
        ),
        max_size=10,
    )
)
def test_any_query_text_is_valid_sql_never_an_error(engine: Engine, parts: list[str]) -> None:
    q = " ".join(parts).strip() or "x"
    _matches(engine, q)  # raises if PostgreSQL refuses the tsquery


def test_tags_split_on_known_kinds_only() -> None:
    assert split_tag("place:Damascus") == ("place", "Damascus")
    assert split_tag("rule:breaking") == ("rule", "breaking")
    assert split_tag("Hezbollah") == (None, "Hezbollah")
    assert split_tag("re: the summit") == (None, "re: the summit")


def test_filters_fingerprint_and_validation() -> None:
    a = SearchFilters.model_validate({"q": "oil", "source": ["reuters"], "from": "2025-01-01"})
    b = SearchFilters.model_validate({"source": ["reuters"], "q": "oil", "from": "2025-01-01T00:00:00Z"})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != SearchFilters.model_validate({"q": "oil"}).fingerprint()
    assert a.as_params() == {"q": "oil", "source": ["reuters"], "from": "2025-01-01T00:00:00Z"}
    topics = SearchFilters.model_validate({"topic": ["11000000", "Politics", "conflict, war and peace"]}).topic
    assert topics == ["11000000", "11000000", "16000000"]
    bad: list[dict[str, Any]] = [
        {"q": "a\x00b"},
        {"topic": ["war"]},
        {"topic": ["99000000"]},  # eight digits, but no IPTC subject
        {"language": ["EN"]},
        {"from": "2025-02-01", "to": "2025-01-01"},
        {"colour": "red"},
        {"source": ["x"] * 21},
    ]
    for raw in bad:
        with pytest.raises(ValidationError):
            SearchFilters.model_validate(raw)
