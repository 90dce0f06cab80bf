"""Group commit: single articles that arrive within a millisecond or two of each other are stored by one
INSERT in one transaction and queued by one enqueue, instead of one of each per request.

Each request still gets its own answer, and only after the commit that holds its row: its own id, its own
duplicate or revision outcome, its own idempotency result (keys are claimed and recorded in the group's
transaction, exactly as a lone request would). A member refused on its own (a revision conflict, a key used
for another request) gets its error and leaves nothing behind, while the rest of the group goes on. When the
group's transaction fails as a whole, every member is tried again in a transaction of its own, so one
member's failure is never another's, and no one hears 2xx for a row that was not committed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from celery import Celery
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session

from shared.api.errors import ApiError
from shared.intake import Enqueuer, IdempotencyKeyRef, Stored, StoredResponse, Taken, claim, remember, store
from shared.intake.queue import count
from shared.schemas.articles import ArticleIn

CHANNEL = "api"


@dataclass(frozen=True)
class Accepted:
    """A member's answer: the body it returns with 202, and what was stored for it."""

    body: dict[str, Any]
    stored: Stored


@dataclass
class _Member:
    article: ArticleIn
    request_id: str | None
    answer: Callable[[Stored], dict[str, Any]]
    key: IdempotencyKeyRef | None
    future: asyncio.Future[Accepted | StoredResponse] = field(repr=False)


_Outcome = Accepted | StoredResponse | ApiError


class GroupCommit:
    """Collects single articles for ``window_s`` (or until ``max_size`` wait) and commits them together.
    One per API process, made in the app's lifespan."""

    def __init__(
        self, sessionmaker: async_sessionmaker, celery: Celery, *, window_s: float, max_size: int, chunk: int
    ) -> None:
        self._sessionmaker = sessionmaker
        self._enqueuer = Enqueuer(celery, chunk=chunk)
        self._window_s = window_s
        self._max_size = max_size
        self._pending: list[_Member] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def submit(
        self,
        article: ArticleIn,
        *,
        request_id: str | None,
        answer: Callable[[Stored], dict[str, Any]],
        key: IdempotencyKeyRef | None,
    ) -> Accepted | StoredResponse:
        """Store ``article`` with the next group; returns once its row is committed (``Accepted``), or the
        first answer when ``key`` was used before (``StoredResponse``); raises the member's own error."""
        loop = asyncio.get_running_loop()
        member = _Member(article=article, request_id=request_id, answer=answer, key=key, future=loop.create_future())
        self._pending.append(member)
        if len(self._pending) >= self._max_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._window_s, self._flush)
        # Shielded: a client that goes away does not cancel the group's work, only its own wait.
        return await asyncio.shield(member.future)

    async def close(self) -> None:
        """Commit what is waiting and wait for the groups and sends in flight (the app is stopping)."""
        self._flush()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        await self._enqueuer.close()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        members, self._pending = self._pending, []
        if members:
            task = asyncio.get_running_loop().create_task(self._commit(members))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _commit(self, members: list[_Member]) -> None:
        try:
            async with self._sessionmaker() as session:
                outcomes: list[_Outcome] = await session.run_sync(_take_in, members)
                await session.commit()
        except Exception as exc:
            if len(members) == 1:
                _settle(members[0], exc)
                return
            # Alone, each member meets only its own fate (and those that succeed are answered).
            await asyncio.gather(*(self._commit([m]) for m in members))
            return
        self._queue([o.stored for o in outcomes if isinstance(o, Accepted)], members, outcomes)
        for member, outcome in zip(members, outcomes, strict=True):
            _settle(member, outcome)

    def _queue(self, stored: list[Stored], members: list[_Member], outcomes: list[_Outcome]) -> None:
        """Count the group, then queue its new work in the background (the members are answered meanwhile):
        one enqueue, each id carrying its own request's id."""
        request_ids: dict[uuid.UUID, str | None] = {
            o.stored.id: m.request_id for m, o in zip(members, outcomes, strict=True) if isinstance(o, Accepted)
        }
        taken = Taken(stored=stored, channel=CHANNEL, request_id=None)
        count(taken)
        self._enqueuer.enqueue(taken.fresh, request_ids=request_ids)


def _settle(member: _Member, outcome: _Outcome | BaseException) -> None:
    if member.future.done():  # its request was cancelled meanwhile
        return
    if isinstance(outcome, BaseException):
        member.future.set_exception(outcome)
    else:
        member.future.set_result(outcome)


def _take_in(session: Session, members: list[_Member]) -> list[_Outcome]:
    """The group's statements, in the order a lone request runs them: claim the keys, store the articles in
    one INSERT, answer each, record the answers under their keys. Does not commit."""
    outcomes: list[_Outcome | None] = [None] * len(members)
    live: list[int] = []
    keys_seen: set[tuple[str, str, str]] = set()
    for i, member in enumerate(members):
        if member.key is not None:
            ref = member.key
            if (ref.owner, ref.scope, ref.key) in keys_seen:
                # The same key twice in one group: the second is a concurrent repeat of the first.
                outcomes[i] = ApiError(
                    409,
                    f"a {ref.what} with this {ref.header} is still being processed; retry later",
                    field=ref.header,
                    headers={"Retry-After": "1"},
                )
                continue
            keys_seen.add((ref.owner, ref.scope, ref.key))
            try:
                previous = claim(session, ref)
            except ApiError as exc:
                outcomes[i] = exc
                continue
            if previous is not None:
                outcomes[i] = previous
                continue
        live.append(i)
    stored = store(
        session,
        articles=[members[i].article for i in live],
        channel=CHANNEL,
        request_id=None,
        request_ids=[members[i].request_id for i in live],
    )
    for i, s in zip(live, stored, strict=True):
        member = members[i]
        try:
            body = member.answer(s)  # raises for a refused precondition: nothing was written for it
        except ApiError as exc:
            outcomes[i] = exc
            continue
        if member.key is not None:
            remember(session, member.key, status=202, body=body)
        outcomes[i] = Accepted(body=body, stored=s)
    assert all(o is not None for o in outcomes)
    return cast(list[_Outcome], outcomes)
