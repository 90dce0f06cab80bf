"""Queue work for committed rows: one task per chunk of ids, all chunks over one producer connection.

Tasks are sent by name (``send_task``), so the ingest image never imports worker code; the routes in
``shared.tasks`` pick the queue. The rows are committed first, so a failure to queue loses nothing: the
sweeper re-enqueues accepted rows that see no progress. That is why a failure here is logged and counted,
not turned into an error for the client.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import structlog
from celery import Celery

from shared.intake.store import Taken
from shared.metrics import ARTICLES_ACCEPTED, ARTICLES_REJECTED, ARTICLES_REPLAYED, ENQUEUE_FAILURES
from shared.tasks import TaskName

log = structlog.get_logger(__name__)

# A short, bounded wait for Redis: the caller (often an HTTP request) is waiting, and the sweeper is the
# real safety net.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

REQUEST_ID_HEADER = "request_id"


def send(celery: Celery, name: str, messages: Sequence[tuple[list[Any], str | None]]) -> None:
    """Publish ``name`` once per ``(args, request_id)`` over one connection. Raises when Redis refuses."""
    with celery.producer_or_acquire() as producer:
        for args, request_id in messages:
            celery.send_task(
                name,
                args=args,
                headers={REQUEST_ID_HEADER: request_id},
                producer=producer,
                retry=True,
                retry_policy=PUBLISH_RETRY,
            )


def _chunks(
    ids: Sequence[uuid.UUID], chunk: int, request_id: str | None, request_ids: Mapping[uuid.UUID, str | None] | None
) -> list[tuple[list[Any], str | None]]:
    messages: list[tuple[list[Any], str | None]] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rid = request_id
        if request_ids is not None:
            # Re-queued rows came from many requests: the chunk carries them all, so a log line of the
            # task still leads back to each request.
            rid = ",".join(sorted({r for i in part if (r := request_ids.get(i))})) or None
        messages.append(([[str(i) for i in part]], rid))
    return messages


def enqueue(
    celery: Celery,
    ids: Sequence[uuid.UUID],
    *,
    chunk: int,
    request_id: str | None = None,
    request_ids: Mapping[uuid.UUID, str | None] | None = None,
) -> bool:
    """Queue the pipeline for ``ids``; False when Redis could not take it (logged and counted).

    ``request_ids`` gives each id its own request (re-queued rows); otherwise all share ``request_id``."""
    if not ids:
        return True
    try:
        send(celery, TaskName.PROCESS_BATCH, _chunks(ids, chunk, request_id, request_ids))
        return True
    except Exception as exc:
        ENQUEUE_FAILURES.inc(len(ids))
        log.warning("enqueue failed; the sweeper will re-enqueue", count=len(ids), error=str(exc))
        return False


async def enqueue_async(celery: Celery, ids: Sequence[uuid.UUID], *, chunk: int, request_id: str | None = None) -> bool:
    """:func:`enqueue` off the event loop (publishing blocks on the socket)."""
    return await anyio.to_thread.run_sync(lambda: enqueue(celery, ids, chunk=chunk, request_id=request_id))


def count(taken: Taken) -> None:
    """One metric point per batch: how many articles were new, how many replays, which items were refused."""
    fresh = sum(1 for s in taken.stored if not s.duplicate)
    if fresh:
        ARTICLES_ACCEPTED.labels(channel=taken.channel).inc(fresh)
    if len(taken.stored) - fresh:
        ARTICLES_REPLAYED.inc(len(taken.stored) - fresh)
    for code in taken.rejected:
        ARTICLES_REJECTED.labels(reason=code).inc()


def queue_taken(celery: Celery, taken: Taken, *, chunk: int) -> bool:
    """After the commit: count the batch, then queue its new rows."""
    count(taken)
    return enqueue(celery, taken.fresh, chunk=chunk, request_id=taken.request_id)


async def queue_taken_async(celery: Celery, taken: Taken, *, chunk: int) -> bool:
    """:func:`queue_taken` for the async services."""
    count(taken)
    return await enqueue_async(celery, taken.fresh, chunk=chunk, request_id=taken.request_id)


class Enqueuer:
    """Queues the work of committed rows without holding up the answer: the rows are the record and a failed
    send is only logged (the sweeper starts what was not queued), so a client waits on the commit, not on
    Redis as well. One per app, or per group commit; ``close`` waits for the sends in flight."""

    def __init__(self, celery: Celery, *, chunk: int) -> None:
        self._celery = celery
        self._chunk = chunk
        self._sending: set[asyncio.Task[bool]] = set()

    def queue_taken(self, taken: Taken) -> None:
        """Count the batch now, then queue its new rows in the background."""
        count(taken)
        self.enqueue(taken.fresh, request_id=taken.request_id)

    def enqueue(
        self,
        ids: Sequence[uuid.UUID],
        *,
        request_id: str | None = None,
        request_ids: Mapping[uuid.UUID, str | None] | None = None,
    ) -> None:
        """:func:`enqueue` in the background, off the event loop (publishing blocks on the socket)."""
        if not ids:
            return
        celery, chunk = self._celery, self._chunk
        sending = asyncio.get_running_loop().create_task(
            anyio.to_thread.run_sync(
                lambda: enqueue(celery, ids, chunk=chunk, request_id=request_id, request_ids=request_ids)
            )
        )
        self._sending.add(sending)
        sending.add_done_callback(self._sending.discard)

    async def close(self) -> None:
        """Wait for the sends in flight (the app is stopping)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
