"""Re-enqueue work Redis may have lost: accepted or processing rows that saw no progress for a while.

Redis carries only pointers to work; PostgreSQL is the record. If Redis restarts empty, or a worker dies
holding a task, the rows stay ``accepted``/``processing`` and this sweep queues them again. Rows past the
attempt limit are parked as dead letters instead, so a poison article cannot loop forever.

The sweep is backlog-aware. Each task carries the time it was enqueued (``shared.tasks``), and the queue is
first in, first out, so the oldest waiting task tells how far the workers have got. An ``accepted`` row
enqueued after that task is still waiting its turn and is left alone, however long the queue; one enqueued
before it was taken from the queue already, or lost. With an empty queue the rule falls back to "no
progress for ``stalled_after`` seconds". ``processing`` rows are a worker's: a stale one whose row lock is
free lost its worker and is re-enqueued (rows being processed are locked and skipped).

The sweep also runs the retries of failed articles: a row whose backoff is over (``next_attempt_at``) is
re-enqueued at the next sweep. The schedule lives in PostgreSQL rather than in countdown tasks, which a worker
would hold in memory (lost with it, and making it prefetch more of the queue than it can run).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import cast

import redis
import structlog
from sqlalchemy import Table, bindparam, text
from sqlalchemy.orm import Session

from shared.db.models import Ingestion
from shared.stalled import claim_statement
from shared.tasks import QueueName, message_enqueued_at

log = structlog.get_logger(__name__)

_CLAIM_STALLED = claim_statement(
    cast(Table, Ingestion.__table__),
    stale=text(
        """
        state IN ('accepted', 'processing')
        AND (
          -- a failed article whose backoff is over
          next_attempt_at <= now()
          OR (next_attempt_at IS NULL
              AND updated_at < now() - make_interval(secs => :stalled_after)
              AND (state = 'processing'
                   OR updated_at < coalesce(to_timestamp(:queue_head), now()) - make_interval(secs => :stalled_after)))
        )
        """
    ),
    limit=bindparam("batch"),
    values={"state": "accepted", "next_attempt_at": None},
    returning=lambda table, picked: [table.c.id, table.c.attempts, table.c.request_id, picked.c.state.label("was")],
)


@dataclass(frozen=True)
class Stalled:
    retry: list[uuid.UUID]
    exhausted: list[uuid.UUID]
    # The request each row came in with, carried onto its new task so the logs still lead back to it.
    request_ids: dict[uuid.UUID, str | None] = field(default_factory=dict)
    # How many were still queued (their task lost with Redis) and how many were claimed by a worker that
    # did not finish (killed, or waiting for a retry after an outage).
    were_queued: int = 0
    were_claimed: int = 0


def queue_head_enqueued_at(client: redis.Redis, queue: str = QueueName.PIPELINE) -> float | None:
    """When the oldest task still waiting in ``queue`` was enqueued (epoch seconds); None if none waits.

    Kombu's Redis transport pushes on the left and pops on the right, so the oldest message is the last one.
    A message without the stamp (an unknown producer) counts as "no backlog known": the sweep then falls back
    to the plain staleness rule, which may re-enqueue needlessly but never misses work.
    """
    raw = client.lindex(queue, -1)
    return None if raw is None else message_enqueued_at(raw)


def claim_stalled(
    session: Session, *, stalled_after_s: float, batch: int, max_attempts: int, queue_head: float | None
) -> Stalled:
    """Mark stalled rows as queued again and return them split by whether attempts remain. Does not commit."""
    rows = session.execute(
        _CLAIM_STALLED, {"stalled_after": stalled_after_s, "batch": batch, "queue_head": queue_head}
    ).all()
    return Stalled(
        retry=[r.id for r in rows if r.attempts < max_attempts],
        exhausted=[r.id for r in rows if r.attempts >= max_attempts],
        request_ids={r.id: r.request_id for r in rows if r.attempts < max_attempts},
        were_queued=sum(1 for r in rows if r.was == "accepted"),
        were_claimed=sum(1 for r in rows if r.was == "processing"),
    )
