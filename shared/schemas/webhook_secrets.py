"""Wire schemas of a source's webhook signing secrets: never their values once issued."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SecretInfo(BaseModel):
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime | None = Field(default=None, description="Null: valid until the next rotation.")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_period_s: int | None = Field(
        default=None, ge=0, le=30 * 86400, description="How long the old secret stays valid (default: 24 hours)."
    )


class SecretRotated(BaseModel):
    source: str
    secret: str = Field(description="The new signing secret. Shown this once: store it now.")
    previous_valid_until: datetime | None = Field(
        default=None, description="When the secrets valid before the rotation stop working."
    )
