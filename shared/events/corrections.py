"""Users' corrections of event decisions: split an article out of its event, merge one event into another.

Both record an ``event_corrections`` row and move ``articles.event_id``; the events stage keeps an article's
event on reprocessing, so a correction stays. A merged event keeps its row with ``merged_into`` set, which a
worker that read the old event id just before the merge follows. Lock order as in the worker: event rows
by id, then article rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Article, Event, EventCorrection, EventDecision
from shared.events.engine import Rule
from shared.events.settings import EventSettings, engine_version
from shared.events.store import lock_events, refresh_statements
from shared.ids import uuid7


class NotProcessed(LookupError):
    """No processed article with this id (yet)."""


class NoEvent(LookupError):
    """No such event."""


class CannotMerge(ValueError):
    """The events cannot be merged (the same one, or one already merged away)."""


@dataclass(frozen=True)
class Split:
    article_id: uuid.UUID
    event_id: uuid.UUID
    previous_event_id: uuid.UUID | None
    moved: bool


async def split_article(
    session: AsyncSession, *, article_id: uuid.UUID, note: str | None, settings: EventSettings
) -> Split:
    """Take the article out of its event into one of its own, and remember it. Does not commit."""
    for _ in range(5):
        event_id = await session.scalar(select(Article.event_id).where(Article.id == article_id))
        if event_id is None:
            raise NotProcessed(article_id)
        (await session.execute(lock_events([event_id]))).all()
        locked = await session.scalar(select(Article.event_id).where(Article.id == article_id).with_for_update())
        if locked == event_id:
            break
        await session.rollback()  # it moved between the read and the lock: read again
    else:
        raise RuntimeError(f"article {article_id} keeps changing event")
    others = await session.scalar(
        select(Article.id).where(Article.event_id == event_id, Article.id != article_id).limit(1)
    )
    moved = others is not None
    new_event = uuid7() if moved else event_id
    if moved:
        await session.execute(update(Article).where(Article.id == article_id).values(event_id=new_event))
    decision = insert(EventDecision).values(
        article_id=article_id, event_id=new_event, rule=Rule.correction.value, engine_version=engine_version(settings)
    )
    await session.execute(
        decision.on_conflict_do_update(
            index_elements=[EventDecision.article_id],
            set_={
                "event_id": new_event,
                "rule": Rule.correction.value,
                "matched_id": None,
                "score": None,
                "text_similarity": None,
                "shared_entities": [],
                "hours_apart": None,
            },
        )
    )
    await session.execute(
        insert(EventCorrection).values(
            id=uuid7(),
            action="split",
            article_id=article_id,
            event_id=new_event,
            previous_event_id=event_id,
            note=note,
        )
    )
    for refresh in refresh_statements([event_id, new_event]):
        await session.execute(refresh)
    return Split(article_id=article_id, event_id=new_event, previous_event_id=event_id, moved=moved)


@dataclass(frozen=True)
class Merged:
    event_id: uuid.UUID
    into: uuid.UUID
    moved: int


async def merge_events(session: AsyncSession, *, event_id: uuid.UUID, into: uuid.UUID, note: str | None) -> Merged:
    """Move every article of ``event_id`` into ``into`` and remember it. Does not commit."""
    if event_id == into:
        raise CannotMerge("an event cannot be merged into itself")
    rows = {r.id: r.merged_into for r in await session.execute(lock_events([event_id, into]))}
    for wanted in (event_id, into):
        if wanted not in rows:
            raise NoEvent(wanted)
    if rows[into] is not None:
        raise CannotMerge(f"event {into} was merged into {rows[into]}; merge into that one")
    if rows[event_id] is not None:
        raise CannotMerge(f"event {event_id} was already merged into {rows[event_id]}")
    result = await session.execute(update(Article).where(Article.event_id == event_id).values(event_id=into))
    moved = int(getattr(result, "rowcount", 0) or 0)
    await session.execute(update(EventDecision).where(EventDecision.event_id == event_id).values(event_id=into))
    await session.execute(update(Event).where(Event.merged_into == event_id).values(merged_into=into))
    await session.execute(update(Event).where(Event.id == event_id).values(merged_into=into))
    await session.execute(
        insert(EventCorrection).values(
            id=uuid7(), action="merge", article_id=None, event_id=into, previous_event_id=event_id, note=note
        )
    )
    for refresh in refresh_statements([event_id, into]):
        await session.execute(refresh)
    return Merged(event_id=event_id, into=into, moved=moved)
