"""Users' corrections of dedup decisions: "this article is not a duplicate".

The article leaves its cluster for a cluster of its own, the old cluster is rebuilt (a new canonical member
if it was the canonical one), and a ``dedup_corrections`` row records it, so reprocessing keeps the article
out (the dedup stage reads it). Lock order as in the worker: the cluster row, then the article row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Article, DedupCorrection, DedupDecision
from shared.dedup.clusters import lock_clusters, refresh_statements
from shared.dedup.engine import Method
from shared.dedup.settings import DedupSettings, engine_version
from shared.ids import uuid7


class NotProcessed(LookupError):
    """No processed article with this id (yet)."""


@dataclass(frozen=True)
class Corrected:
    article_id: uuid.UUID
    cluster_id: uuid.UUID
    previous_cluster_id: uuid.UUID | None
    moved: bool


async def mark_not_duplicate(
    session: AsyncSession, *, article_id: uuid.UUID, note: str | None, settings: DedupSettings
) -> Corrected:
    """Take the article out of its cluster and remember the correction. Idempotent. Does not commit."""
    for _ in range(5):
        cluster_id = await session.scalar(select(Article.cluster_id).where(Article.id == article_id))
        if cluster_id is None and not await session.scalar(select(func.count()).where(Article.id == article_id)):
            raise NotProcessed(article_id)
        if cluster_id is not None:
            (await session.execute(lock_clusters([cluster_id]))).all()
        locked = await session.scalar(select(Article.cluster_id).where(Article.id == article_id).with_for_update())
        if locked == cluster_id:
            break
        await session.rollback()  # it moved between the read and the lock: read again
    else:
        raise RuntimeError(f"article {article_id} keeps changing cluster")

    others = 0
    if cluster_id is not None:
        others = (
            await session.scalar(select(func.count()).where(Article.cluster_id == cluster_id, Article.id != article_id))
            or 0
        )
    moved = others > 0
    new_cluster = uuid7() if moved or cluster_id is None else cluster_id
    if moved or cluster_id is None:
        await session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(
                cluster_id=new_cluster,
                is_canonical=True,
                duplicate_of=None,
                dedup_similarity=None,
                dedup_method=Method.correction.value,
                dedup_version=engine_version(settings),
            )
        )
    stmt = insert(DedupCorrection).values(article_id=article_id, previous_cluster_id=cluster_id, note=note)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[DedupCorrection.article_id],
            # A repeated correction keeps the cluster it was first taken from.
            set_={"note": func.coalesce(stmt.excluded.note, DedupCorrection.note)},
        )
    )
    decision = insert(DedupDecision).values(
        article_id=article_id, matched_id=None, method=Method.correction.value, engine_version=engine_version(settings)
    )
    if moved:
        await session.execute(
            decision.on_conflict_do_update(
                index_elements=[DedupDecision.article_id],
                set_={
                    "matched_id": None,
                    "method": Method.correction.value,
                    "similarity": None,
                    "jaccard": None,
                    "containment": None,
                    "title_similarity": None,
                    "shared_bands": 0,
                    "engine_version": decision.excluded.engine_version,
                    "decided_at": func.now(),
                },
            )
        )
    touched = [c for c in (cluster_id, new_cluster) if c is not None]
    for refresh in refresh_statements(touched, settings):
        await session.execute(refresh)
    previous = await session.scalar(
        select(DedupCorrection.previous_cluster_id).where(DedupCorrection.article_id == article_id)
    )
    return Corrected(article_id=article_id, cluster_id=new_cluster, previous_cluster_id=previous, moved=moved)
