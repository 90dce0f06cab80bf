"""Reading single articles and story clusters: the article with its tags, a cluster's members, the largest
stories of a time window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.cursor import decode_cursor, decode_key, encode_cursor
from services.query.schemas import ArticleDetail, ClusterDetail, ClusterOut, ClusterPage, Member
from services.query.search import group_tags, items_by_ids, tags_json, to_item
from shared.api.errors import ApiError
from shared.db.models import Article, Cluster
from shared.schemas.articles import DedupDecision
from shared.search.filters import live_conditions


async def load_article(session: AsyncSession, article_id: uuid.UUID, *, with_tags: bool = True) -> ArticleDetail | None:
    """The article, and its tags in the same statement."""
    stmt: Select[Any]
    if with_tags:
        tg = tags_json(Article.id)
        stmt = select(Article, tg.c.tags).outerjoin(tg, true()).where(Article.id == article_id)
    else:
        stmt = select(Article).where(Article.id == article_id)
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    a: Article = row[0]
    return ArticleDetail(
        id=a.id,
        title=a.title,
        summary=a.summary,
        body=a.body,
        credit=a.credit,
        caption=a.caption,
        url=a.url,
        canonical_url=a.canonical_url,
        source=a.source,
        external_id=a.external_id,
        authors=a.authors,
        section=a.section,
        language=a.language,
        language_score=a.language_score,
        word_count=a.word_count,
        published_at=a.published_at,
        received_at=a.received_at,
        processed_at=a.processed_at,
        metadata=a.metadata_,
        dedup=DedupDecision(
            cluster_id=a.cluster_id,
            duplicate_of=a.duplicate_of,
            is_canonical=a.is_canonical,
            similarity=a.dedup_similarity,
            method=a.dedup_method,
            version=a.dedup_version,
        ),
        event_id=a.event_id,
        revision=a.revision,
        revised_at=a.revised_at,
        withdrawn_at=a.withdrawn_at,
        withdrawal_reason=a.withdrawal_reason,
        tags=group_tags(row[1]) if with_tags else {},
    )


def _member(r: Any) -> Member:
    return Member(
        id=r.id,
        title=r.title,
        source=r.source,
        url=r.url,
        language=r.language,
        published_at=r.published_at,
        is_canonical=r.is_canonical,
        duplicate_of=r.duplicate_of,
        similarity=r.dedup_similarity,
        method=r.dedup_method,
        version=r.dedup_version,
    )


async def cluster_members(
    session: AsyncSession,
    cluster_id: uuid.UUID | None,
    *,
    article_id: uuid.UUID | None = None,
    limit: int,
    include_withdrawn: bool = False,
) -> tuple[list[Member], bool]:
    """Members canonical first, then by publication; without a cluster, the articles marked as copies of
    ``article_id``. Returns (members, truncated)."""
    where = Article.cluster_id == cluster_id if cluster_id is not None else Article.duplicate_of == article_id
    rows = (
        await session.execute(
            select(
                Article.id,
                Article.title,
                Article.source,
                Article.url,
                Article.language,
                Article.published_at,
                Article.is_canonical,
                Article.duplicate_of,
                Article.dedup_similarity,
                Article.dedup_method,
                Article.dedup_version,
            )
            .where(where, *live_conditions(include_withdrawn=include_withdrawn))
            .order_by(Article.is_canonical.desc(), Article.published_at, Article.id)
            .limit(limit + 1)
        )
    ).all()
    return [_member(r) for r in rows[:limit]], len(rows) > limit


async def cluster_detail(
    session: AsyncSession, cluster_id: uuid.UUID, *, limit: int, include_withdrawn: bool = False
) -> ClusterDetail | None:
    """The story as its members stand: without ``include_withdrawn`` its size, sources and span count only
    the members not withdrawn, and a story with none of those is not found."""
    live = live_conditions(include_withdrawn=include_withdrawn)
    cluster = await session.get(Cluster, cluster_id)
    members, truncated = await cluster_members(session, cluster_id, limit=limit, include_withdrawn=include_withdrawn)
    stats = (
        await session.execute(
            select(
                func.count(), func.count(func.distinct(Article.source)), func.min(Article.published_at),
                func.max(Article.published_at),
            ).where(Article.cluster_id == cluster_id, *live)
        )
    ).one()  # fmt: skip
    if (cluster is None or live) and not stats[0]:
        return None
    canonical_id = cluster.canonical_id if cluster else next((m.id for m in members if m.is_canonical), None)
    canonical = None
    if canonical_id is not None:
        row = (await session.execute(items_by_ids([canonical_id]))).first()
        canonical = to_item(row) if row else None
    if canonical is not None and canonical.withdrawn and live:
        # The pipeline picks a live canonical article after a kill; until it has, show the first live member.
        row = (await session.execute(items_by_ids([members[0].id]))).first()
        canonical = to_item(row) if row else None
    if cluster is not None and not live:
        size, first, last = cluster.size, cluster.first_published_at, cluster.last_published_at
    else:
        size, first, last = stats[0], stats[2], stats[3]
    return ClusterDetail(
        id=cluster_id,
        size=size,
        first_published_at=first,
        last_published_at=last,
        canonical=canonical,
        sources=stats[1],
        members=members,
        members_truncated=truncated,
    )


async def largest_clusters(
    session: AsyncSession,
    *,
    date_from: datetime,
    date_to: datetime,
    min_size: int,
    cursor: str | None,
    limit: int,
    include_withdrawn: bool = False,
) -> ClusterPage:
    """Stories active in the window (their span overlaps it), largest first, keyset-paginated. Without
    ``include_withdrawn`` a story every member of which is withdrawn is left out: its canonical article is
    live while any member is."""
    window = f"{date_from.isoformat()}/{date_to.isoformat()}/{min_size}"
    stmt = select(Cluster).where(
        Cluster.last_published_at >= date_from,
        Cluster.first_published_at < date_to,
        Cluster.size >= min_size,
    )
    live = live_conditions(include_withdrawn=include_withdrawn)
    if live:
        stmt = stmt.where(exists(select(Article.id).where(Article.id == Cluster.canonical_id, *live)))
    if cursor:
        state = decode_cursor(cursor, required=("w", "k"))
        if state["w"] != window:
            raise ApiError(400, "invalid cursor: it belongs to another window", field="cursor")
        size, last, cid = decode_key(state["k"], "int", "moment", "uuid")
        stmt = stmt.where(tuple_(Cluster.size, Cluster.last_published_at, Cluster.id) < tuple_(size, last, cid))
    stmt = stmt.order_by(Cluster.size.desc(), Cluster.last_published_at.desc(), Cluster.id.desc()).limit(limit + 1)
    clusters = list((await session.scalars(stmt)).all())
    has_more = len(clusters) > limit
    clusters = clusters[:limit]
    canon = {}
    if clusters:
        canon = {r.id: to_item(r) for r in await session.execute(items_by_ids([c.canonical_id for c in clusters]))}
    items = [
        ClusterOut(
            id=c.id,
            size=c.size,
            first_published_at=c.first_published_at,
            last_published_at=c.last_published_at,
            canonical=canon.get(c.canonical_id),
        )
        for c in clusters
    ]
    next_cursor = None
    if has_more:
        last_c = clusters[-1]
        next_cursor = encode_cursor(
            {"w": window, "k": [last_c.size, last_c.last_published_at.isoformat(), str(last_c.id)]}
        )
    return ClusterPage(items=items, next_cursor=next_cursor)
