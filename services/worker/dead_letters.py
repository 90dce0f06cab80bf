"""What happens to an article that makes a stage fail: a retry after a backoff, then a dead letter.

A failure is recorded on the ingestion row: ``error``, and ``next_attempt_at``, when the backoff is over and
the sweeper re-enqueues it (the schedule survives a worker or Redis crash). Once the article has used
``max_attempts`` attempts it
is parked in ``dead_letters`` with its stage, error and stack, and its ingestion is marked ``failed``; it stays
there until someone replays it (``POST /v1/dead-letters/{id}/replay``).
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.config import settings_getter
from shared.db.models import DeadLetter, Ingestion, IngestionState
from shared.ids import uuid7
from shared.metrics import DEAD_LETTERED
from shared.retry import backoff_s

_INGESTIONS = cast(Table, Ingestion.__table__)
MAX_STACK_CHARS = 16_000
MAX_ERROR_CHARS = 4_000


class ReliabilitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_RELIABILITY_", extra="ignore")

    retry_base_s: float = 1.0  # the first retry of a failing article waits about this long, then doubling
    retry_max_s: float = 300.0
    # Enables the fault-injection stage (tests and chaos runs only): an article whose metadata has
    # "tidings_fault" fails on purpose. Refused in production by the worker at start.
    fault_injection: bool = False


get_reliability_settings = settings_getter(ReliabilitySettings)


@dataclass(frozen=True)
class Failure:
    """Why one article failed: the stage, the exception and its stack."""

    ingestion_id: uuid.UUID
    stage: str
    error_type: str
    error: str
    stack: str

    @classmethod
    def from_exception(cls, ingestion_id: uuid.UUID, stage: str, exc: BaseException) -> Failure:
        return cls(
            ingestion_id=ingestion_id,
            stage=stage,
            error_type=type(exc).__name__,
            error=str(exc)[:MAX_ERROR_CHARS],
            stack="".join(traceback.format_exception(exc))[-MAX_STACK_CHARS:],
        )

    @property
    def summary(self) -> str:
        return f"{self.stage}: {self.error_type}: {self.error}"[:MAX_ERROR_CHARS]


def retry_delay_s(attempts: int, settings: ReliabilitySettings) -> float:
    """Exponential backoff with jitter (half to full delay), so a retry storm spreads out."""
    return backoff_s(attempts - 1, base=settings.retry_base_s, cap=settings.retry_max_s, jitter=(0.5, 1.0))


@dataclass
class Recorded:
    retry: list[uuid.UUID]
    retry_in_s: float
    parked: list[uuid.UUID]


def record_failures(
    session: Session, failures: Sequence[Failure], *, max_attempts: int, settings: ReliabilitySettings
) -> Recorded:
    """Schedule a retry for each failed article with attempts left; park the others. Does not commit."""
    attempts = _lock_unfinished(session, [f.ingestion_id for f in failures])
    failures = [f for f in failures if f.ingestion_id in attempts]  # another worker finished it meanwhile
    to_park = [f for f in failures if attempts.get(f.ingestion_id, max_attempts) >= max_attempts]
    to_retry = [f for f in failures if f not in to_park]
    delay = retry_delay_s(min((attempts[f.ingestion_id] for f in to_retry), default=1), settings)
    if to_retry:
        session.execute(
            update(_INGESTIONS)
            .where(_INGESTIONS.c.id == bindparam("b_id"))
            .values(
                error=bindparam("b_error"),
                next_attempt_at=func.now() + timedelta(seconds=delay),
                updated_at=func.now(),
            ),
            [{"b_id": f.ingestion_id, "b_error": f.summary} for f in to_retry],
        )
    park(session, to_park)
    return Recorded(
        retry=[f.ingestion_id for f in to_retry], retry_in_s=delay, parked=[f.ingestion_id for f in to_park]
    )


def park(session: Session, failures: Sequence[Failure]) -> None:
    """Mark the ingestions failed and write (or refresh) their dead letters. Does not commit."""
    attempts = _lock_unfinished(session, [f.ingestion_id for f in failures])
    failures = [f for f in failures if f.ingestion_id in attempts]
    if not failures:
        return
    rows = [
        {
            "id": uuid7(),
            "ingestion_id": f.ingestion_id,
            "stage": f.stage,
            "error_type": f.error_type,
            "error": f.error,
            "stack": f.stack,
            "attempts": attempts.get(f.ingestion_id, 0),
        }
        for f in failures
    ]
    table = cast(Table, DeadLetter.__table__)
    stmt = insert(table).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.ingestion_id],
            set_={
                "stage": stmt.excluded.stage,
                "error_type": stmt.excluded.error_type,
                "error": stmt.excluded.error,
                "stack": stmt.excluded.stack,
                "attempts": stmt.excluded.attempts,
                "last_failed_at": func.now(),
                # Parked again after a replay: count it; a duplicate task parking it twice does not.
                "times_parked": table.c.times_parked + case((table.c.replayed_at.isnot(None), 1), else_=0),
                "replayed_at": None,
            },
        )
    )
    session.execute(
        update(_INGESTIONS)
        .where(_INGESTIONS.c.id == bindparam("b_id"), _INGESTIONS.c.state != IngestionState.processed.value)
        .values(state=IngestionState.failed.value, error=bindparam("b_error"), updated_at=func.now()),
        [{"b_id": f.ingestion_id, "b_error": f.summary} for f in failures],
    )
    for f in failures:
        DEAD_LETTERED.labels(stage=f.stage).inc()


def _lock_unfinished(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Lock the ingestions not yet processed; their attempts by id."""
    if not ids:
        return {}
    rows = session.execute(
        select(Ingestion.id, Ingestion.attempts)
        .where(Ingestion.id.in_(ids), Ingestion.state != IngestionState.processed.value)
        .order_by(Ingestion.id)
        .with_for_update()
    )
    return {row.id: row.attempts for row in rows}


def exhausted_failures(ids: Sequence[uuid.UUID]) -> list[Failure]:
    """Dead letters for articles whose attempts never finished: the worker died or timed out each time."""
    return [
        Failure(
            ingestion_id=i,
            stage="worker",
            error_type="AttemptsExhausted",
            error="gave up: no attempt finished (the worker died, or the task timed out or was lost, each time)",
            stack="",
        )
        for i in ids
    ]
