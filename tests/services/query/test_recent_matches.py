"""The windowed search behind every listing (``recent_matches``) finds exactly the newest matches, whatever
the window: the corpus is far smaller than the service's budget, so these tests shrink the budget to make
the window's edge, the search beyond it and a keyset cursor all take part."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.search import recent_matches
from shared.db.models import Article
from shared.search.filters import SearchFilters, conditions
from tests.services.query.corpus import Corpus
from tests.support import with_async_session

pytestmark = pytest.mark.e2e

SEARCHES = [
    {"q": "said"},  # common
    {"q": "government OR election"},
    {"q": '"last year"'},  # a phrase: the GIN candidates need a recheck
    {"q": "said", "source": ["agency-wire", "coastal-news"]},
    {"topic": ["04000000"]},  # a tag filter alone
    {"q": "year", "topic": ["04000000"], "include_duplicates": True},
]


def _brute_force(engine: Engine, filters: SearchFilters, *, ascending: bool) -> list[tuple[Any, Any]]:
    order = (Article.published_at.asc(), Article.id.asc()) if ascending else (
        Article.published_at.desc(), Article.id.desc()
    )  # fmt: skip
    with engine.connect() as conn:
        stmt = select(Article.id, Article.published_at).where(*conditions(filters)).order_by(*order)
        return [(r.id, r.published_at) for r in conn.execute(stmt)]


def _windowed(filters: SearchFilters, **kwargs: Any) -> list[tuple[Any, Any]]:
    async def work(session: AsyncSession) -> list[tuple[Any, Any]]:
        return [(r.id, r.published_at) for r in await recent_matches(session, filters, **kwargs)]

    return with_async_session(work)


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("ascending", [False, True], ids=["newest", "oldest"])
def test_the_newest_matches_whatever_the_window(
    corpus: Corpus, engine: Engine, params: dict[str, Any], ascending: bool
) -> None:
    filters = SearchFilters.model_validate(params)
    every = _brute_force(engine, filters, ascending=ascending)
    assert len(every) >= 3, f"the corpus must match {params} several times for this test to mean anything"
    for budget in (1, 2, 5, 17, 10_000):  # a window of one row, a few rows, most of the corpus, all of it
        for n in (1, 3, len(every) + 5):
            got = _windowed(filters, n=n, budget=budget, ascending=ascending)
            assert got == every[:n], (params, budget, n)


@pytest.mark.parametrize("params", [{"q": "said"}, {"topic": ["04000000"]}], ids=["q", "tag"])
@pytest.mark.parametrize("ascending", [False, True], ids=["newest", "oldest"])
def test_a_cursor_continues_after_the_window_edge(
    corpus: Corpus, engine: Engine, params: dict[str, Any], ascending: bool
) -> None:
    filters = SearchFilters.model_validate(params)
    every = _brute_force(engine, filters, ascending=ascending)
    assert len(every) >= 7
    after = every[2]
    for budget in (1, 3, 10_000):
        got = _windowed(filters, n=4, budget=budget, ascending=ascending, after=(after[1], after[0]))
        assert got == every[3:7], budget


def test_a_sample_may_stop_at_the_window_when_it_holds_enough(corpus: Corpus, engine: Engine) -> None:
    """With ``enough`` (facet samples, relevance candidates), the matches inside the window suffice."""
    filters = SearchFilters.model_validate({"q": "said"})
    every = _brute_force(engine, filters, ascending=False)
    got = _windowed(filters, n=len(every), budget=len(every) // 2, enough=2)
    assert 2 <= len(got) < len(every)
    assert got == every[: len(got)]  # still the newest ones, in order
