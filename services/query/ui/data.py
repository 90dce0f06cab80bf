"""The few reads the pages need beyond the API's own functions: copies under each result, the newest stories
and their members, dedup evidence, backfills and queue depths. Each is one statement (or one Redis round
trip) for a whole page, never one per row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.schemas import ClusterOut
from services.query.search import id_in, items_by_ids, to_item
from shared.db.models import Article, BackfillJob, Cluster
from shared.db.models import DedupDecision as DecisionRow
from shared.tasks import QueueName


@dataclass
class Copies:
    """A story's other members as shown under its canonical article."""

    size: int
    members: list[Any] = field(default_factory=list)

    @property
    def others(self) -> int:
        return max(self.size - 1, 0)


async def copies_of(
    session: AsyncSession, cluster_ids: Sequence[uuid.UUID | None], *, per_cluster: int
) -> dict[uuid.UUID, Copies]:
    """Size and first non-canonical members of each cluster, in one statement."""
    ids = list(dict.fromkeys(c for c in cluster_ids if c is not None))
    if not ids:
        return {}
    rn = func.row_number().over(partition_by=Article.cluster_id, order_by=(Article.published_at, Article.id))
    members = (
        select(
            Article.id, Article.title, Article.source, Article.url, Article.published_at, Article.cluster_id,
            Article.dedup_method, Article.dedup_similarity, rn.label("rn"),
        )
        .where(id_in(Article.cluster_id, ids), Article.is_canonical.is_(False))
        .subquery("members")
    )  # fmt: skip
    sizes = (await session.execute(select(Cluster.id, Cluster.size).where(id_in(Cluster.id, ids)))).all()
    out = {r.id: Copies(size=r.size) for r in sizes}
    for r in await session.execute(select(members).where(members.c.rn <= per_cluster).order_by(members.c.rn)):
        out.setdefault(r.cluster_id, Copies(size=0)).members.append(r)
    for copies in out.values():
        copies.size = max(copies.size, len(copies.members) + 1)
    return out


async def newest_clusters(session: AsyncSession, *, limit: int, min_size: int = 1) -> list[ClusterOut]:
    """Stories by their latest article, newest first, with their canonical article."""
    clusters = list(
        (
            await session.scalars(
                select(Cluster)
                .where(Cluster.size >= min_size)
                .order_by(Cluster.last_published_at.desc(), Cluster.id.desc())
                .limit(limit)
            )
        ).all()
    )
    canon = {}
    if clusters:
        canon = {r.id: to_item(r) for r in await session.execute(items_by_ids([c.canonical_id for c in clusters]))}
    return [
        ClusterOut(
            id=c.id,
            size=c.size,
            first_published_at=c.first_published_at,
            last_published_at=c.last_published_at,
            canonical=canon.get(c.canonical_id),
        )
        for c in clusters
    ]


@dataclass
class Timeline:
    """When each of a story's (first ``limit``) members appeared, and from which sources."""

    moments: list[tuple[datetime, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


async def timelines(
    session: AsyncSession, cluster_ids: Sequence[uuid.UUID], *, per_cluster: int
) -> dict[uuid.UUID, Timeline]:
    ids = list(dict.fromkeys(cluster_ids))
    if not ids:
        return {}
    rn = func.row_number().over(partition_by=Article.cluster_id, order_by=(Article.published_at, Article.id))
    members = (
        select(Article.cluster_id, Article.published_at, Article.source, rn.label("rn"))
        .where(id_in(Article.cluster_id, ids))
        .subquery("members")
    )
    out: dict[uuid.UUID, Timeline] = {i: Timeline() for i in ids}
    for r in await session.execute(select(members).where(members.c.rn <= per_cluster).order_by(members.c.rn)):
        t = out[r.cluster_id]
        t.moments.append((r.published_at, r.source))
        if r.source not in t.sources:
            t.sources.append(r.source)
    return out


def timeline_points(t: Timeline, first: datetime, last: datetime, *, width: float) -> list[tuple[float, str, datetime]]:
    """x positions along ``width`` for each member (all at the middle when the story spans no time)."""
    span = (last - first).total_seconds()
    return [
        (round(width * ((m - first).total_seconds() / span) if span > 0 else width / 2, 2), source, m)
        for m, source in t.moments
    ]


async def dedup_evidence(session: AsyncSession, article_id: uuid.UUID) -> DecisionRow | None:
    """The dedup stage's record of why the article sits where it does (scores, shared LSH bands)."""
    decision: DecisionRow | None = await session.get(DecisionRow, article_id)
    return decision


async def recent_backfills(session: AsyncSession, *, limit: int) -> list[BackfillJob]:
    """Running and pending jobs first, then the latest finished ones."""
    active = BackfillJob.state.in_(("pending", "running"))
    rows = await session.scalars(
        select(BackfillJob).order_by(active.desc(), BackfillJob.created_at.desc()).limit(limit)
    )
    return list(rows.all())


async def queue_depths(redis: aioredis.Redis) -> dict[str, int]:
    """Tasks waiting in each Celery queue: the Redis transport keeps a queue as a list named after it."""
    async with redis.pipeline(transaction=False) as pipe:
        for name in QueueName.ALL:
            pipe.llen(name)
        lengths = await pipe.execute()
    return dict(zip(QueueName.ALL, (int(n) for n in lengths), strict=True))
