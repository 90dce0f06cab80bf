"""Article wire schemas: what producers send (``ArticleIn``) and what the services answer."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from shared.config import get_ingest_settings
from shared.dates import WindowedDatetime
from shared.schemas.text import RequiredStorableText, StorableText, storable


def _check_json_strings(value: Any, depth: int = 0) -> None:
    if depth > 8:
        raise ValueError("is nested too deeply (at most 8 levels)")
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            storable(k)
            _check_json_strings(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_json_strings(v, depth + 1)


def _layout(value: dict[str, Any] | list[Any], depth: int = 0) -> int:
    """The separators ``json.dumps`` writes beyond compact JSON (a space after each ``,`` and ``:``), with
    the depth refused as :func:`_check_json_strings` refuses it. Walks containers only."""
    if depth >= 8 and value:
        raise ValueError("is nested too deeply (at most 8 levels)")
    if isinstance(value, dict):
        extra = 2 * len(value) - 1 if value else 0
        children: Any = value.values()
    else:
        extra = len(value) - 1 if value else 0
        children = value
    for child in children:
        if isinstance(child, dict | list):
            extra += _layout(child, depth + 1)
    return extra


def _metadata_too_large(value: dict[str, Any], limit: int) -> bool:
    """Whether ``json.dumps(value, ensure_ascii=False)`` takes more than ``limit`` bytes in UTF-8, after refusing
    what PostgreSQL cannot store. orjson serialises in one native pass and refuses unpaired surrogates; only a
    value it cannot write (an integer past 64 bits) or one that may hold a NUL (written ``\\u0000``) takes the
    walk over every string."""
    try:
        compact = orjson.dumps(value)
    except orjson.JSONEncodeError:
        compact = None
    if compact is None or b"\\u0000" in compact:
        _check_json_strings(value)
        return len(json.dumps(value, ensure_ascii=False).encode()) > limit
    # Each ``,`` and ``:`` of the compact text is at most one separator ``json.dumps`` widens by a space, and
    # fewer than nine containers cannot nest nine deep: within both bounds the walk over the containers
    # could neither refuse the depth nor reach the limit, and is skipped (it is most of this check's cost).
    widest = len(compact) + compact.count(b",") + compact.count(b":")
    if widest <= limit and compact.count(b"{") + compact.count(b"[") <= 8:
        return False
    return len(compact) + _layout(value) > limit


class ArticleIn(BaseModel):
    """One article as a producer sends it. Unknown fields are refused, so a typo never drops data silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # The length limits are part of the class and of its OpenAPI schema: read from the ingest settings once,
    # when the class is defined.
    title: RequiredStorableText = Field(
        max_length=get_ingest_settings().max_title_chars, examples=["Syrian troops on offensive"]
    )
    body: RequiredStorableText = Field(
        max_length=get_ingest_settings().max_body_bytes, description="Plain text; paragraphs by blank lines."
    )
    html: StorableText | None = Field(
        default=None,
        exclude=True,
        max_length=get_ingest_settings().max_body_bytes,
        description="A whole HTML page, sent instead of `body` (title optional too): the main text, title, "
        "authors, date and description are extracted from it. Fields sent alongside win over the page's.",
    )
    summary: StorableText | None = Field(
        default=None, max_length=get_ingest_settings().max_field_chars, description="Standfirst."
    )
    url: HttpUrl | None = Field(default=None, max_length=2048)
    source: StorableText = Field(default="", max_length=200, description="Who sent it: a feed, partner or desk name.")
    external_id: StorableText | None = Field(
        default=None, min_length=1, max_length=500, description="The sender's id; unique per source."
    )
    published_at: WindowedDatetime | None = Field(
        default=None, description="ISO 8601; UTC when no offset is given; its UTC value within the date window."
    )
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$", description="ISO 639-1, if known.")
    authors: list[Annotated[StorableText, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    section: StorableText | None = Field(default=None, max_length=200)
    credit: StorableText | None = Field(default=None, max_length=get_ingest_settings().max_field_chars)
    caption: StorableText | None = Field(default=None, max_length=get_ingest_settings().max_field_chars)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form object, kept as sent.")
    version: int | None = Field(
        default=None,
        ge=0,
        le=2**53,
        description="The sender's version of this article (NewsML-G2 and ninjs `version`): orders its revisions.",
    )
    version_created: WindowedDatetime | None = Field(
        default=None, description="When the sender made this version: orders revisions that carry no `version`."
    )
    withdrawn: bool | None = Field(
        default=None, description="True for a kill or withdrawal of the article with this `external_id`."
    )
    withdrawal_reason: StorableText | None = Field(default=None, max_length=1000)
    revision: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        exclude=True,
        description="The revision number this text becomes (1 for a new article): refused with 409 when another "
        "revision got that number first.",
    )

    @field_validator("metadata")
    @classmethod
    def _metadata_ok(cls, v: dict[str, Any]) -> dict[str, Any]:
        limit = get_ingest_settings().max_metadata_bytes
        if _metadata_too_large(v, limit):
            raise ValueError(f"is larger than {limit} bytes")
        return v

    def payload(self) -> dict[str, Any]:
        """The JSON stored in the ingestion row."""
        return self.model_dump(mode="json", exclude_none=True)

    def payload_json(self) -> str:
        """:meth:`payload` already serialised (pydantic's own encoder), for statements that send JSON text."""
        return self.model_dump_json(exclude_none=True)


class BatchIn(BaseModel):
    articles: list[dict[str, Any]] = Field(description="Up to the configured limit (1,000 by default).")


class DedupDecision(BaseModel):
    cluster_id: uuid.UUID | None = None
    duplicate_of: uuid.UUID | None = None
    is_canonical: bool = True
    similarity: float | None = None
    method: str | None = None
    version: str | None = None


class ArticleOut(BaseModel):
    """A processed article as the query service serves it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    summary: str | None = None
    body: str
    credit: str | None = Field(default=None, description="Source credit, e.g. from a trailing `Source:` line.")
    caption: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    source: str
    external_id: str | None = None
    authors: list[str] = Field(default_factory=list)
    section: str | None = None
    language: str | None = None
    language_score: float | None = None
    word_count: int
    published_at: datetime
    received_at: datetime
    processed_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    dedup: DedupDecision = Field(default_factory=DedupDecision)
    event_id: uuid.UUID | None = Field(default=None, description="The event it reports on (`/v1/events/{id}`).")
    revision: int = Field(default=1, description="The current revision (`/v1/articles/{id}/revisions`).")
    revised_at: datetime | None = Field(default=None, description="When a later revision replaced the first text.")
    withdrawn_at: datetime | None = Field(default=None, description="Set when the article was killed or withdrawn.")
    withdrawal_reason: str | None = None


class ArticleSummary(BaseModel):
    """An article in a result list: everything but the body."""

    id: uuid.UUID
    title: str
    summary: str | None = None
    url: str | None = None
    source: str
    language: str | None = None
    published_at: datetime
    cluster_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    is_canonical: bool = True
    revision: int = 1
    withdrawn: bool = False
    snippet: str | None = Field(default=None, description="Matching passage, when searching with `q`.")


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")
