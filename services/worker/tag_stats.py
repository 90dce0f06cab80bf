"""Refresh ``tag_stats``, the materialised view behind ``/v1/tags``."""

from __future__ import annotations

from sqlalchemy import text

from services.worker.app import app
from services.worker.resources import resources
from shared.search.settings import get_search_settings
from shared.tasks import QueueName, TaskName

_LOCK = 727005  # one refresh at a time across workers


@app.task(name=TaskName.REFRESH_TAG_STATS, queue=QueueName.MAINTENANCE)
def refresh_tag_stats_task() -> bool:
    """CONCURRENTLY, so readers keep the previous counts until the new ones are ready. False if another
    refresh was already running."""
    timeout_ms = get_search_settings().tag_stats_timeout_s * 1000
    with resources().sessions.begin() as session:
        if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK}):
            return False
        session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
        session.execute(text("REFRESH MATERIALIZED VIEW CONCURRENTLY tag_stats"))
    return True
