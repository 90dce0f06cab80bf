"""Clusters from their members: size, time span and the canonical member, by the configured policy.

Clusters are always recomputed from the ``articles`` rows that point at them, never adjusted by increments,
so a retried batch, a correction or two workers joining the same cluster one after the other all end with
the same row. Callers lock the cluster rows first (:func:`lock_clusters`) so the recount sees every member.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Text, and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import UUID, aggregate_order_by, insert
from sqlalchemy.sql import Executable

from shared.db.models import Article, Cluster
from shared.dedup.settings import CanonicalPolicy, DedupSettings


def canonical_order(s: DedupSettings) -> list[Any]:
    """Members best first: the first one is the canonical article. A withdrawn member never leads while
    another is not withdrawn, so a kill hides that copy and not its whole story."""
    live = Article.withdrawn_at.is_not(None).asc()
    earliest = [Article.published_at.asc(), Article.word_count.desc(), Article.id.asc()]
    if s.canonical_policy is CanonicalPolicy.longest:
        return [live, Article.word_count.desc(), Article.published_at.asc(), Article.id.asc()]
    if s.canonical_policy is CanonicalPolicy.preferred_source:
        rank = func.array_position(literal(list(s.preferred_sources), ARRAY(Text)), Article.source)
        return [live, rank.asc().nulls_last(), *earliest]
    return [live, *earliest]


def lock_clusters(ids: Sequence[uuid.UUID]) -> Executable:
    """Lock existing cluster rows in id order (one order everywhere, so no two transactions wait in a cycle)."""
    return select(Cluster.id).where(Cluster.id.in_(sorted(set(ids)))).order_by(Cluster.id).with_for_update()


def refresh_statements(ids: Sequence[uuid.UUID], s: DedupSettings) -> list[Executable]:
    """Statements that rebuild the clusters from their members, drop emptied ones, and point every member at
    its canonical article (``is_canonical``, ``duplicate_of``). Run them in order, after the members' rows."""
    ids = sorted(set(ids))
    canonical = func.array_agg(aggregate_order_by(Article.id, *canonical_order(s)), type_=ARRAY(UUID(as_uuid=True)))
    members = (
        select(
            Article.cluster_id,
            canonical[1],
            func.count(),
            func.min(Article.published_at),
            func.max(Article.published_at),
        )
        .where(Article.cluster_id.in_(ids))
        .group_by(Article.cluster_id)
    )
    upsert = insert(Cluster).from_select(
        ["id", "canonical_id", "size", "first_published_at", "last_published_at"], members
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[Cluster.id],
        set_={
            "canonical_id": upsert.excluded.canonical_id,
            "size": upsert.excluded.size,
            "first_published_at": upsert.excluded.first_published_at,
            "last_published_at": upsert.excluded.last_published_at,
            "updated_at": func.now(),
        },
        where=or_(
            Cluster.canonical_id.is_distinct_from(upsert.excluded.canonical_id),
            Cluster.size.is_distinct_from(upsert.excluded.size),
            Cluster.first_published_at.is_distinct_from(upsert.excluded.first_published_at),
            Cluster.last_published_at.is_distinct_from(upsert.excluded.last_published_at),
        ),
    )
    empty = delete(Cluster).where(
        Cluster.id.in_(ids), ~exists(select(Article.id).where(Article.cluster_id == Cluster.id))
    )
    is_canonical = Article.id == Cluster.canonical_id
    duplicate_of = case((Article.id == Cluster.canonical_id, None), else_=Cluster.canonical_id)
    members_fix = (
        update(Article)
        .where(
            and_(Article.cluster_id == Cluster.id, Cluster.id.in_(ids)),
            or_(
                Article.is_canonical.is_distinct_from(is_canonical), Article.duplicate_of.is_distinct_from(duplicate_of)
            ),
        )
        .values(is_canonical=is_canonical, duplicate_of=duplicate_of)
    )
    return [upsert, empty, members_fix]
