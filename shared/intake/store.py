"""Store accepted articles as ingestion rows: one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` per batch.

Replays are resolved by the ``(source, external_id)`` unique index rather than by a look-up first, so two
deliveries of one article racing each other still end in one row. An article that meets an existing row is
decided under that row's lock (``SELECT ... FOR UPDATE``, in id order; a delivery repeating the current text
takes no lock): the same content as any revision held is a replay, other content a revision, a kill a
withdrawal (``shared.revisions`` decides, a pure function). Two requests revising one article at the same
moment are serialised on that lock, so both revisions are kept and numbered in the order they were decided;
the history rows are read after the lock is granted, by their own statement, so the second request sees what
the first one wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from shared.db.models import Article, ArticleRevision, Ingestion, IngestionState
from shared.ids import uuid7
from shared.intake.idempotency import IdempotencyKeyRef, remember
from shared.revisions import (
    EVENT_REVISED,
    EVENT_WITHDRAWN,
    Held,
    Incoming,
    Order,
    Outcome,
    RevisionConflict,
    check_new,
    content_digest,
    decide,
)
from shared.schemas.articles import ArticleIn

# Every HTTP batch is one statement; only an unusually long feed is split, to bound the statement's size.
_MAX_ROWS_PER_INSERT = 5_000

# One index probe per replayed key (a row-value IN list would scan every row of the source instead).
_HELD_BY_NATURAL_KEY = (
    "SELECT i.source, i.external_id, i.id, i.state, i.revision, i.payload, i.version, i.version_created,"
    " i.withdrawn_at, i.channel, i.received_at FROM ingestions AS i"
    " JOIN unnest(CAST(:sources AS text[]), CAST(:external_ids AS text[])) AS k(source, external_id)"
    " ON i.source = k.source AND i.external_id = k.external_id"
    " WHERE i.external_id IS NOT NULL ORDER BY i.id"
)
_READ_HELD = text(_HELD_BY_NATURAL_KEY)
# Locked in id order, so two requests holding the same articles never wait on each other in a cycle.
_LOCK_HELD = text(_HELD_BY_NATURAL_KEY + " FOR UPDATE OF i")

Key = tuple[str, str | None]


@dataclass(frozen=True)
class Stored:
    id: uuid.UUID
    state: str
    duplicate: bool
    revision: int = 1
    outcome: Outcome = Outcome.created
    conflict: RevisionConflict | None = None

    @property
    def queued(self) -> bool:
        """Whether the pipeline has work for it: a new article, a new current revision, a withdrawal."""
        return self.conflict is None and self.outcome in (Outcome.created, Outcome.revised, Outcome.withdrawn)


def incoming_of(article: ArticleIn, *, if_match: int | None = None) -> Incoming:
    return Incoming(
        digest=content_digest(article.payload()),
        version=article.version,
        version_created=article.version_created,
        withdraw=bool(article.withdrawn),
        if_match=if_match,
        revision=article.revision,
    )


@dataclass
class _Row:
    """A stored ingestion under its lock, and what this request does to it."""

    id: uuid.UUID
    state: str
    payload: dict[str, Any]
    channel: str
    received_at: datetime
    held: Held
    first_revision: int
    original: dict[str, Any]  # the current revision's payload and ordering when the lock was granted
    revisions: list[dict[str, Any]]
    changed: bool = False
    withdraw_reason: str | None = None
    withdrawn: bool = False
    request_id: str | None = None  # the request whose change is made current


def store(
    session: Session,
    *,
    articles: Sequence[ArticleIn],
    channel: str,
    request_id: str | None,
    if_match: int | None = None,
    request_ids: Sequence[str | None] | None = None,
) -> list[Stored]:
    """Insert the articles; a replay of ``(source, external_id)`` gets the first article's id back, a
    revision is recorded and made current when it is the newest (see the module docstring).
    ``request_ids`` gives each article its own request (a group commit); otherwise all share ``request_id``.

    Returns one result per input, in order; a refused precondition is a result with ``conflict`` set (the
    caller answers it). Does not commit.
    """
    if not articles:
        return []
    ids = [uuid7() for _ in articles]
    request_of = dict(zip(ids, request_ids if request_ids is not None else [request_id] * len(ids), strict=True))
    # A precondition on an existing revision never creates the article: it only revises it.
    insertable = [
        (new_id, a) for new_id, a in zip(ids, articles, strict=True) if if_match is None and a.revision in (None, 1)
    ]
    inserted: set[uuid.UUID] = set()
    for start in range(0, len(insertable), _MAX_ROWS_PER_INSERT):
        part = insertable[start : start + _MAX_ROWS_PER_INSERT]
        inserted |= insert_rows(
            session, [a for _, a in part], [i for i, _ in part], channel=channel,
            request_ids=[request_of[i] for i, _ in part],
        )  # fmt: skip

    # What the others bring, digest included, is worked out only for them: a new article needs none of it.
    incoming = {i: incoming_of(a, if_match=if_match) for a, i in zip(articles, ids, strict=True) if i not in inserted}
    wanted: dict[Key, list[Incoming]] = {}
    for a, i in zip(articles, ids, strict=True):
        if i in incoming and a.external_id is not None:
            wanted.setdefault((a.source, a.external_id), []).append(incoming[i])
    held = _held(session, wanted) if wanted else {}

    results = []
    for article, new_id in zip(articles, ids, strict=True):
        if new_id in inserted:
            results.append(Stored(id=new_id, state="accepted", duplicate=False))
            continue
        inc = incoming[new_id]
        row = held.get((article.source, article.external_id)) if article.external_id is not None else None
        if row is None:
            # No such article (a precondition named one, or no external_id at all: never a conflict then).
            try:
                check_new(inc)
            except RevisionConflict as exc:
                results.append(Stored(id=new_id, state="refused", duplicate=False, revision=0, conflict=exc))
                continue
            raise AssertionError("an article without a stored row was not inserted")  # pragma: no cover
        results.append(_apply(row, article, inc, channel=channel, request_id=request_of[new_id]))
    _write(session, list(held.values()))
    return results


def _keys_params(keys: Sequence[Key]) -> dict[str, list[Any]]:
    return {"sources": [s for s, _ in keys], "external_ids": [e for _, e in keys]}


def _held(session: Session, wanted: dict[Key, list[Incoming]]) -> dict[Key, _Row]:
    """The stored rows of ``wanted``'s keys. A key whose every arrival repeats its current content is a
    replay whatever else happens (the history only grows), so it is read without a lock: re-sent feeds and
    batches cost no row locks. The others are locked, then read with their history."""
    found = session.execute(_READ_HELD, _keys_params(list(wanted))).all()
    quick = {
        (r.source, r.external_id): r
        for r in found
        if all(
            inc.digest == content_digest(r.payload) and (not inc.withdraw or r.withdrawn_at is not None)
            for inc in wanted[(r.source, r.external_id)]
        )
    }
    out = {key: _row(r, {}) for key, r in quick.items()}
    lock = [key for key in wanted if key not in quick]
    if lock:
        out.update(_lock_held(session, lock))
    return out


def _lock_held(session: Session, keys: list[Key]) -> dict[Key, _Row]:
    found = session.execute(_LOCK_HELD, _keys_params(keys)).all()
    if not found:
        return {}
    # Read after the lock was granted, in a statement of its own: it sees the revisions a writer that held
    # the lock before us committed.
    history = session.execute(
        select(ArticleRevision.article_id, ArticleRevision.revision, ArticleRevision.content_digest).where(
            ArticleRevision.article_id.in_([r.id for r in found])
        )
    ).all()
    digests: dict[uuid.UUID, dict[bytes, int]] = {}
    for h in history:
        digests.setdefault(h.article_id, {})[h.content_digest] = h.revision
    return {(r.source, r.external_id): _row(r, digests.get(r.id, {})) for r in found}


def _row(r: Any, history: dict[bytes, int]) -> _Row:
    """A stored row as this request decides on it; ``history``: the digests of its revisions, by number."""
    current = Order(r.version, r.version_created, r.revision)
    held = Held(
        revision=r.revision,
        order=current,
        latest=max([r.revision, *history.values()]),
        digests={**history, content_digest(r.payload): r.revision},
        withdrawn=r.withdrawn_at is not None,
    )
    return _Row(
        id=r.id,
        state=r.state,
        payload=r.payload,
        channel=r.channel,
        received_at=r.received_at,
        held=held,
        first_revision=r.revision,
        original={"payload": r.payload, "version": r.version, "version_created": r.version_created},
        revisions=[],
    )


def _apply(row: _Row, article: ArticleIn, inc: Incoming, *, channel: str, request_id: str | None) -> Stored:
    try:
        decision = decide(row.held, inc)
    except RevisionConflict as exc:
        return Stored(id=row.id, state=row.state, duplicate=False, revision=row.held.revision, conflict=exc)
    if decision.outcome in (Outcome.revised, Outcome.kept_older):
        payload = article.payload()
        row.revisions.append(
            {
                "article_id": row.id,
                "revision": decision.revision,
                "payload": payload,
                "content_digest": inc.digest,
                "version": inc.version,
                "version_created": inc.version_created,
                "channel": channel,
            }
        )
        if decision.outcome is Outcome.revised:
            row.payload, row.changed, row.request_id = payload, True, request_id
    elif decision.outcome is Outcome.withdrawn:
        row.withdrawn, row.withdraw_reason, row.request_id = True, article.withdrawal_reason, request_id
    replay = decision.outcome is Outcome.replayed
    state = row.state if replay or decision.outcome is Outcome.kept_older else IngestionState.accepted.value
    return Stored(
        id=row.id,
        state=state,
        duplicate=replay,
        revision=decision.revision,
        outcome=decision.outcome,
    )


def _write(session: Session, rows: list[_Row]) -> None:
    """The history rows (with the text that was current, the first time an article is revised), then the
    ingestions whose current revision changed or that were withdrawn: one statement of each kind."""
    history = []
    for row in rows:
        if row.revisions:
            history.append(
                {
                    "article_id": row.id,
                    "revision": row.first_revision,
                    "payload": row.original["payload"],
                    "content_digest": content_digest(row.original["payload"]),
                    "version": row.original["version"],
                    "version_created": row.original["version_created"],
                    "channel": row.channel,
                    "received_at": row.received_at,
                }
            )
            history += row.revisions
    if history:
        # The statement's rows share their keys; received_at defaults to now() for the new ones.
        for entry in history:
            entry.setdefault("received_at", func.now())
        session.execute(insert(ArticleRevision).values(history).on_conflict_do_nothing())
    _requeue(session, [r for r in rows if r.changed or r.withdrawn])


_TABLE = cast(Table, Ingestion.__table__)
# A new piece of work for the pipeline: a parked failure of the previous text does not count against it.
_AS_NEW_WORK: dict[str, Any] = {
    "state": IngestionState.accepted.value,
    "attempts": 0,
    "error": None,
    "next_attempt_at": None,
    "updated_at": func.now(),
}
_REVISE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        **_AS_NEW_WORK,
        request_id=bindparam("row_request_id"),
        payload=bindparam("row_payload", type_=JSONB),
        revision=bindparam("row_revision"),
        version=bindparam("row_version"),
        version_created=bindparam("row_version_created"),
        pending_event=EVENT_REVISED,
    )
)
_WITHDRAW = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        **_AS_NEW_WORK,
        request_id=bindparam("row_request_id"),
        withdrawn_at=func.now(),
        withdrawal_reason=bindparam("row_reason"),
        pending_event=EVENT_WITHDRAWN,
    )
)


_ARTICLES = cast(Table, Article.__table__)
_HIDE = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("row_id"))
    .values(withdrawn_at=func.now(), withdrawal_reason=bindparam("row_reason"))
)


def _requeue(session: Session, rows: list[_Row]) -> None:
    """Make the ingestions' new state current and hand them to the pipeline again; a withdrawn article is
    hidden from search at once, before the pipeline announces it."""
    revised = [
        {
            "row_id": r.id,
            "row_request_id": r.request_id,
            "row_payload": r.payload,
            "row_revision": r.held.revision,
            "row_version": r.held.order.version,
            "row_version_created": r.held.order.version_created,
        }
        for r in rows
        if r.changed
    ]
    if revised:
        session.connection().execute(_REVISE, revised)
    withdrawn = [
        {"row_id": r.id, "row_request_id": r.request_id, "row_reason": r.withdraw_reason} for r in rows if r.withdrawn
    ]
    if withdrawn:
        session.connection().execute(_WITHDRAW, withdrawn)
        session.connection().execute(_HIDE, withdrawn)


def withdraw(
    session: Session, *, article_id: uuid.UUID, reason: str | None, if_match: int | None, request_id: str | None
) -> Stored | None:
    """Withdraw one article by id (the ingest API's kill); None when there is no such article. Idempotent:
    withdrawing a withdrawn article changes nothing. Does not commit."""
    r = session.execute(
        select(
            Ingestion.source, Ingestion.external_id, Ingestion.id, Ingestion.state, Ingestion.revision,
            Ingestion.payload, Ingestion.version, Ingestion.version_created, Ingestion.withdrawn_at,
            Ingestion.channel, Ingestion.received_at,
        )
        .where(Ingestion.id == article_id)
        .with_for_update()
    ).first()  # fmt: skip
    if r is None:
        return None
    row = _row(r, {})
    held = row.held
    inc = Incoming(digest=b"", withdraw=True, if_match=if_match)
    try:
        decision = decide(held, inc)
    except RevisionConflict as exc:
        return Stored(id=r.id, state=r.state, duplicate=False, revision=r.revision, conflict=exc)
    if decision.outcome is Outcome.withdrawn:
        row.withdrawn, row.withdraw_reason, row.request_id = True, reason, request_id
        _requeue(session, [row])
        return Stored(id=r.id, state=IngestionState.accepted.value, duplicate=False, revision=r.revision,
                      outcome=Outcome.withdrawn)  # fmt: skip
    return Stored(id=r.id, state=r.state, duplicate=True, revision=r.revision, outcome=Outcome.replayed)


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
        """The ids that need processing: new rows, new current revisions and withdrawals, each once, in order."""
        return list(dict.fromkeys(s.id for s in self.stored if s.queued))


# One statement per batch whatever its size: each column travels as one array parameter (the payloads as one
# JSON array), so the text is the same for every batch and nothing is compiled or bound per row.
_INSERT = text(
    "INSERT INTO ingestions (id, source, external_id, channel, payload, request_id, version, version_created,"
    " withdrawn_at, withdrawal_reason)"
    " SELECT k.id, k.source, k.external_id, k.channel, k.payload, k.request_id, k.version, k.version_created,"
    " CASE WHEN k.withdrawn THEN now() END, k.withdrawal_reason"
    " FROM ROWS FROM (unnest(CAST(:ids AS uuid[])), unnest(CAST(:sources AS text[])),"
    " unnest(CAST(:external_ids AS text[])), unnest(CAST(:channels AS text[])),"
    " jsonb_array_elements(CAST(:payloads AS jsonb)), unnest(CAST(:request_ids AS text[])),"
    " unnest(CAST(:versions AS bigint[])), unnest(CAST(:versions_created AS timestamptz[])),"
    " unnest(CAST(:withdrawn AS boolean[])), unnest(CAST(:withdrawal_reasons AS text[])))"
    " AS k(id, source, external_id, channel, payload, request_id, version, version_created, withdrawn,"
    " withdrawal_reason)"
    " ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING"
    " RETURNING id"
)


def insert_rows(
    session: Session,
    articles: Sequence[ArticleIn],
    ids: Sequence[uuid.UUID],
    *,
    channel: str,
    request_ids: Sequence[str | None],
) -> set[uuid.UUID]:
    """Insert ``articles`` under ``ids`` (``request_ids``: each one's request); the ids of the rows created.
    An article whose ``(source, external_id)`` is already stored, or repeated earlier in the same call, is
    skipped by the unique index."""
    params = {
        "ids": list(ids),
        "sources": [a.source for a in articles],
        "external_ids": [a.external_id for a in articles],
        "channels": [channel] * len(articles),
        # One JSON array of the payloads: sent as it is, where an array of texts would be escaped item by item.
        "payloads": "[" + ",".join(a.payload_json() for a in articles) + "]",
        "request_ids": list(request_ids),
        "versions": [a.version for a in articles],
        "versions_created": [a.version_created for a in articles],
        "withdrawn": [bool(a.withdrawn) for a in articles],
        "withdrawal_reasons": [a.withdrawal_reason if a.withdrawn else None for a in articles],
    }
    return set(session.scalars(_INSERT, params).all())


def take_in(
    session: Session,
    *,
    articles: Sequence[ArticleIn],
    channel: str,
    request_id: str | None,
    answer: Callable[[list[Stored]], dict[str, Any]] | None = None,
    key: IdempotencyKeyRef | None = None,
    rejected: Sequence[str] = (),
    if_match: int | None = None,
) -> Taken:
    """Store the articles and, when the request carried an idempotency key (claimed before with
    :func:`~shared.intake.idempotency.claim`), record ``answer`` under it in the same transaction, so the key
    never outlives or precedes its effect. ``answer`` sees the refused preconditions (``Stored.conflict``)
    and may raise for them: nothing is then kept. Does not commit."""
    stored = store(session, articles=articles, channel=channel, request_id=request_id, if_match=if_match)
    body = answer(stored) if answer is not None else None
    if key is not None and body is not None:
        remember(session, key, status=202, body=body)
    return Taken(stored=stored, channel=channel, request_id=request_id, answer=body, rejected=tuple(rejected))
