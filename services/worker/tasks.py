"""Celery tasks: thin wrappers over the plain functions in ``pipeline`` and ``sweeper``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import redis
import structlog
from celery import Task
from sqlalchemy import delete, func

from services.worker.app import app
from services.worker.dead_letters import exhausted_failures, park
from services.worker.events import publish_processed
from services.worker.pipeline import is_transient, process_batch
from services.worker.resources import resources
from services.worker.sweeper import claim_stalled, queue_head_enqueued_at
from shared.channels.websub import prune as prune_websub_deliveries
from shared.db.models import IdempotencyKey
from shared.intake import enqueue
from shared.retry import backoff_s
from shared.tasks import TaskName

log = structlog.get_logger(__name__)


@app.task(name=TaskName.PROCESS_BATCH, bind=True)
def process_batch_task(self: Task, ids: list[str]) -> dict[str, Any]:
    res = resources()
    structlog.contextvars.bind_contextvars(
        task_id=self.request.id, request_id=(self.request.headers or {}).get("request_id")
    )
    try:
        outcome = process_batch(res.sessions, res.settings, res.stages, [uuid.UUID(i) for i in ids])
    except Exception as exc:
        if not is_transient(exc):
            raise  # a programming error: fail loudly; the sweeper retries, then parks the rows
        p = res.settings.pipeline
        log.warning("transient failure; retrying", retries=self.request.retries, error=repr(exc))
        raise self.retry(
            exc=exc,
            # Full jitter, so retries from many workers do not arrive together.
            countdown=backoff_s(self.request.retries, base=2.0, cap=p.retry_backoff_max_s),
            max_retries=p.max_retries,
        ) from exc
    finally:
        structlog.contextvars.unbind_contextvars("task_id", "request_id")
    publish_processed(res.redis, outcome.processed, outcome.announce)
    # Failed articles in outcome.retry are re-enqueued by the sweeper once their backoff is over.
    return {
        "processed": len(outcome.processed),
        "failed": len(outcome.failed),
        "retry": len(outcome.retry),
        "skipped": len(outcome.skipped),
    }


@app.task(name=TaskName.SWEEP_STALLED)
def sweep_stalled_task() -> dict[str, int]:
    res = resources()
    p = res.settings.pipeline
    try:
        head = queue_head_enqueued_at(res.redis)
    except (redis.RedisError, OSError) as exc:  # sweep as if no backlog were known
        log.warning("could not read the queue head", error=repr(exc))
        head = None
    with res.sessions.begin() as session:
        stalled = claim_stalled(
            session,
            stalled_after_s=p.stalled_after_s,
            batch=p.sweep_batch,
            max_attempts=p.max_retries + 1,
            queue_head=head,
        )
        park(session, exhausted_failures(stalled.exhausted))
    enqueue(app, stalled.retry, chunk=res.settings.ingest.task_chunk_size, request_ids=stalled.request_ids)
    if stalled.retry or stalled.exhausted:
        log.info(
            "swept stalled ingestions",
            requeued=len(stalled.retry),
            parked=len(stalled.exhausted),
            were_queued=stalled.were_queued,
            were_claimed=stalled.were_claimed,
            queue_head_age_s=round(time.time() - head, 1) if head is not None else None,
        )
    return {"requeued": len(stalled.retry), "failed": len(stalled.exhausted)}


@app.task(name=TaskName.PURGE_EXPIRED)
def purge_expired_task() -> int:
    res = resources()
    ttl_h = res.settings.ingest.idempotency_key_ttl_hours
    with res.sessions.begin() as session:
        result = session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - func.make_interval(0, 0, 0, 0, ttl_h))
        )
        session.execute(prune_websub_deliveries())
    return int(getattr(result, "rowcount", 0) or 0)
