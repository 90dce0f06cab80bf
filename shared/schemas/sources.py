"""Wire schemas of the sources endpoints: who sends articles, and whether they sign webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.text import StorableText
from shared.schemas.webhook_secrets import SecretInfo

SOURCE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SourceName = Annotated[str, Field(pattern=SOURCE_NAME_PATTERN, examples=["reuters"])]


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SourceName = Field(description="The articles' `source`; letters, digits, `.`, `_`, `-`.")
    description: StorableText | None = Field(default=None, max_length=2000)
    webhooks: bool = Field(default=False, description="Issue a signing secret so the source can send webhooks.")


class SourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: StorableText | None = Field(default=None, max_length=2000)
    webhooks: bool | None = None
    active: bool | None = Field(default=None, description="An inactive source's webhooks are refused.")


class SourceOut(BaseModel):
    name: str
    description: str | None = None
    webhooks: bool
    active: bool
    created_at: datetime
    updated_at: datetime
    secrets: list[SecretInfo] = Field(default_factory=list, description="The valid secrets; never their values.")


class SourceWithSecret(SourceOut):
    secret: str | None = Field(
        default=None,
        description="The new signing secret (`whsec_` + base64). Shown this once: store it now.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
