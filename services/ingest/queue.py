"""Queue the pipeline work for committed ingestions: one task per chunk of ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import anyio
import structlog
from celery import Celery

from shared.metrics import ENQUEUE_FAILURES
from shared.tasks import TaskName

log = structlog.get_logger(__name__)

_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def _send_chunks(celery: Celery, ids: Sequence[uuid.UUID], chunk: int, request_id: str | None) -> None:
    with celery.producer_or_acquire() as producer:
        for start in range(0, len(ids), chunk):
            celery.send_task(
                TaskName.PROCESS_BATCH,
                args=[[str(i) for i in ids[start : start + chunk]]],
                headers={"request_id": request_id},
                producer=producer,
                retry=True,
                retry_policy=_PUBLISH_RETRY,
            )


async def enqueue(celery: Celery, ids: Sequence[uuid.UUID], *, chunk: int, request_id: str | None) -> bool:
    """Send the work; False when Redis could not take it.

    The rows are already committed, so the article is safe either way: the sweeper re-enqueues accepted rows
    that see no progress. That is why a failure here is logged and counted, not turned into an error.
    """
    if not ids:
        return True
    try:
        await anyio.to_thread.run_sync(_send_chunks, celery, ids, chunk, request_id)
        return True
    except Exception as exc:
        ENQUEUE_FAILURES.inc(len(ids))
        log.warning("enqueue failed; the sweeper will re-enqueue", count=len(ids), error=str(exc))
        return False
