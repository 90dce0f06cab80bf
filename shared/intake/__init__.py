"""Intake: how an article becomes an ingestion row and a queued task, whatever road it came by.

Every channel (JSON and plain-text posts, batches, signed webhooks and WebSub deliveries, polled feeds) and
every re-queue (the sweeper, dead-letter replays, rule backfills) goes through here, so the guarantees hold
in one place: the row is committed before the work is queued (Redis carries only ids), a replay of
``(source, external_id)`` or of an idempotency key returns the first answer, and a batch costs one INSERT
and one queue round trip.

The functions take a sync :class:`~sqlalchemy.orm.Session`. The async services run them on their
``AsyncSession`` with ``await session.run_sync(fn, ...)``, SQLAlchemy's own bridge, so both kinds of process
execute the very same statements. None of them commits: the caller commits, then queues.

A channel's steps, in order::

    taken = take_in(session, articles=..., channel="mine", request_id=...)   # store (+ idempotency record)
    session.commit()
    queue_taken(celery, taken, chunk=settings.ingest.task_chunk_size)        # count, then one enqueue

The ingest service's requests hand that last step to an :class:`Enqueuer`, which sends in the background.
"""

from shared.intake.idempotency import IdempotencyKeyRef, StoredResponse, claim, remember, request_fingerprint
from shared.intake.queue import Enqueuer, enqueue, enqueue_async, queue_taken, queue_taken_async, send
from shared.intake.store import Stored, Taken, store, take_in, withdraw

__all__ = [
    "Enqueuer",
    "IdempotencyKeyRef",
    "Stored",
    "StoredResponse",
    "Taken",
    "claim",
    "enqueue",
    "enqueue_async",
    "queue_taken",
    "queue_taken_async",
    "remember",
    "request_fingerprint",
    "send",
    "store",
    "take_in",
    "withdraw",
]
