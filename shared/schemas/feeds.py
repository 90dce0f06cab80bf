"""Wire schemas of the feeds endpoints: a registered feed, its health and its recent polls."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.sources import SourceName
from shared.schemas.text import StorableText


class FeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: StorableText = Field(max_length=2048, examples=["https://feeds.example.com/world.rss"])
    source: SourceName | None = Field(default=None, description="The articles' `source`; default: the host.")
    title: StorableText | None = Field(default=None, max_length=500)
    min_interval_s: int | None = Field(default=None, ge=10, le=30 * 86400)
    max_interval_s: int | None = Field(default=None, ge=10, le=30 * 86400)


class FeedPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = Field(default=None, description="true revives a feed that was given up.")
    title: StorableText | None = Field(default=None, max_length=500)
    min_interval_s: int | None = Field(default=None, ge=10, le=30 * 86400)
    max_interval_s: int | None = Field(default=None, ge=10, le=30 * 86400)


class FeedHealth(BaseModel):
    status: str = Field(examples=["ok", "new", "failing", "quiet", "dead"])
    gone_quiet: bool = Field(description="It answers, but nothing new has come for the configured time.")
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    consecutive_failures: int
    last_status: int | None = Field(default=None, description="HTTP status of the last poll.")
    last_error: str | None = None
    items_per_day: float = Field(description="New items per day over the last 7 days.")
    items_total: int
    interval_s: int = Field(description="The current adaptive polling interval.")
    next_poll_at: datetime


class SkippedEntry(BaseModel):
    """One feed entry a poll did not store, and why."""

    index: int = Field(description="The entry's position in the feed document, from 0.")
    entry: str | None = Field(default=None, description="The entry's id, else its link, when it has one.")
    field: str | None = Field(default=None, description="The field at fault, e.g. `entry.content` or `title`.")
    reason: str = Field(examples=["the entry has no text (no content and no summary)"])


class FeedPollOut(BaseModel):
    polled_at: datetime
    outcome: str
    http_status: int | None = None
    entries: int
    new_items: int
    skipped: int
    skip_reasons: list[SkippedEntry] = Field(
        default_factory=list, description="Why entries were skipped: the first few of them, in feed order."
    )
    duration_ms: int
    error: str | None = None


class FeedOut(BaseModel):
    id: uuid.UUID
    url: str
    source: str
    title: str | None = None
    active: bool
    created_at: datetime
    health: FeedHealth
    recent_polls: list[FeedPollOut] | None = Field(default=None, description="On the single-feed view only.")


class FeedPage(BaseModel):
    items: list[FeedOut]
    next_after: uuid.UUID | None = Field(default=None, description="Pass as `after` for the next page.")
