"""Store accepted articles as ingestion rows: one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` per batch.

Replays are resolved by the ``(source, external_id)`` unique index rather than by a look-up first, so two
deliveries of one article racing each other still end in one row. What happens to an article that meets an
existing row is decided in one place, :func:`_meets_existing`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.db.models import Ingestion
from shared.ids import uuid7
from shared.intake.idempotency import IdempotencyKeyRef, remember
from shared.schemas.articles import ArticleIn

# PostgreSQL takes at most 65,535 bound parameters per statement (six a row here). Every HTTP batch is far
# below this, so it stays one statement; only an unusually long feed is split.
_MAX_ROWS_PER_INSERT = 5_000

# One index probe per replayed key (a row-value IN list would scan every row of the source instead).
_FIRST_BY_NATURAL_KEY = text(
    "SELECT i.source, i.external_id, i.id, i.state FROM ingestions AS i"
    " JOIN unnest(CAST(:sources AS text[]), CAST(:external_ids AS text[])) AS k(source, external_id)"
    " ON i.source = k.source AND i.external_id = k.external_id"
    " WHERE i.external_id IS NOT NULL"
)


@dataclass(frozen=True)
class Stored:
    """What became of one article: its row's id and state, and whether it was a replay of an earlier one."""

    id: uuid.UUID
    state: str
    duplicate: bool


@dataclass(frozen=True)
class Existing:
    """The row an article's ``(source, external_id)`` already names."""

    id: uuid.UUID
    state: str


@dataclass(frozen=True)
class Taken:
    """The outcome of :func:`take_in`: one :class:`Stored` per article, and what the queue step needs."""

    stored: list[Stored]
    channel: str
    request_id: str | None
    answer: dict[str, Any] | None = None
    # The error codes of the items refused from an accepted request (answered 2xx all the same).
    rejected: tuple[str, ...] = ()

    @property
    def fresh(self) -> list[uuid.UUID]:
        """The ids that need processing: new rows, each once, in order."""
        return list(dict.fromkeys(s.id for s in self.stored if not s.duplicate))


def insert_statement(
    articles: Sequence[ArticleIn], ids: Sequence[uuid.UUID], *, channel: str, request_id: str | None
) -> Insert:
    """The multi-row INSERT of ``articles`` under ``ids``; it returns the ids of the rows it created."""
    rows = [
        {
            "id": new_id,
            "source": a.source,
            "external_id": a.external_id,
            "channel": channel,
            "payload": a.payload(),
            "request_id": request_id,
        }
        for new_id, a in zip(ids, articles, strict=True)
    ]
    return (
        insert(Ingestion)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["source", "external_id"], index_where=Ingestion.external_id.isnot(None))
        .returning(Ingestion.id)
    )


def _meets_existing(article: ArticleIn, existing: Existing) -> Stored:
    """An article whose ``(source, external_id)`` is stored already. Today always a replay: the caller gets
    the first article's id and state back and nothing is queued. This is where telling a replay from a
    revision (same key, other content) belongs."""
    return Stored(id=existing.id, state=existing.state, duplicate=True)


def store(session: Session, *, articles: Sequence[ArticleIn], channel: str, request_id: str | None) -> list[Stored]:
    """Insert the articles; one result per input, in order. Does not commit."""
    if not articles:
        return []
    ids = [uuid7() for _ in articles]
    inserted: set[uuid.UUID] = set()
    for start in range(0, len(articles), _MAX_ROWS_PER_INSERT):
        end = start + _MAX_ROWS_PER_INSERT
        stmt = insert_statement(articles[start:end], ids[start:end], channel=channel, request_id=request_id)
        inserted.update(session.scalars(stmt).all())

    keys = list({(a.source, a.external_id) for a, i in zip(articles, ids, strict=True) if i not in inserted})
    existing: dict[tuple[str, str | None], Existing] = {}
    if keys:
        found = session.execute(
            _FIRST_BY_NATURAL_KEY, {"sources": [s for s, _ in keys], "external_ids": [e for _, e in keys]}
        )
        existing = {(s, e): Existing(id=i, state=st) for s, e, i, st in found}

    return [
        Stored(id=new_id, state="accepted", duplicate=False)
        if new_id in inserted
        else _meets_existing(article, existing[(article.source, article.external_id)])
        for article, new_id in zip(articles, ids, strict=True)
    ]


def take_in(
    session: Session,
    *,
    articles: Sequence[ArticleIn],
    channel: str,
    request_id: str | None,
    answer: Callable[[list[Stored]], dict[str, Any]] | None = None,
    key: IdempotencyKeyRef | None = None,
    rejected: Sequence[str] = (),
) -> Taken:
    """Store the articles and, when the request carried an idempotency key (claimed before with
    :func:`~shared.intake.idempotency.claim`), record ``answer`` under it in the same transaction, so the key
    never outlives or precedes its effect. Does not commit."""
    stored = store(session, articles=articles, channel=channel, request_id=request_id)
    body = answer(stored) if answer is not None else None
    if key is not None and body is not None:
        remember(session, key, status=202, body=body)
    return Taken(stored=stored, channel=channel, request_id=request_id, answer=body, rejected=tuple(rejected))
