"""Backfill jobs as rows: creating one, and retiring the older ones it replaces (shared by the ingest service,
which creates rule jobs, and the worker, which creates tagger-upgrade jobs and runs them all)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Update, func, update

from shared.db.models import BackfillJob, BackfillState
from shared.ids import uuid7


def new_job(
    *,
    tagger: str,
    tagger_version: str,
    reason: str,
    action: str = "retag",
    rule_id: uuid.UUID | None = None,
    window_days: int = 30,
) -> BackfillJob:
    """A pending job; a ``retag`` covers the articles published in the last ``window_days`` days."""
    since = datetime.now(UTC) - timedelta(days=window_days) if action == "retag" else None
    return BackfillJob(
        id=uuid7(),
        tagger=tagger,
        tagger_version=tagger_version,
        reason=reason,
        action=action,
        rule_id=rule_id,
        state=BackfillState.PENDING,
        since=since,
        done=0,
        tagged=0,
    )


def supersede(tagger: str) -> Update:
    """Retire the unfinished jobs of ``tagger``: a newer change takes over from where things stand."""
    return (
        update(BackfillJob)
        .where(BackfillJob.tagger == tagger, BackfillJob.state.in_(BackfillState.ACTIVE))
        .values(state=BackfillState.SUPERSEDED, finished_at=func.now(), updated_at=func.now())
    )
