"""Related articles: other stories that share the article's entities, places, topics and key terms.

Each of the article's tags proposes up to ``per_tag`` recent articles carrying the same tag (ids are UUIDv7,
so the ``(kind, value, article_id)`` index read backwards yields the newest first, and a very common tag cannot
flood the candidates). A shared tag counts its score times its rarity: a tag that found fewer candidates than
the cap is rarer and weighs more (1 + ln(cap / found)); entities and places weigh more than keywords, and
topics least. Copies of the article (its cluster) and non-canonical articles are left out: those are its
duplicates, not related stories. An article without tags falls back to its title terms in a month around it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Float, String, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.schemas import ArticleDetail, SimilarItem
from services.query.search import ITEM_COLUMNS, tags_json, to_item
from shared.db.models import Article
from shared.search.filters import SEARCH_CONFIG

KIND_WEIGHT = {"person": 1.0, "organisation": 1.0, "place": 0.8, "misc": 0.6, "keyword": 0.6, "topic": 0.2}
MAX_TAGS = 24

_CANDIDATES = text(
    """
    WITH mine AS (
        SELECT t.kind, t.value, max(t.score) * min(w.weight) AS weight
        FROM article_tags t
        JOIN unnest(CAST(:kinds AS text[]), CAST(:weights AS float8[])) AS w(kind, weight) ON w.kind = t.kind
        WHERE t.article_id = :article_id
        GROUP BY t.kind, t.value
        ORDER BY 3 DESC
        LIMIT :max_tags
    ),
    found AS (
        SELECT m.kind, m.value, m.weight, c.article_id, count(*) OVER (PARTITION BY m.kind, m.value) AS n
        FROM mine m
        CROSS JOIN LATERAL (
            SELECT DISTINCT t.article_id
            FROM article_tags t
            WHERE t.kind = m.kind AND t.value = m.value AND t.article_id <> :article_id
            ORDER BY t.article_id DESC
            LIMIT :per_tag
        ) c
    )
    SELECT f.article_id,
           sum(f.weight * (1 + ln(CAST(:per_tag AS float8) / f.n))) AS score,
           array_agg(f.kind || ':' || f.value ORDER BY f.weight DESC) AS shared
    FROM found f
    JOIN articles a ON a.id = f.article_id
    WHERE a.is_canonical AND a.cluster_id IS DISTINCT FROM :cluster_id
    GROUP BY f.article_id
    ORDER BY score DESC, f.article_id DESC
    LIMIT :limit
    """
)


async def similar_articles(
    session: AsyncSession, article: ArticleDetail, *, limit: int, per_tag: int
) -> list[SimilarItem]:
    if any(kind in KIND_WEIGHT for kind in article.tags):
        scored = (
            await session.execute(
                _CANDIDATES,
                {
                    "article_id": article.id,
                    "kinds": list(KIND_WEIGHT),
                    "weights": list(KIND_WEIGHT.values()),
                    "max_tags": MAX_TAGS,
                    "per_tag": per_tag,
                    "cluster_id": article.dedup.cluster_id,
                    "limit": limit,
                },
            )
        ).all()
        ranked = [(r.article_id, float(r.score), list(r.shared)) for r in scored]
    else:
        ranked = await _by_title_terms(session, article, limit=limit)
    if not ranked:
        return []
    tg = tags_json(Article.id)
    rows = {
        r.id: r
        for r in await session.execute(
            select(*ITEM_COLUMNS, tg.c.tags)
            .outerjoin(tg, literal_column("true"))
            .where(Article.id.in_([i for i, _, _ in ranked]))
        )
    }
    out = []
    for article_id, score, shared in ranked:
        if article_id in rows:
            item = to_item(rows[article_id])
            fields = {name: getattr(item, name) for name in type(item).model_fields}
            out.append(SimilarItem.model_construct(**fields, score=round(score, 4), shared=shared))
    return out


async def _by_title_terms(
    session: AsyncSession, article: ArticleDetail, *, limit: int
) -> list[tuple[Any, float, list[str]]]:
    """Fallback without tags: any of the title's terms, ranked, within a month either side."""
    query = func.replace(func.cast(func.plainto_tsquery(SEARCH_CONFIG, article.title), String), " & ", " | ")
    tsq = func.to_tsquery(SEARCH_CONFIG, query)
    rank = func.cast(func.ts_rank(Article.search_vector, tsq), Float)
    rows = (
        await session.execute(
            select(Article.id, rank.label("rank"))
            .where(
                Article.search_vector.op("@@")(tsq),
                Article.id != article.id,
                Article.is_canonical,
                Article.published_at >= article.published_at - timedelta(days=30),
                Article.published_at < article.published_at + timedelta(days=30),
                Article.cluster_id.is_distinct_from(article.dedup.cluster_id),
            )
            .order_by(rank.desc(), Article.id.desc())
            .limit(limit)
        )
    ).all()
    return [(r.id, float(r.rank), []) for r in rows]
