"""Wire schemas of ingestion receipts: the answer to an accepted article or batch, its status, a withdrawal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.text import StorableText


class Accepted(BaseModel):
    id: uuid.UUID
    status: str = Field(examples=["accepted"])
    status_url: str
    duplicate: bool = Field(
        default=False,
        description="True when the article replays an earlier one (same source and external_id).",
    )
    revision: int = Field(default=1, description="The revision this text is of the article.")
    outcome: str = Field(
        default="created",
        examples=["created"],
        description="`created`, `replayed` (same content as a revision held), `revised` (the new current text), "
        "`kept_older` (an older revision arriving late: in the history only) or `withdrawn`.",
    )


class BatchItemAccepted(Accepted):
    index: int


class BatchItemRejected(BaseModel):
    index: int
    error: dict[str, Any]


class BatchAccepted(BaseModel):
    accepted: list[BatchItemAccepted]
    rejected: list[BatchItemRejected]


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: StorableText | None = Field(default=None, max_length=1000, examples=["legal: withdrawn at source"])


class Withdrawn(BaseModel):
    id: uuid.UUID
    revision: int
    withdrawn_at: datetime
    reason: str | None = None
    already_withdrawn: bool = Field(default=False, description="True when it had been withdrawn before.")


class IngestionStatus(BaseModel):
    id: uuid.UUID
    status: str = Field(examples=["processed"])
    error: str | None = None
    attempts: int
    received_at: datetime
    updated_at: datetime
    processed_at: datetime | None = None
    article_url: str | None = Field(default=None, description="Where the query service serves the record.")
