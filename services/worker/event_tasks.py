"""Event maintenance: delete candidate-index rows nobody touched for the retention period (run by beat)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.orm import sessionmaker

from services.worker.app import app
from services.worker.resources import resources
from shared.events.index import expire
from shared.events.settings import EventSettings, get_event_settings
from shared.tasks import QueueName, TaskName

log = structlog.get_logger(__name__)

MAX_ROUNDS = 100  # bounded work per run: the next run carries on


def expire_index(sessions: sessionmaker, settings: EventSettings) -> int:
    """Delete stale rows in short transactions (``expiry_batch`` a round), never waiting on a worker.

    Expiry forgets candidates, never decisions: articles keep their events."""
    total = 0
    for _ in range(MAX_ROUNDS):
        with sessions.begin() as session:
            done = expire(
                session,
                now=datetime.now(UTC),
                retention_days=settings.index_retention_days,
                limit=settings.expiry_batch,
            )
        total += done
        if done < settings.expiry_batch:
            break
    if total:
        log.info("expired event index rows", rows=total)
    return total


@app.task(name=TaskName.EXPIRE_EVENT_INDEX, queue=QueueName.MAINTENANCE)
def expire_event_index_task() -> int:
    return expire_index(resources().sessions, get_event_settings())
