"""Corrections to dedup decisions: mark an article as not a duplicate (it leaves its cluster for good)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.ingest.deps import SessionDep
from shared.api.errors import ApiError
from shared.db.models import Ingestion
from shared.dedup.corrections import NotProcessed, mark_not_duplicate
from shared.dedup.settings import get_dedup_settings
from shared.schemas.errors import error_responses
from shared.schemas.text import StorableText

router = APIRouter(prefix="/v1/articles", tags=["corrections"])


class NotDuplicateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: StorableText | None = Field(default=None, max_length=2_000, description="Why: kept with the correction.")


class CorrectionOut(BaseModel):
    article_id: uuid.UUID
    cluster_id: uuid.UUID = Field(description="The article's cluster now: its own.")
    previous_cluster_id: uuid.UUID | None = Field(description="The cluster it was taken out of.")
    moved: bool = Field(description="False when it was already alone (the correction is still recorded).")
    method: str = "correction"


@router.post(
    "/{article_id}/not-duplicate",
    response_model=CorrectionOut,
    summary="Mark an article as not a duplicate: it leaves its cluster, also on reprocessing",
    responses=error_responses(400, 404, 409, 422),
)
async def not_duplicate(
    article_id: uuid.UUID, session: SessionDep, body: NotDuplicateIn | None = None
) -> CorrectionOut:
    try:
        done = await mark_not_duplicate(
            session, article_id=article_id, note=body.note if body else None, settings=get_dedup_settings()
        )
    except NotProcessed:
        await session.rollback()
        if await session.get(Ingestion, article_id) is None:
            raise ApiError(404, f"no article {article_id}", field="article_id") from None
        raise ApiError(
            409, f"article {article_id} is not processed yet; retry once its status is processed", field="article_id"
        ) from None
    await session.commit()
    return CorrectionOut(
        article_id=done.article_id,
        cluster_id=done.cluster_id,
        previous_cluster_id=done.previous_cluster_id,
        moved=done.moved,
    )
