"""Wire schemas of the dead-letter endpoints: parked articles and their replays."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class DeadLetterStatus(StrEnum):
    parked = "parked"  # waiting for someone to look at it
    replaying = "replaying"  # replayed, not processed yet
    resolved = "resolved"  # replayed and processed


class DeadLetterOut(BaseModel):
    id: uuid.UUID
    ingestion_id: uuid.UUID = Field(description="The article's id, as answered when it was accepted.")
    status: DeadLetterStatus
    source: str
    external_id: str | None = None
    stage: str = Field(
        description="The pipeline stage that failed, e.g. `normalise`; `worker` when no attempt finished."
    )
    error_type: str = Field(examples=["ValueError"])
    error: str
    stack: str | None = Field(default=None, description="The Python traceback of the last failure.")
    attempts: int
    times_parked: int = Field(description="How often it was parked: more than 1 when a replay failed again.")
    first_failed_at: datetime
    last_failed_at: datetime
    replayed_at: datetime | None = None
    status_url: str


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")


class ReplayAccepted(BaseModel):
    id: uuid.UUID
    ingestion_id: uuid.UUID
    status: DeadLetterStatus = DeadLetterStatus.replaying
    status_url: str
