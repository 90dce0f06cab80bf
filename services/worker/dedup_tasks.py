"""Dedup maintenance: expire the index rows that hold nothing inside the time window (run by beat)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.orm import sessionmaker

from services.worker.app import app
from services.worker.resources import resources
from shared.dedup.index import expire
from shared.dedup.settings import DedupSettings, get_dedup_settings
from shared.tasks import QueueName, TaskName

log = structlog.get_logger(__name__)

# Bounded work per run: the next run carries on where this one stopped.
MAX_ROUNDS = 100


def expire_index(sessions: sessionmaker, settings: DedupSettings) -> dict[str, int]:
    """Delete expired rows in short transactions (``expiry_batch`` rows a round), never waiting on a worker."""
    totals = {"buckets": 0, "keys": 0}
    for _ in range(MAX_ROUNDS):
        with sessions.begin() as session:
            done = expire(
                session,
                now=datetime.now(UTC),
                window_days=settings.window_days,
                title_window_days=settings.title_window_days,
                limit=settings.expiry_batch,
            )
        totals["buckets"] += done.buckets
        totals["keys"] += done.keys
        if done.buckets < settings.expiry_batch and done.keys < settings.expiry_batch:
            break
    if totals["buckets"] or totals["keys"]:
        log.info("expired dedup index rows", **totals)
    return totals


@app.task(name=TaskName.EXPIRE_DEDUP_INDEX, queue=QueueName.MAINTENANCE)
def expire_dedup_index_task() -> dict[str, int]:
    return expire_index(resources().sessions, get_dedup_settings())
