"""Facets: the top values per source, language and tag kind among the articles a search matches.

One statement: the matching articles (at most ``sample_size`` of them, the most recent, found as the listing
finds them: in the window of the newest rows the indexed filters allow, else everywhere, see
``services.query.search.Matches``) are materialised once, then counted per source and language, and joined
to their tags (through the tags' primary key, an index-only scan per article) for the tag facets; a window
function keeps the top ``size`` per facet, so only those rows leave the server: the sample's ids never make
a round trip through Python. When more articles match than the sample holds, the answer says so.

A filter-only request the counts kept per hour can answer is summed from them instead, exactly and at the
cost of its date range (``services.query.hour_counts``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Select, Text, column, func, literal, select, table, union_all
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.query import hour_counts
from services.query.facet_ranking import top_values
from services.query.schemas import FacetBucket, FacetsOut
from services.query.search import Matches
from shared.db.models import Article, ArticleTag
from shared.search.filters import SearchFilters
from shared.tagging.vocabulary import vocabulary

# Facet name → the tag kinds it counts (None: an article column), as the tag vocabulary defines them.
FACETS: dict[str, tuple[str, ...] | None] = vocabulary().facets
DEFAULT_FACETS = ("source", "language", "topic", "entity", "place")
# A sample drawn from the newest rows must hold at least this many matches, else all matches are read.
MIN_SAMPLE = 200


async def facet_counts(
    session: AsyncSession,
    filters: SearchFilters,
    *,
    facets: tuple[str, ...],
    size: int,
    sample_size: int,
    budget: int,
    min_sample: int = MIN_SAMPLE,
    use_hour_counts: bool = True,
    hour_counts_max_days: int = 2,
) -> FacetsOut:
    if use_hour_counts and hour_counts.facets_answerable(filters, facets, FACETS, max_days=hour_counts_max_days):
        return await hour_counts.facet_counts(session, filters, facets=facets, size=size, facet_kinds=FACETS)
    m = Matches(filters)
    columns = (Article.id, Article.published_at, Article.source, Article.language)
    if not m.selective:
        out, more = await _count(session, m.newest(*columns), facets=facets, size=size, sample_size=sample_size)
        return out.model_copy(update={"sampled": more})
    edge = await m.edge(session, budget)
    if edge is not None:
        out, more = await _count(session, m.window(edge, *columns), facets=facets, size=size, sample_size=sample_size)
        if out.considered >= min_sample:
            # Drawn from the newest `budget` of more rows: a sample, whatever its size.
            return out.model_copy(update={"sampled": True})
    # Rare matches (or few rows in all): count every match.
    out, more = await _count(session, m.everywhere(*columns), facets=facets, size=size, sample_size=sample_size)
    return out.model_copy(update={"sampled": more})


# The counting around the matches depends only on the facets, their size and the sample's: built once for each,
# over a table named like the CTE each request adds (building it anew cost more CPU than PostgreSQL spent
# running it).
_FOUND = table(
    "found",
    column("id", UUID(as_uuid=True)),
    column("published_at", DateTime(timezone=True)),
    column("source", Text),
    column("language", Text),
)


# Bounded: a caller picks the facets, their order and the size.
@lru_cache(maxsize=256)
def _counting(facets: tuple[str, ...], size: int, sample_size: int) -> Select[Any]:
    found = _FOUND
    matched = (
        select(found.c.id, found.c.source, found.c.language)
        .order_by(found.c.published_at.desc(), found.c.id.desc())
        .limit(sample_size)
        .cte("matched")
    )
    parts: list[Any] = [select(literal("_considered").label("facet"), literal("").label("value"),
                               literal("").label("kind"), func.count().label("n")).select_from(found)]  # fmt: skip
    tag_kinds = sorted({k for facet in facets for k in FACETS[facet] or ()})
    if tag_kinds:
        # One pass over the sample's tags for every tag facet asked for. Several taggers may give an article
        # the same tag: one row per article and tag, so the counts are of articles. The tags' primary key
        # (article_id, kind, value, tagger) answers this from the index alone.
        tagged = (
            select(ArticleTag.kind, ArticleTag.value)
            .join(matched, matched.c.id == ArticleTag.article_id)
            .where(ArticleTag.kind.in_(tag_kinds))
            .group_by(ArticleTag.article_id, ArticleTag.kind, ArticleTag.value)
            .cte("tagged")
        )
        per_value = (
            select(tagged.c.kind, tagged.c.value, func.count().label("n"))
            .group_by(tagged.c.kind, tagged.c.value)
            .cte("per_value")
        )
    for facet in facets:
        kinds = FACETS[facet]
        if kinds is None:
            column_ = matched.c.source if facet == "source" else func.coalesce(matched.c.language, "und")
            parts.append(select(literal(facet), column_, literal(""), func.count()).group_by(column_))
        else:
            parts.append(
                select(literal(facet), per_value.c.value, per_value.c.kind, per_value.c.n).where(
                    per_value.c.kind.in_(kinds)
                )
            )
    return top_values(union_all(*parts).subquery("counted"), size)


async def _count(
    session: AsyncSession, matches: Select[Any], *, facets: tuple[str, ...], size: int, sample_size: int
) -> tuple[FacetsOut, bool]:
    """One statement: the first ``sample_size`` of ``matches`` counted per facet; and whether more matched."""
    stmt = _counting(facets, size, sample_size).add_cte(matches.limit(sample_size + 1).cte("found"))
    rows = (await session.execute(stmt)).all()
    out: dict[str, list[FacetBucket]] = {facet: [] for facet in facets}
    considered = 0
    for r in rows:
        if r.facet == "_considered":
            considered = int(r.n)
            continue
        entity_kind = r.kind if FACETS[r.facet] is not None and len(FACETS[r.facet] or ()) > 1 else None
        out[r.facet].append(FacetBucket(value=r.value, name=r.name, count=int(r.n), kind=entity_kind))
    return FacetsOut(facets=out, considered=min(considered, sample_size), sampled=False), considered > sample_size
