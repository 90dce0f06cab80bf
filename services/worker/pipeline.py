"""The pipeline over one batch of ingestion ids, as plain functions the Celery task wraps.

Stages run in order over the whole batch inside one transaction; the articles are written with one upsert;
then the stages that write rows referring to articles run; then the state flips to processed and the
transaction commits. Re-running a batch yields the same rows (upserts keyed by the ingestion id), and a
worker killed mid-batch leaves nothing behind: its transaction never committed.

Three kinds of failure: transient (the database or Redis went away) propagate so the task retries the batch;
an article that makes a stage raise is isolated (the batch is redone one article at a time), retried after a
backoff, then parked as a dead letter (``dead_letters``); an article whose earlier attempts never finished
(the worker died each time) is processed alone, then parked once out of attempts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import structlog
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session, sessionmaker

from services.worker.context import BatchContext
from services.worker.dead_letters import (
    Failure,
    ReliabilitySettings,
    exhausted_failures,
    get_reliability_settings,
    park,
    record_failures,
)
from services.worker.stages import Stage, StoresAfter
from services.worker.stages.dedup import dedup_stages
from services.worker.stages.events import events_stages
from services.worker.stages.faults import FaultInjectionStage
from services.worker.stages.language import LanguageStage
from services.worker.stages.normalise import NormaliseStage
from services.worker.stages.tagging import tagging_stages
from services.worker.store import lock_items, mark_processed, mark_processing, touch_processing, upsert_articles
from shared.config import Environment, Settings
from shared.events.embedding import shared_in_batch
from shared.metrics import ARTICLES_PROCESSED, STAGE_CPU_SECONDS, STAGE_SECONDS

log = structlog.get_logger(__name__)


def build_stages(settings: Settings) -> list[Stage]:
    """The stage list: normalise, language, then deduplication, tagging and events (which reads the tags)."""
    faults: list[Stage] = []
    if get_reliability_settings().fault_injection:
        if settings.env is Environment.production:
            raise RuntimeError("TIDINGS_RELIABILITY_FAULT_INJECTION must not be set in production")
        faults.append(FaultInjectionStage())
    return [
        NormaliseStage(),
        LanguageStage(),
        *faults,
        *dedup_stages(),
        *tagging_stages(),
        *events_stages(),
    ]


class StageFailed(Exception):
    """A stage raised for a reason a retry of the batch would not cure; names the stage."""

    def __init__(self, stage: str, cause: Exception) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause


@dataclass
class BatchOutcome:
    processed: list[uuid.UUID] = field(default_factory=list)
    failed: dict[uuid.UUID, str] = field(default_factory=dict)  # parked as dead letters, with the reason
    retry: list[uuid.UUID] = field(default_factory=list)  # failed; the sweeper retries them after ``retry_in_s``
    retry_in_s: float = 0.0
    skipped: list[uuid.UUID] = field(default_factory=list)
    # What the stages want announced with each processed article on the live stream (e.g. its event).
    announce: dict[uuid.UUID, dict[str, str]] = field(default_factory=dict)


def _run(name: str, step: Callable[[], object]) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    try:
        step()
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise StageFailed(name, exc) from exc
    STAGE_SECONDS.labels(stage=name).observe(time.perf_counter() - started)
    STAGE_CPU_SECONDS.labels(stage=name).inc(time.process_time() - cpu)


def _run_stages(
    session: Session,
    settings: Settings,
    stages: Sequence[Stage],
    ids: Sequence[uuid.UUID],
    announce: dict[uuid.UUID, dict[str, str]],
) -> list[uuid.UUID]:
    items = lock_items(session, ids)
    if not items:
        return []
    ctx = BatchContext(session=session, items=items)
    with shared_in_batch():  # the taggers' and the events stage's embeddings of one opening are one
        for stage in stages:
            _run(stage.name, partial(stage.process, ctx))
        _run("store", lambda: upsert_articles(session, [item.record for item in ctx.items]))
        for stage in stages:
            if isinstance(stage, StoresAfter):
                _run(stage.name, partial(stage.after_store, ctx))
    done = [item.id for item in ctx.items]
    mark_processed(session, done)
    announce.update({item.id: item.announce for item in ctx.items if item.announce is not None})
    for item in ctx.items:
        if item.pending_event:
            announce[item.id] = {
                **announce.get(item.id, {}),
                "type": item.pending_event,
                "revision": str(item.revision),
            }
    return done


def is_transient(exc: BaseException) -> bool:
    """Failures worth a retry: the database or Redis went away, a lock or serialisation conflict."""
    import psycopg
    import redis
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | PoolTimeout | redis.ConnectionError | redis.TimeoutError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc.orig,
            psycopg.errors.SerializationFailure
            | psycopg.errors.DeadlockDetected
            | psycopg.errors.LockNotAvailable
            | psycopg.errors.AdminShutdown
            | psycopg.errors.CannotConnectNow,
        )
    return False


def process_batch(
    sessions: sessionmaker,
    settings: Settings,
    stages: Sequence[Stage],
    ids: Sequence[uuid.UUID],
    reliability: ReliabilitySettings | None = None,
) -> BatchOutcome:
    """Process the ingestions; transient errors propagate (the task retries), a poison item fails alone.

    When the whole batch fails for a non-transient reason, or an earlier attempt at it never finished, each
    item runs on its own, so one bad article never holds back the rest.
    """
    reliability = reliability or get_reliability_settings()
    max_attempts = settings.pipeline.max_retries + 1
    outcome = BatchOutcome()
    with sessions.begin() as session:
        attempts = mark_processing(session, ids)
    outcome.skipped = [i for i in ids if i not in attempts]
    # Attempts that never finished (a worker killed each time): out of attempts means parked unprocessed.
    exhausted = [i for i, n in attempts.items() if n > max_attempts]
    if exhausted:
        with sessions.begin() as session:
            park(session, exhausted_failures(exhausted))
        outcome.failed.update(dict.fromkeys(exhausted, "attempts exhausted"))
    claimed = [i for i in ids if i in attempts and i not in set(exhausted)]
    if not claimed:
        return outcome
    # A second unfinished attempt suggests an article that kills the worker: isolate every article.
    isolate = any(attempts[i] > 2 for i in claimed)
    failures: list[Failure] = []
    if not isolate:
        try:
            with sessions.begin() as session:
                outcome.processed = _run_stages(session, settings, stages, claimed, outcome.announce)
        except StageFailed as exc:
            log.warning("batch failed; retrying its items one by one", size=len(claimed), error=str(exc)[:500])
            isolate = True
    if isolate:
        heartbeat_s = settings.pipeline.stalled_after_s / 3
        last_beat = 0.0  # beat at once: a failed batch attempt may have taken longer than the sweeper waits
        for n, article_id in enumerate(claimed):
            if time.monotonic() - last_beat > heartbeat_s:
                with sessions.begin() as session:
                    touch_processing(session, claimed[n:])
                last_beat = time.monotonic()
            try:
                with sessions.begin() as session:
                    outcome.processed += _run_stages(session, settings, stages, [article_id], outcome.announce)
            except StageFailed as exc:
                log.warning("article failed", article_id=str(article_id), stage=exc.stage, error=str(exc)[:500])
                failures.append(Failure.from_exception(article_id, exc.stage, exc.cause))
    if failures:
        with sessions.begin() as session:
            recorded = record_failures(session, failures, max_attempts=max_attempts, settings=reliability)
        by_id = {f.ingestion_id: f.summary for f in failures}
        outcome.failed.update({i: by_id[i] for i in recorded.parked})
        outcome.retry, outcome.retry_in_s = recorded.retry, recorded.retry_in_s
    ARTICLES_PROCESSED.labels(outcome="processed").inc(len(outcome.processed))
    ARTICLES_PROCESSED.labels(outcome="failed").inc(len(outcome.failed))
    return outcome
