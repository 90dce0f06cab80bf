"""Wire schemas of the API keys endpoints: a key's scopes, limits and granted sources."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api.keys import Scope
from shared.schemas.text import RequiredStorableText, StorableText

# A granted source is spelt as an article's ``source`` may be: any storable text up to 200 characters.
GrantedSources = Annotated[
    list[Annotated[StorableText, Field(max_length=200)]] | None,
    Field(
        max_length=1000,
        description="The sources a non-admin key may write to (articles, batches, feeds), and only those. "
        "Null: any source nobody has registered (`POST /v1/sources`, or a feed's source); a registered source "
        "is written only by the keys granted it, admin keys and its own signed webhooks.",
        examples=[["newsdesk", "partner-x"]],
    ),
]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: RequiredStorableText = Field(max_length=200, examples=["newsroom importer"])
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))] = Field(
        description="`ingest` (the write API), `query` (the read API), `deliver` (saved searches that send "
        "webhooks, with `query`), `admin` (everything), `unlimited` (never rate limited, for internal "
        "services; grants nothing else)."
    )
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Requests per minute; when null, the server's default for the key's scopes.",
    )
    expires_at: datetime | None = Field(default=None, description="ISO 8601; never expires when null.")
    sources: GrantedSources = None

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return v
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        if v <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return v


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it; the key itself is never shown again.")
    scopes: list[Scope]
    rate_limit_per_minute: int | None = None
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = Field(default=None, description="To the minute.")
    revoked_at: datetime | None = None
    sources: list[str] | None = Field(default=None, description="The sources it may write to; null: see `ApiKeyIn`.")


class ApiKeyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sources: GrantedSources = None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key, shown this once: store it now.", examples=["tdg_..."])
