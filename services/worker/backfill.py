"""Backfills: re-tag recent articles after a rule is created, changed or deleted, or a tagger's version changes.

A job advances in chunks, one transaction each: lock the job row, take the next ``chunk_size`` articles after
the cursor (ordered by id), re-run the one tagger, replace its tags in one statement, move the
cursor and the progress counters. The task then queues itself for the next chunk, so a long backfill never
holds a worker and survives restarts; the sweep re-queues jobs that stopped moving.

A rule job first waits until every pipeline transaction that read the rules before the change has committed
(``wait_for_rule_readers``): those articles are then visible to its scan, and every later transaction reads the
new rule, so no article falls between the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import structlog
from celery import Task
from sqlalchemy import Select, Table, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.worker.app import app
from services.worker.pipeline import is_transient
from services.worker.resources import resources
from services.worker.stages.tagging import taggers
from shared.db.models import Article, ArticleTag, BackfillJob, BackfillState, TaggerVersion
from shared.metrics import TAGS_WRITTEN
from shared.retry import backoff_s
from shared.stalled import claim_statement
from shared.tagging.base import Tag
from shared.tagging.jobs import new_job, supersede
from shared.tagging.rules import RuleTagger
from shared.tagging.settings import get_tagging_settings
from shared.tagging.store import document_of, load_rules, replace_tags, wait_for_rule_readers
from shared.tasks import QueueName, TaskName

log = structlog.get_logger(__name__)

_ARTICLE_COLUMNS = (
    Article.id,
    Article.title,
    Article.summary,
    Article.caption,
    Article.body,
    Article.source,
    Article.section,
    Article.language,
    Article.language_score,
)


@dataclass
class ChunkResult:
    state: str
    done: int
    more: bool


def _locked_job(session: Session, job_id: uuid.UUID) -> BackfillJob | None:
    """The job, locked for this transaction; None if another worker holds it (that worker carries it on)."""
    stmt = select(BackfillJob).where(BackfillJob.id == job_id).with_for_update(skip_locked=True)
    return session.scalars(stmt).first()


def _scope(job: BackfillJob) -> Select:
    stmt = select(*_ARTICLE_COLUMNS)
    if job.since is not None:
        stmt = stmt.where(Article.published_at >= job.since)
    return stmt


def _start(sessions: sessionmaker, job_id: uuid.UUID, *, is_rule: bool) -> None:
    if is_rule:
        with sessions.begin() as session:
            wait_for_rule_readers(session)  # released at once: only the waiting matters
    with sessions.begin() as session:
        job = _locked_job(session, job_id)
        if job is None or job.state != BackfillState.PENDING:
            return
        if job.action == "remove":
            total = session.scalar(select(func.count()).select_from(ArticleTag).where(ArticleTag.tagger == job.tagger))
        else:
            total = session.scalar(select(func.count()).select_from(_scope(job).subquery()))
        job.total = int(total or 0)
        job.state = BackfillState.RUNNING
        job.started_at = job.updated_at = func.now()


def _tags_for(session: Session, job: BackfillJob, rows: Sequence[object]) -> list[list[Tag]] | None:
    """New tags of the job's one tagger for each article row; None when the job is out of date."""
    docs = [document_of(row) for row in rows]  # type: ignore[arg-type]
    if job.rule_id is not None:
        rules = load_rules(session, rule_ids=[job.rule_id])
        if not rules or str(rules[0].version) != job.tagger_version:
            return None  # the rule changed or went since: a newer job does the work
        return RuleTagger(rules).tag(docs)
    return taggers((job.tagger,)).tag(docs)


def _finish(job: BackfillJob, state: str = BackfillState.DONE) -> None:
    job.state = state
    job.finished_at = job.updated_at = func.now()


def run_chunk(sessions: sessionmaker, job_id: uuid.UUID, *, chunk_size: int) -> ChunkResult:
    """Advance the job by one chunk; ``more`` says whether another chunk is due."""
    with sessions.begin() as session:
        job = _locked_job(session, job_id)
        if job is None:
            return ChunkResult(state="busy", done=0, more=False)
        state, is_rule = job.state, job.rule_id is not None
    if state == BackfillState.PENDING:
        _start(sessions, job_id, is_rule=is_rule)
    with sessions.begin() as session:
        job = _locked_job(session, job_id)
        if job is None:
            return ChunkResult(state="busy", done=0, more=False)
        if job.state != BackfillState.RUNNING:
            return ChunkResult(state=job.state, done=job.done, more=False)
        if job.action == "remove":
            victims = select(ArticleTag.article_id, ArticleTag.kind, ArticleTag.value, ArticleTag.tagger)
            victims = victims.where(ArticleTag.tagger == job.tagger).limit(chunk_size)
            keys = session.execute(victims).all()
            if keys:
                session.execute(
                    delete(ArticleTag).where(
                        ArticleTag.tagger == job.tagger,
                        ArticleTag.article_id.in_({k.article_id for k in keys}),
                    )
                )
            job.done += len(keys)
            finished = len(keys) < chunk_size
        else:
            stmt = _scope(job).order_by(Article.id).limit(chunk_size)
            if job.cursor is not None:
                stmt = stmt.where(Article.id > job.cursor)
            rows = session.execute(stmt).all()
            tags = _tags_for(session, job, rows) if rows else []
            if tags is None:
                _finish(job, BackfillState.SUPERSEDED)
                return ChunkResult(state=job.state, done=job.done, more=False)
            written = replace_tags(session, {r.id: t for r, t in zip(rows, tags, strict=True)}, taggers=[job.tagger])
            if written:
                TAGS_WRITTEN.labels(kind="backfill").inc(written)
            if rows:
                job.cursor = rows[-1].id
            job.done += len(rows)
            job.tagged += sum(1 for t in tags if t)
            finished = len(rows) < chunk_size
        job.updated_at = func.now()
        if finished:
            _finish(job)
        return ChunkResult(
            state=BackfillState.DONE if finished else BackfillState.RUNNING, done=job.done, more=not finished
        )


def fail(sessions: sessionmaker, job_id: uuid.UUID, error: str) -> None:
    with sessions.begin() as session:
        job = session.get(BackfillJob, job_id, with_for_update=True)
        if job is not None and job.state in BackfillState.ACTIVE:
            job.error = error[:4000]
            _finish(job, BackfillState.FAILED)


def register_versions(session: Session, versions: dict[str, str], *, window_days: int) -> list[uuid.UUID]:
    """Record the taggers' versions; a changed one gets a re-tag job (returned). The first sighting of a tagger
    only records it. Concurrent workers are serialised by the row lock, so one change makes one job."""
    from sqlalchemy.dialects.postgresql import insert

    session.execute(
        insert(TaggerVersion)
        .values([{"tagger": t, "version": v} for t, v in versions.items()])
        .on_conflict_do_nothing(index_elements=[TaggerVersion.tagger])
    )
    rows = session.scalars(
        select(TaggerVersion).where(TaggerVersion.tagger.in_(list(versions))).with_for_update()
    ).all()
    jobs = []
    for row in rows:
        current = versions[row.tagger]
        if row.version == current:
            continue
        reason = f"tagger {row.tagger} changed from {row.version} to {current}"
        row.version, row.updated_at = current, func.now()
        session.execute(supersede(row.tagger))
        job = new_job(tagger=row.tagger, tagger_version=current, reason=reason, window_days=window_days)
        session.add(job)
        jobs.append(job.id)
        log.info("tagger version changed; backfill queued", tagger=row.tagger, version=current, job_id=str(job.id))
    return jobs


_CLAIM_STALLED = claim_statement(
    cast(Table, BackfillJob.__table__),
    stale=text("state IN ('pending', 'running') AND updated_at < now() - make_interval(secs => :stalled_after)"),
    limit=100,
)


def claim_stalled_jobs(session: Session, *, stalled_after_s: float) -> list[uuid.UUID]:
    """Active jobs that have not moved for a while (their task was lost): touched, and returned to re-queue."""
    return [r.id for r in session.execute(_CLAIM_STALLED, {"stalled_after": stalled_after_s})]


@app.task(name=TaskName.BACKFILL_RUN, bind=True, queue=QueueName.BACKFILL, max_retries=10)
def run_backfill_task(self: Task, job_id: str) -> dict[str, object]:
    res = resources()
    job = uuid.UUID(job_id)
    try:
        result = run_chunk(res.sessions, job, chunk_size=get_tagging_settings().backfill_chunk_size)
    except Exception as exc:
        if is_transient(exc):
            raise self.retry(
                exc=exc, countdown=backoff_s(self.request.retries, base=2.0, cap=60.0, jitter=(1.0, 1.0))
            ) from exc
        log.exception("backfill failed", job_id=job_id)
        fail(res.sessions, job, f"{type(exc).__name__}: {exc}")
        raise
    if result.more:
        run_backfill_task.apply_async(args=[job_id])
    return {"state": result.state, "done": result.done}


@app.task(name=TaskName.BACKFILL_SWEEP, queue=QueueName.BACKFILL)
def sweep_backfills_task() -> dict[str, int]:
    res = resources()
    settings = get_tagging_settings()
    versions = taggers().versions()
    with res.sessions.begin() as session:
        created = register_versions(session, versions, window_days=settings.backfill_window_days)
        stalled = claim_stalled_jobs(session, stalled_after_s=settings.backfill_stalled_after_s)
    for job_id in [*created, *stalled]:
        run_backfill_task.apply_async(args=[str(job_id)])
    return {"created": len(created), "requeued": len(stalled)}
