"""Wire schemas of ingestion receipts: the answer to an accepted article or batch, and its status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Accepted(BaseModel):
    id: uuid.UUID
    status: str = Field(examples=["accepted"])
    status_url: str
    duplicate: bool = Field(
        default=False,
        description="True when the article replays an earlier one (same source and external_id).",
    )


class BatchItemAccepted(Accepted):
    index: int


class BatchItemRejected(BaseModel):
    index: int
    error: dict[str, Any]


class BatchAccepted(BaseModel):
    accepted: list[BatchItemAccepted]
    rejected: list[BatchItemRejected]


class IngestionStatus(BaseModel):
    id: uuid.UUID
    status: str = Field(examples=["processed"])
    error: str | None = None
    attempts: int
    received_at: datetime
    updated_at: datetime
    processed_at: datetime | None = None
    article_url: str | None = Field(default=None, description="Where the query service serves the record.")
