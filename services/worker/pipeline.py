"""The pipeline over one batch of ingestion ids, as plain functions the Celery task wraps.

Stages run in order over the whole batch inside one transaction; the articles are written with one upsert;
then the stages that write rows referring to articles run; then the state flips to processed and the
transaction commits. Re-running a batch yields the same rows (upserts keyed by the ingestion id).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session, sessionmaker

from services.worker.context import BatchContext
from services.worker.stages import Stage, StoresAfter
from services.worker.stages.dedup import dedup_stages
from services.worker.stages.language import LanguageStage
from services.worker.stages.normalise import NormaliseStage
from services.worker.stages.tagging import tagging_stages
from services.worker.store import lock_items, mark_failed, mark_processed, mark_processing, upsert_articles
from shared.config import Settings
from shared.metrics import ARTICLES_PROCESSED, STAGE_SECONDS

log = structlog.get_logger(__name__)


def build_stages(settings: Settings) -> list[Stage]:
    """The stage list: normalise, language, then deduplication and tagging."""
    return [NormaliseStage(), LanguageStage(), *dedup_stages(settings), *tagging_stages(settings)]


@dataclass
class BatchOutcome:
    processed: list[uuid.UUID] = field(default_factory=list)
    failed: dict[uuid.UUID, str] = field(default_factory=dict)
    skipped: list[uuid.UUID] = field(default_factory=list)


def _run_stages(
    session: Session, settings: Settings, stages: Sequence[Stage], ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    items = lock_items(session, ids)
    if not items:
        return []
    ctx = BatchContext(session=session, settings=settings, items=items)
    for stage in stages:
        started = time.perf_counter()
        stage.process(ctx)
        STAGE_SECONDS.labels(stage=stage.name).observe(time.perf_counter() - started)
    upsert_articles(session, ctx.items)
    for stage in stages:
        if isinstance(stage, StoresAfter):
            stage.after_store(ctx)
    done = [item.id for item in ctx.items]
    mark_processed(session, done)
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
            psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected | psycopg.errors.LockNotAvailable,
        )
    return False


def process_batch(
    sessions: sessionmaker, settings: Settings, stages: Sequence[Stage], ids: Sequence[uuid.UUID]
) -> BatchOutcome:
    """Process the ingestions; transient errors propagate (the task retries), a poison item fails alone.

    When the whole batch fails for a non-transient reason, each item is tried on its own, so one bad article
    never holds back the rest.
    """
    outcome = BatchOutcome()
    with sessions.begin() as session:
        claimed = mark_processing(session, ids)
    outcome.skipped = [i for i in ids if i not in set(claimed)]
    if not claimed:
        return outcome
    try:
        with sessions.begin() as session:
            outcome.processed = _run_stages(session, settings, stages, claimed)
    except Exception as exc:
        if is_transient(exc):
            raise
        log.warning("batch failed; retrying its items one by one", size=len(claimed), error=repr(exc))
        for article_id in claimed:
            try:
                with sessions.begin() as session:
                    outcome.processed += _run_stages(session, settings, stages, [article_id])
            except Exception as item_exc:
                if is_transient(item_exc):
                    raise
                log.exception("article failed", article_id=str(article_id))
                outcome.failed[article_id] = f"{type(item_exc).__name__}: {item_exc}"
        if outcome.failed:
            with sessions.begin() as session:
                for article_id, error in outcome.failed.items():
                    mark_failed(session, [article_id], error)
    ARTICLES_PROCESSED.labels(outcome="processed").inc(len(outcome.processed))
    ARTICLES_PROCESSED.labels(outcome="failed").inc(len(outcome.failed))
    return outcome
