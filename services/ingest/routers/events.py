"""Corrections to event decisions: split an article out of its event, merge two events. Both stick when the
articles are processed again."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.ingest.deps import SessionDep
from shared.api.errors import ApiError
from shared.db.models import Ingestion
from shared.events.corrections import CannotMerge, NoEvent, NotProcessed, merge_events, split_article
from shared.events.settings import get_event_settings
from shared.schemas.errors import error_responses
from shared.schemas.text import StorableText

router = APIRouter(tags=["corrections"])


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: StorableText | None = Field(default=None, max_length=2_000, description="Why: kept with the correction.")


class MergeIn(NoteIn):
    into: uuid.UUID = Field(description="The event that takes the other's articles.")


class SplitOut(BaseModel):
    article_id: uuid.UUID
    event_id: uuid.UUID = Field(description="The article's event now: its own.")
    previous_event_id: uuid.UUID | None = Field(description="The event it was taken out of.")
    moved: bool = Field(description="False when it was already alone (the correction is still recorded).")


class MergeOut(BaseModel):
    event_id: uuid.UUID = Field(description="The event merged away (it keeps `merged_into`).")
    into: uuid.UUID
    moved: int = Field(description="Articles moved.")


@router.post(
    "/v1/articles/{article_id}/event-split",
    response_model=SplitOut,
    summary="Take an article out of its event into one of its own, also on reprocessing",
    responses=error_responses(400, 404, 409, 422),
)
async def event_split(article_id: uuid.UUID, session: SessionDep, body: NoteIn | None = None) -> SplitOut:
    try:
        done = await split_article(
            session, article_id=article_id, note=body.note if body else None, settings=get_event_settings()
        )
    except NotProcessed:
        await session.rollback()
        if await session.get(Ingestion, article_id) is None:
            raise ApiError(404, f"no article {article_id}", field="article_id") from None
        raise ApiError(
            409, f"article {article_id} has no event yet; retry once its status is processed", field="article_id"
        ) from None
    await session.commit()
    return SplitOut(
        article_id=done.article_id, event_id=done.event_id, previous_event_id=done.previous_event_id, moved=done.moved
    )


@router.post(
    "/v1/events/{event_id}/merge",
    response_model=MergeOut,
    summary="Merge an event into another: its articles move there, also on reprocessing",
    responses=error_responses(400, 404, 409, 422),
)
async def event_merge(event_id: uuid.UUID, body: MergeIn, session: SessionDep) -> MergeOut:
    try:
        done = await merge_events(session, event_id=event_id, into=body.into, note=body.note)
    except NoEvent as exc:
        await session.rollback()
        missing = exc.args[0]
        raise ApiError(404, f"no event {missing}", field="into" if missing == body.into else "event_id") from None
    except CannotMerge as exc:
        await session.rollback()
        raise ApiError(409, str(exc), field="into") from None
    await session.commit()
    return MergeOut(event_id=done.event_id, into=done.into, moved=done.moved)
