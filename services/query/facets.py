"""Facets: the top values per source, language and tag kind among the articles a search matches.

One statement: the matching articles (at most ``sample_size`` of them, the most recent, which the
``published_at`` index or the GIN bitmap yields without a full sort when the match set is large) are
materialised once, then counted per source and language, and joined to their tags (through the tags' primary
key, an index-only scan per article) for the tag facets; a window function keeps the top ``size`` per facet,
so only those rows leave the server. When more articles match than the sample holds, the answer says so.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.schemas import FacetBucket, FacetsOut
from services.query.search import id_in, recent_matches
from shared.db.models import Article, ArticleTag, TagKind
from shared.search.filters import SearchFilters, index_conditions, selective_conditions

# Facet name → the tag kinds it counts (None: an article column).
FACETS: dict[str, tuple[str, ...] | None] = {
    "source": None,
    "language": None,
    "topic": (TagKind.TOPIC,),
    "entity": (TagKind.PERSON, TagKind.ORGANISATION, TagKind.MISC),
    "place": (TagKind.PLACE,),
    "person": (TagKind.PERSON,),
    "organisation": (TagKind.ORGANISATION,),
    "keyword": (TagKind.KEYWORD,),
    "tone": (TagKind.TONE,),
    "rule": (TagKind.RULE,),
}
DEFAULT_FACETS = ("source", "language", "topic", "entity", "place")
# A sample drawn from the newest rows must hold at least this many matches, else all matches are read.
MIN_SAMPLE = 200


async def _sample(
    session: AsyncSession, filters: SearchFilters, *, sample_size: int, budget: int
) -> tuple[list[uuid.UUID], bool]:
    """The matches to count, and whether they are a sample rather than all of them."""
    found = await recent_matches(session, filters, n=sample_size + 1, budget=budget, enough=MIN_SAMPLE)
    ids = [r.id for r in found[:sample_size]]
    if len(found) > sample_size:
        return ids, True
    if not selective_conditions(filters) or len(found) < MIN_SAMPLE:
        return ids, False  # every match was read
    # The matches came from the newest `budget` rows: all of them only if the filters allow no more rows.
    rows = select(Article.id).where(*index_conditions(filters)).limit(budget + 1).subquery()
    return ids, bool((await session.scalar(select(func.count()).select_from(rows)) or 0) > budget)


async def facet_counts(
    session: AsyncSession,
    filters: SearchFilters,
    *,
    facets: tuple[str, ...],
    size: int,
    sample_size: int,
    budget: int,
) -> FacetsOut:
    ids, sampled = await _sample(session, filters, sample_size=sample_size, budget=budget)
    matched = select(Article.id, Article.source, Article.language).where(id_in(Article.id, ids)).cte("matched")
    parts: list[Any] = [select(literal("_considered").label("facet"), literal("").label("value"),
                               literal("").label("kind"), func.count().label("n")).select_from(matched)]  # fmt: skip
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
            column = matched.c.source if facet == "source" else func.coalesce(matched.c.language, "und")
            parts.append(select(literal(facet), column, literal(""), func.count()).group_by(column))
        else:
            parts.append(
                select(literal(facet), per_value.c.value, per_value.c.kind, per_value.c.n).where(
                    per_value.c.kind.in_(kinds)
                )
            )
    counted = union_all(*parts).subquery("counted")
    ranked = select(
        counted,
        func.row_number()
        .over(partition_by=counted.c.facet, order_by=(counted.c.n.desc(), counted.c.value))
        .label("rn"),
    ).subquery("ranked")
    # Display names only for the values shown: one index probe each.
    name = (
        select(ArticleTag.name)
        .where(ArticleTag.kind == ranked.c.kind, ArticleTag.value == ranked.c.value)
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            ranked.c.facet, ranked.c.value, ranked.c.kind, ranked.c.n, func.coalesce(name, ranked.c.value).label("name")
        )
        .where(ranked.c.rn <= size)
        .order_by(ranked.c.facet, ranked.c.rn)
    )
    rows = (await session.execute(stmt)).all()
    out: dict[str, list[FacetBucket]] = {facet: [] for facet in facets}
    considered = 0
    for r in rows:
        if r.facet == "_considered":
            considered = int(r.n)
            continue
        entity_kind = r.kind if FACETS[r.facet] is not None and len(FACETS[r.facet] or ()) > 1 else None
        out[r.facet].append(FacetBucket(value=r.value, name=r.name, count=int(r.n), kind=entity_kind))
    return FacetsOut(facets=out, considered=considered, sampled=sampled)
