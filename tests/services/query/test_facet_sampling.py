"""Facets count the newest matches: all of them when few match, else a sample that says it is one. The
corpus is far smaller than the service's sample and window, so these tests shrink both."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.query.facets import facet_counts
from services.query.schemas import FacetsOut
from shared.db.models import Article
from shared.search.filters import SearchFilters, conditions
from tests.services.query.corpus import Corpus
from tests.support import with_async_session

pytestmark = pytest.mark.e2e


def _newest(engine: Engine, filters: SearchFilters, *extra: Any) -> list[Any]:
    with engine.connect() as conn:
        stmt = select(Article.id, Article.source).where(*conditions(filters), *extra)
        return list(conn.execute(stmt.order_by(Article.published_at.desc(), Article.id.desc())))


def _facets(filters: SearchFilters, **kwargs: Any) -> FacetsOut:
    return with_async_session(lambda session: facet_counts(session, filters, facets=("source",), size=100, **kwargs))


def _sources(out: FacetsOut) -> Counter[str]:
    return Counter({b.value: b.count for b in out.facets["source"]})


@pytest.mark.parametrize("params", [{}, {"q": "said"}, {"topic": ["04000000"]}], ids=["all", "q", "tag"])
def test_every_match_is_counted_when_the_sample_holds_them(corpus: Corpus, engine: Engine, params: dict) -> None:
    filters = SearchFilters.model_validate(params)
    matches = _newest(engine, filters)
    out = _facets(filters, sample_size=len(matches), budget=10_000)
    assert (out.considered, out.sampled) == (len(matches), False)
    assert _sources(out) == Counter(r.source for r in matches)


@pytest.mark.parametrize("params", [{}, {"q": "said"}, {"topic": ["04000000"]}], ids=["all", "q", "tag"])
def test_a_sample_is_the_newest_matches_and_says_so(corpus: Corpus, engine: Engine, params: dict) -> None:
    filters = SearchFilters.model_validate(params)
    matches = _newest(engine, filters)
    assert len(matches) > 3
    # Filter-only facets are summed from the counts kept per hour, never sampled: the live count is asked for.
    out = _facets(filters, sample_size=3, budget=10_000, use_hour_counts=False)
    assert (out.considered, out.sampled) == (3, True)
    assert _sources(out) == Counter(r.source for r in matches[:3])


def test_filter_only_facets_count_every_match_whatever_the_sample(corpus: Corpus, engine: Engine) -> None:
    filters = SearchFilters.model_validate({"source": ["agency-wire", "coastal-news"]})
    matches = _newest(engine, filters)
    assert len(matches) > 3
    out = _facets(filters, sample_size=3, budget=10_000)
    assert (out.considered, out.sampled) == (len(matches), False)
    assert _sources(out) == Counter(r.source for r in matches)


def test_a_window_holding_enough_matches_is_a_sample_of_the_newest_rows(corpus: Corpus, engine: Engine) -> None:
    filters = SearchFilters.model_validate({"q": "said"})
    newest_rows = _newest(engine, SearchFilters())[:12]
    edge_ids = {r.id for r in newest_rows}
    in_window = [r for r in _newest(engine, filters) if r.id in edge_ids]
    assert in_window, "some of the newest rows must match for this test to mean anything"
    out = _facets(filters, sample_size=100, budget=12, min_sample=1)
    assert (out.considered, out.sampled) == (len(in_window), True)
    assert _sources(out) == Counter(r.source for r in in_window)


def test_rare_matches_are_all_counted_even_beyond_the_window(corpus: Corpus, engine: Engine) -> None:
    filters = SearchFilters.model_validate({"q": "said"})
    matches = _newest(engine, filters)
    out = _facets(filters, sample_size=100, budget=2, min_sample=len(matches) + 1)
    assert (out.considered, out.sampled) == (len(matches), False)
    assert _sources(out) == Counter(r.source for r in matches)
