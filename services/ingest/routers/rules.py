"""User tagging rules (``/v1/rules``) and the progress of the backfills they start (``/v1/backfills``).

Creating, changing or deleting a rule commits the rule and a backfill job together, then queues the job: the
worker re-tags the recent articles (or removes a deleted rule's tags) in chunks, and the job row reports how far
it has got. If the queue is down, the job waits in the table and the worker's sweep picks it up.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select

from services.ingest.deps import SessionDep
from services.ingest.intake import IntakeDep
from shared.api.errors import ApiError
from shared.db.models import BackfillJob, TagRule
from shared.ids import uuid7
from shared.schemas.errors import error_responses
from shared.schemas.text import StorableText
from shared.tagging.jobs import new_job, supersede
from shared.tagging.rule_language import MAX_LENGTH, RuleSyntaxError, parse
from shared.tagging.rules import rule_tagger_name
from shared.tagging.settings import get_tagging_settings
from shared.tasks import TaskName

router = APIRouter(tags=["rules"])


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StorableText = Field(min_length=1, max_length=200, description="What the rule is for, for people.")
    tag: StorableText = Field(min_length=1, max_length=100, description="The tag it adds (the tag's value).")
    expression: StorableText = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        description='Boolean expression: words, "phrases", prefix*, AND/OR/NOT, parentheses, field scopes '
        "(title:, summary:, body:, caption:, source:, section:, language:). See docs/tagging.md.",
        examples=['(syria OR "bashar al-assad") AND NOT title:football'],
    )
    enabled: bool = True

    @field_validator("name", "tag")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("must not be blank")
        return v


class BackfillOut(BaseModel):
    id: uuid.UUID
    tagger: str
    tagger_version: str
    rule_id: uuid.UUID | None
    reason: str
    action: str = Field(description="`retag` recent articles, or `remove` a deleted or disabled rule's tags.")
    state: str = Field(description="pending, running, done, failed or superseded (a newer change took over).")
    total: int | None = Field(description="Articles (or tags, for `remove`) in scope; known once it starts.")
    done: int
    tagged: int = Field(description="Articles that came out with the tag (retag jobs).")
    progress: float | None = Field(description="done / total, 0-1.")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status_url: str


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    tag: str
    expression: str
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime
    backfill: BackfillOut | None = Field(default=None, description="The latest backfill this rule started.")


class RuleList(BaseModel):
    items: list[RuleOut]


class RuleDeleted(BaseModel):
    id: uuid.UUID
    deleted: bool = True
    backfill: BackfillOut


def backfill_out(job: BackfillJob) -> BackfillOut:
    progress = None
    if job.total is not None:
        progress = 1.0 if job.total == 0 else round(min(1.0, job.done / job.total), 4)
    if job.state == "done":
        progress = 1.0
    return BackfillOut(
        id=job.id,
        tagger=job.tagger,
        tagger_version=job.tagger_version,
        rule_id=job.rule_id,
        reason=job.reason,
        action=job.action,
        state=job.state,
        total=job.total,
        done=job.done,
        tagged=job.tagged,
        progress=progress,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        status_url=f"/v1/backfills/{job.id}",
    )


def rule_out(rule: TagRule, job: BackfillJob | None) -> RuleOut:
    return RuleOut(
        id=rule.id,
        name=rule.name,
        tag=rule.tag,
        expression=rule.expression,
        enabled=rule.enabled,
        version=rule.version,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
        backfill=backfill_out(job) if job is not None else None,
    )


def _check_expression(expression: str) -> None:
    try:
        parse(expression)
    except RuleSyntaxError as exc:
        raise ApiError(
            422,
            f"invalid expression: {exc.message} at position {exc.position}",
            details=[{"field": "expression", "message": exc.message, "position": exc.position}],
        ) from exc


async def _rule(session: SessionDep, rule_id: uuid.UUID) -> TagRule:
    rule = await session.get(TagRule, rule_id)
    if rule is None:
        raise ApiError(404, f"no rule {rule_id}", field="rule_id")
    return rule


async def _latest_job(session: SessionDep, rule_id: uuid.UUID) -> BackfillJob | None:
    stmt = select(BackfillJob).where(BackfillJob.rule_id == rule_id).order_by(BackfillJob.created_at.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def _start_job(session: SessionDep, rule: TagRule, *, reason: str, remove: bool) -> BackfillJob:
    tagger = rule_tagger_name(rule.id)
    await session.execute(supersede(tagger))
    job = new_job(
        tagger=tagger,
        tagger_version=str(rule.version),
        reason=reason,
        action="remove" if remove else "retag",
        rule_id=rule.id,
        window_days=get_tagging_settings().backfill_window_days,
    )
    session.add(job)
    return job


@router.post(
    "/v1/rules",
    status_code=201,
    response_model=RuleOut,
    summary="Create a rule; recent articles are re-tagged in the background",
    responses=error_responses(400, 422),
)
async def create_rule(body: RuleIn, session: SessionDep, intake: IntakeDep, response: Response) -> RuleOut:
    _check_expression(body.expression)
    rule = TagRule(
        id=uuid7(), name=body.name, tag=body.tag, expression=body.expression, enabled=body.enabled, version=1
    )
    session.add(rule)
    await session.flush()
    job = await _start_job(session, rule, reason="rule created", remove=False) if rule.enabled else None
    await session.commit()
    await session.refresh(rule)
    if job is not None:
        await session.refresh(job)
        await intake.send(TaskName.BACKFILL_RUN, [str(job.id)])
    response.headers["Location"] = f"/v1/rules/{rule.id}"
    return rule_out(rule, job)


@router.get("/v1/rules", response_model=RuleList, summary="All rules, oldest first")
async def list_rules(session: SessionDep) -> RuleList:
    rules = (await session.scalars(select(TagRule).order_by(TagRule.created_at, TagRule.id))).all()
    latest: dict[uuid.UUID, BackfillJob] = {}
    if rules:
        ranked = (
            select(
                BackfillJob,
                func.row_number()
                .over(partition_by=BackfillJob.rule_id, order_by=BackfillJob.created_at.desc())
                .label("n"),
            )
            .where(BackfillJob.rule_id.in_([r.id for r in rules]))
            .subquery()
        )
        jobs = await session.execute(
            select(BackfillJob).join(ranked, BackfillJob.id == ranked.c.id).where(ranked.c.n == 1)
        )
        latest = {job.rule_id: job for job in jobs.scalars() if job.rule_id is not None}
    return RuleList(items=[rule_out(r, latest.get(r.id)) for r in rules])


@router.get("/v1/rules/{rule_id}", response_model=RuleOut, summary="One rule", responses=error_responses(400, 404))
async def get_rule(rule_id: uuid.UUID, session: SessionDep) -> RuleOut:
    rule = await _rule(session, rule_id)
    return rule_out(rule, await _latest_job(session, rule.id))


@router.put(
    "/v1/rules/{rule_id}",
    response_model=RuleOut,
    summary="Replace a rule; a change re-tags recent articles (disabling removes its tags)",
    responses=error_responses(400, 404, 422),
)
async def replace_rule(rule_id: uuid.UUID, body: RuleIn, session: SessionDep, intake: IntakeDep) -> RuleOut:
    _check_expression(body.expression)
    rule = await session.get(TagRule, rule_id, with_for_update=True)
    if rule is None:
        raise ApiError(404, f"no rule {rule_id}", field="rule_id")
    changed = (rule.name, rule.tag, rule.expression, rule.enabled) != (
        body.name,
        body.tag,
        body.expression,
        body.enabled,
    )
    job = None
    if changed:
        rule.name, rule.tag, rule.expression, rule.enabled = body.name, body.tag, body.expression, body.enabled
        rule.version += 1
        rule.updated_at = func.now()
        await session.flush()
        reason = "rule changed" if rule.enabled else "rule disabled"
        job = await _start_job(session, rule, reason=reason, remove=not rule.enabled)
    await session.commit()
    await session.refresh(rule)
    if job is not None:
        await session.refresh(job)
        await intake.send(TaskName.BACKFILL_RUN, [str(job.id)])
    return rule_out(rule, job or await _latest_job(session, rule.id))


@router.delete(
    "/v1/rules/{rule_id}",
    status_code=202,
    response_model=RuleDeleted,
    summary="Delete a rule; its tags are removed in the background",
    responses=error_responses(400, 404),
)
async def delete_rule(rule_id: uuid.UUID, session: SessionDep, intake: IntakeDep) -> RuleDeleted:
    rule = await session.get(TagRule, rule_id, with_for_update=True)
    if rule is None:
        raise ApiError(404, f"no rule {rule_id}", field="rule_id")
    job = await _start_job(session, rule, reason="rule deleted", remove=True)
    await session.delete(rule)
    await session.commit()
    await session.refresh(job)
    await intake.send(TaskName.BACKFILL_RUN, [str(job.id)])
    return RuleDeleted(id=rule_id, backfill=backfill_out(job))


@router.get(
    "/v1/rules/{rule_id}/backfill",
    response_model=BackfillOut,
    summary="The latest backfill of a rule",
    responses=error_responses(400, 404),
)
async def get_rule_backfill(rule_id: uuid.UUID, session: SessionDep) -> BackfillOut:
    job = await _latest_job(session, rule_id)
    if job is None:
        raise ApiError(404, f"no backfill for rule {rule_id}", field="rule_id")
    return backfill_out(job)


@router.get(
    "/v1/backfills/{backfill_id}",
    response_model=BackfillOut,
    summary="Progress of a backfill (rule change or tagger upgrade)",
    responses=error_responses(400, 404),
)
async def get_backfill(backfill_id: uuid.UUID, session: SessionDep) -> BackfillOut:
    job = await session.get(BackfillJob, backfill_id)
    if job is None:
        raise ApiError(404, f"no backfill {backfill_id}", field="backfill_id")
    return backfill_out(job)
