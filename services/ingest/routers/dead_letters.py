"""``/v1/dead-letters``: articles parked after repeated failures, and their replay (admin scope)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Select, and_, func, select, update

from services.ingest.deps import SessionDep
from services.ingest.intake import IntakeDep
from shared.api.auth import Scope, require_scope
from shared.api.errors import ApiError
from shared.db.models import DeadLetter, Ingestion, IngestionState
from shared.schemas.dead_letters import DeadLetterOut, DeadLetterPage, DeadLetterStatus, ReplayAccepted
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"], dependencies=[Depends(require_scope(Scope.admin))])


def _status_url(ingestion_id: uuid.UUID) -> str:
    return f"/v1/articles/{ingestion_id}/status"


def _status(row: Any) -> DeadLetterStatus:
    if row.replayed_at is None:
        return DeadLetterStatus.parked
    return DeadLetterStatus.resolved if row.state == IngestionState.processed.value else DeadLetterStatus.replaying


def _out(row: Any) -> DeadLetterOut:
    return DeadLetterOut(
        id=row.id,
        ingestion_id=row.ingestion_id,
        status=_status(row),
        source=row.source,
        external_id=row.external_id,
        stage=row.stage,
        error_type=row.error_type,
        error=row.error,
        stack=row.stack,
        attempts=row.attempts,
        times_parked=row.times_parked,
        first_failed_at=row.first_failed_at,
        last_failed_at=row.last_failed_at,
        replayed_at=row.replayed_at,
        status_url=_status_url(row.ingestion_id),
    )


def _select() -> Select:
    return select(
        DeadLetter.id,
        DeadLetter.ingestion_id,
        DeadLetter.stage,
        DeadLetter.error_type,
        DeadLetter.error,
        DeadLetter.stack,
        DeadLetter.attempts,
        DeadLetter.times_parked,
        DeadLetter.first_failed_at,
        DeadLetter.last_failed_at,
        DeadLetter.replayed_at,
        Ingestion.source,
        Ingestion.external_id,
        Ingestion.state,
    ).join(Ingestion, Ingestion.id == DeadLetter.ingestion_id)


def _status_filter(status: DeadLetterStatus) -> Any:
    if status is DeadLetterStatus.parked:
        return DeadLetter.replayed_at.is_(None)
    processed = Ingestion.state == IngestionState.processed.value
    return and_(DeadLetter.replayed_at.isnot(None), processed if status is DeadLetterStatus.resolved else ~processed)


@router.get(
    "",
    response_model=DeadLetterPage,
    summary="Articles parked after repeated failures, newest first",
    responses=error_responses(400),
)
async def list_dead_letters(
    session: SessionDep,
    status: Annotated[
        Literal["parked", "replaying", "resolved", "all"], Query(description="Which dead letters to list.")
    ] = "parked",
    stage: Annotated[str | None, Query(max_length=100, description="Only failures in this stage.")] = None,
    source: Annotated[str | None, Query(max_length=200, description="Only articles from this source.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, description="`next_cursor` of the previous page.")] = None,
) -> DeadLetterPage:
    stmt = _select().order_by(DeadLetter.id.desc()).limit(limit + 1)
    if status != "all":
        stmt = stmt.where(_status_filter(DeadLetterStatus(status)))
    if stage is not None:
        stmt = stmt.where(DeadLetter.stage == stage)
    if source is not None:
        stmt = stmt.where(Ingestion.source == source)
    if cursor is not None:
        try:
            after = uuid.UUID(cursor)
        except ValueError as exc:
            raise ApiError(400, "invalid cursor", field="cursor") from exc
        stmt = stmt.where(DeadLetter.id < after)
    rows = (await session.execute(stmt)).all()
    items = [_out(r) for r in rows[:limit]]
    return DeadLetterPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


@router.get(
    "/{dead_letter_id}",
    response_model=DeadLetterOut,
    summary="One dead letter, with its error and stack",
    responses=error_responses(404),
)
async def get_dead_letter(dead_letter_id: uuid.UUID, session: SessionDep) -> DeadLetterOut:
    row = (await session.execute(_select().where(DeadLetter.id == dead_letter_id))).first()
    if row is None:
        raise ApiError(404, f"no dead letter {dead_letter_id}", field="dead_letter_id")
    return _out(row)


@router.post(
    "/{dead_letter_id}/replay",
    status_code=202,
    response_model=ReplayAccepted,
    summary="Send a parked article through the pipeline again, with a fresh set of attempts",
    responses=error_responses(404, 409),
)
async def replay_dead_letter(dead_letter_id: uuid.UUID, session: SessionDep, intake: IntakeDep) -> JSONResponse:
    letter = (
        await session.execute(select(DeadLetter).where(DeadLetter.id == dead_letter_id).with_for_update())
    ).scalar_one_or_none()
    if letter is None:
        raise ApiError(404, f"no dead letter {dead_letter_id}", field="dead_letter_id")
    if letter.replayed_at is not None:
        raise ApiError(409, "this dead letter was replayed already", field="dead_letter_id")
    reset = await session.execute(
        update(Ingestion)
        .where(Ingestion.id == letter.ingestion_id, Ingestion.state == IngestionState.failed.value)
        .values(
            state=IngestionState.accepted.value, attempts=0, error=None, next_attempt_at=None, updated_at=func.now()
        )
        .returning(Ingestion.id)
    )
    if reset.first() is None:
        raise ApiError(409, "the article is no longer parked", field="dead_letter_id")
    letter.replayed_at = func.now()
    ingestion_id = letter.ingestion_id
    await session.commit()
    # Committed first: if Redis cannot take the task now, the sweeper queues the accepted row later.
    await intake.requeue([ingestion_id])
    body = ReplayAccepted(id=dead_letter_id, ingestion_id=ingestion_id, status_url=_status_url(ingestion_id))
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": body.status_url})
