"""Events in PostgreSQL: the rows the stage and the corrections read and rebuild.

Events are recomputed from the ``articles`` rows that point at them (size, copy clusters, sources, first and
last publication), never adjusted by increments, so a retried batch, a correction or two workers joining
one event one after the other all end with the same row. Lock order everywhere: event rows by id, then
article rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import distinct, func, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from shared.db.models import Article, Event, EventDecision
from shared.events.embedding import unpack
from shared.events.engine import EventFeatures, day_of


def lock_events(ids: Sequence[uuid.UUID]) -> Executable:
    """Lock existing event rows in id order, returning where each was merged into (if it was)."""
    return (
        select(Event.id, Event.merged_into).where(Event.id.in_(sorted(set(ids)))).order_by(Event.id).with_for_update()
    )


def refresh_statements(ids: Sequence[uuid.UUID]) -> list[Executable]:
    """Rebuild the events from their members; an event left without members keeps its row at size 0."""
    ids = sorted(set(ids))
    members = (
        select(
            Article.event_id,
            func.count(),
            func.count(distinct(Article.cluster_id)),
            func.count(distinct(Article.source)),
            func.min(Article.published_at),
            func.max(Article.published_at),
        )
        .where(Article.event_id.in_(ids))
        .group_by(Article.event_id)
    )
    upsert = insert(Event).from_select(
        ["id", "size", "cluster_count", "source_count", "first_published_at", "last_published_at"], members
    )
    columns = ("size", "cluster_count", "source_count", "first_published_at", "last_published_at")
    upsert = upsert.on_conflict_do_update(
        index_elements=[Event.id],
        set_={c: upsert.excluded[c] for c in columns} | {"updated_at": func.now()},
        where=or_(*(getattr(Event, c).is_distinct_from(upsert.excluded[c]) for c in columns)),
    )
    emptied = (
        update(Event)
        .where(Event.id.in_(ids), Event.size > 0, ~select(Article.id).where(Article.event_id == Event.id).exists())
        .values(size=0, cluster_count=0, source_count=0, updated_at=func.now())
    )
    return [upsert, emptied]


@dataclass(frozen=True)
class Known:
    """An article already in an event, as a candidate."""

    event_id: uuid.UUID
    features: EventFeatures


def load_known(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Known]:
    """The candidates' events and the features their decisions kept, in one query."""
    if not ids:
        return {}
    rows = session.execute(
        select(
            Article.id,
            Article.event_id,
            Article.published_at,
            EventDecision.vector,
            EventDecision.entities,
            EventDecision.details,
        )
        .join(EventDecision, EventDecision.article_id == Article.id)
        .where(Article.id.in_(sorted(set(ids))), Article.event_id.is_not(None))
    )
    return {
        r.id: Known(
            event_id=r.event_id,
            features=EventFeatures(
                vector=r.vector,
                entities=frozenset(r.entities),
                day=day_of(r.published_at),
                published_at=r.published_at,
                language=r.details.get("language") or "",
                anchors=r.details.get("anchors") or {},
                embedding=unpack(r.details["embedding"]) if r.details.get("embedding") else None,
            ),
        )
        for r in rows
    }


def load_bodies(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The stored bodies of a few articles (the second look's short list), in one query."""
    if not ids:
        return {}
    rows = session.execute(select(Article.id, Article.body).where(Article.id.in_(sorted(set(ids)))))
    return {r.id: r.body for r in rows}


def cluster_events(session: Session, cluster_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The event of each copy cluster's earliest member that has one."""
    if not cluster_ids:
        return {}
    rows = session.execute(
        select(Article.cluster_id, Article.event_id)
        .ext(distinct_on(Article.cluster_id))
        .where(Article.cluster_id.in_(sorted(set(cluster_ids))), Article.event_id.is_not(None))
        .order_by(Article.cluster_id, Article.id)
    )
    return {r.cluster_id: r.event_id for r in rows}
