"""The ingest service's side of ``shared.intake``: one dependency that runs the shared steps on the request's
``AsyncSession`` (through ``run_sync``), so that every router takes articles in the same way."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import structlog
from celery import Celery
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingest.deps import SessionDep, request_id_of
from services.ingest.group_commit import GroupCommit
from shared.intake import (
    Enqueuer,
    IdempotencyKeyRef,
    Stored,
    StoredResponse,
    Taken,
    claim,
    enqueue_async,
    send,
    take_in,
    withdraw,
)
from shared.schemas.articles import ArticleIn

log = structlog.get_logger(__name__)


@dataclass
class Intake:
    session: AsyncSession
    celery: Celery
    chunk: int
    request_id: str | None
    enqueuer: Enqueuer
    group: GroupCommit | None = None

    async def take_in_one(
        self,
        article: ArticleIn,
        *,
        answer: Callable[[Stored], dict[str, Any]],
        key: IdempotencyKeyRef | None,
        if_match: int | None,
    ) -> tuple[dict[str, Any], Stored] | JSONResponse:
        """One article of a single request: its 202 body and what was stored, or the first response when
        ``key`` was used before. Shares a group commit with concurrent requests, unless it carries a
        precondition (``If-Match``), which is decided on its own."""
        if self.group is None or if_match is not None:
            if replay := await self.replay(key):
                return replay
            taken = await self.take_in([article], channel="api", answer=lambda s: answer(s[0]), key=key,
                                       if_match=if_match)  # fmt: skip
            assert taken.answer is not None
            return taken.answer, taken.stored[0]
        # The request's own session is done with (the source check may have read through it): its
        # connection goes back to the pool rather than idling through the group's wait.
        if self.session.in_transaction():
            await self.session.rollback()
        outcome = await self.group.submit(article, request_id=self.request_id, answer=answer, key=key)
        if isinstance(outcome, StoredResponse):
            return _replayed(outcome)
        return outcome.body, outcome.stored

    async def replay(self, key: IdempotencyKeyRef | None) -> JSONResponse | None:
        """Take ``key`` for this request; when it was used before, the first response, and nothing else
        happens (the transaction is rolled back)."""
        if key is None:
            return None
        previous = await self.session.run_sync(claim, key)
        if previous is None:
            return None
        await self.session.rollback()
        return _replayed(previous)

    async def take_in(
        self,
        articles: Sequence[ArticleIn],
        *,
        channel: str,
        answer: Callable[[list[Stored]], dict[str, Any]] | None = None,
        key: IdempotencyKeyRef | None = None,
        before_commit: Callable[[AsyncSession], Any] | None = None,
        rejected: Sequence[str] = (),
        if_match: int | None = None,
    ) -> Taken:
        """Store, record the answer under ``key``, commit, then count and queue (in the background). The
        commit comes before the queueing and before the caller's 2xx: the article is durable before anyone is
        told so."""
        taken = await self.session.run_sync(
            take_in,
            articles=articles,
            channel=channel,
            request_id=self.request_id,
            answer=answer,
            key=key,
            rejected=rejected,
            if_match=if_match,
        )
        if before_commit is not None:
            await before_commit(self.session)
        await self.session.commit()
        self.enqueuer.queue_taken(taken)
        return taken

    async def withdraw(self, article_id: uuid.UUID, *, reason: str | None, if_match: int | None) -> Stored | None:
        """Withdraw the article (the kill of the ingest API), commit, then queue its announcement; None when
        there is no such article. A refused precondition is returned uncommitted, for the caller to answer."""
        stored = await self.session.run_sync(
            withdraw, article_id=article_id, reason=reason, if_match=if_match, request_id=self.request_id
        )
        if stored is None or stored.conflict is not None:
            await self.session.rollback()
            return stored
        await self.session.commit()
        if stored.queued:
            await self.requeue([article_id])
        return stored

    async def requeue(self, ids: Sequence[uuid.UUID]) -> bool:
        """Queue the pipeline again for rows already committed (a dead-letter replay)."""
        return await enqueue_async(self.celery, ids, chunk=self.chunk, request_id=self.request_id)

    async def send(self, name: str, args: list[Any]) -> bool:
        """Queue one other task for committed work (a backfill job). Best effort, like every enqueue here:
        the rows are the record, and the worker's sweeps start work whose message was lost."""
        try:
            await anyio.to_thread.run_sync(send, self.celery, name, [(args, self.request_id)])
            return True
        except Exception as exc:
            log.warning("could not queue the task; a sweep will start it", task=name, args=args, error=str(exc))
            return False


def _replayed(previous: StoredResponse) -> JSONResponse:
    return JSONResponse(previous.body, status_code=previous.status, headers={"Idempotent-Replayed": "true"})


async def _intake(request: Request, session: SessionDep) -> Intake:
    """Built from the app's state directly: each further dependency costs FastAPI a resolution per request."""
    state = request.app.state
    return Intake(
        session=session,
        celery=state.celery,
        chunk=state.settings.ingest.task_chunk_size,
        request_id=request_id_of(request),
        enqueuer=state.enqueuer,
        group=getattr(state, "group_commit", None),
    )


IntakeDep = Annotated[Intake, Depends(_intake)]
