"""Re-enqueue work Redis may have lost: accepted or processing rows that saw no progress for a while.

Redis carries only pointers to work; PostgreSQL is the record. If Redis restarts empty, or a worker dies
holding a task, the rows stay ``accepted``/``processing`` and this sweep queues them again. Rows past the
attempt limit are marked failed instead, so a poison article cannot loop forever.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

_CLAIM_STALLED = text(
    """
    UPDATE ingestions SET updated_at = now()
    WHERE id IN (
        SELECT id FROM ingestions
        WHERE state IN ('accepted', 'processing')
          AND updated_at < now() - make_interval(secs => :stalled_after)
        ORDER BY updated_at
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, attempts
    """
)


def claim_stalled(
    session: Session, *, stalled_after_s: float, batch: int, max_attempts: int
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Return (ids to re-enqueue, ids that used up their attempts). Does not commit."""
    rows = session.execute(_CLAIM_STALLED, {"stalled_after": stalled_after_s, "batch": batch}).all()
    retry = [r.id for r in rows if r.attempts < max_attempts]
    exhausted = [r.id for r in rows if r.attempts >= max_attempts]
    return retry, exhausted
