"""Response and request schemas of the query API, built on the shared article schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from shared.schemas.articles import ArticleOut, ArticleSummary, DedupDecision
from shared.schemas.text import StorableText
from shared.search.filters import SearchFilters


class TagMention(BaseModel):
    text: str = Field(description='What the article said ("U.S." under the value "United States").')
    start: int = Field(description="Offset of the first character in the field, as stored.")
    end: int = Field(description="Offset after the last character.")
    field: Literal["title", "summary", "body", "caption"]


class TagOut(BaseModel):
    value: str = Field(description="The stable key: canonical name, IPTC code, lower-cased keyphrase…")
    name: str = Field(description="Display name.")
    score: float
    mentions: int
    tagger: str
    tagger_version: str
    attrs: dict[str, Any] = Field(
        default_factory=dict,
        description="Places: geonames_id, country_code, lat, lon, feature. People, organisations, other entities "
        "and places: mentions, a list of {text, start, end, field}.",
    )


TagsByKind = dict[str, list[TagOut]]


class TagBrief(BaseModel):
    value: str
    name: str
    score: float
    mentions: list[TagMention] | None = Field(default=None, description="Entities and places: where the text names it.")


BriefTagsByKind = dict[str, list[TagBrief]]


class ArticleItem(ArticleSummary):
    """An article in a result list: no body, its tags by kind, its dedup decision, and its rank if ranked."""

    dedup: DedupDecision = Field(default_factory=DedupDecision)
    tags: BriefTagsByKind = Field(
        default_factory=dict,
        description="Tags grouped by kind, best score first (value, name, score; the article's own page has all).",
    )
    rank: float | None = Field(default=None, description="Relevance, when sorted by relevance.")


class ReuseLink(BaseModel):
    """Partial reuse between this article and another, both ways, measured on the exact shingles."""

    article_id: uuid.UUID = Field(description="The other article.")
    title: str
    source: str
    published_at: datetime
    cluster_id: uuid.UUID | None = None
    share_of_this: float = Field(description="Share of this article's text found in the other (0-1).")
    share_of_other: float = Field(description="Share of the other article's text found in this one (0-1).")
    passages_here: list[list[int]] = Field(description="Reused passages of this body, [start, end) characters.")
    passages_there: list[list[int]] = Field(description="Reused passages of the other's body, [start, end).")
    decision: Literal["joined", "linked"] = Field(
        description="`joined`: the later of the two joined the other's cluster by it; `linked`: they stay apart."
    )
    decided_by: uuid.UUID = Field(description="The article whose arrival measured the pair (the later one).")
    version: str


class ArticleDetail(ArticleOut):
    tags: TagsByKind = Field(default_factory=dict, description="Tags grouped by kind, best score first.")
    reuse: list[ReuseLink] = Field(
        default_factory=list, description="Articles this one shares passages with, the largest share first."
    )


class ReuseOut(BaseModel):
    article_id: uuid.UUID
    items: list[ReuseLink]


class ArticlePage(BaseModel):
    items: list[ArticleItem]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")


class Member(BaseModel):
    id: uuid.UUID
    title: str
    source: str
    url: str | None = None
    language: str | None = None
    published_at: datetime
    is_canonical: bool
    duplicate_of: uuid.UUID | None = None
    similarity: float | None = Field(default=None, description="Similarity to the article it duplicates.")
    method: str | None = Field(default=None, description="What decided it, e.g. `exact:content_hash`.")
    version: str | None = None


class ClusterOut(BaseModel):
    id: uuid.UUID
    size: int
    first_published_at: datetime
    last_published_at: datetime
    canonical: ArticleItem | None = Field(default=None, description="The canonical article, without its body.")
    sources: int | None = Field(default=None, description="Distinct sources among the members (detail only).")


class ClusterDetail(ClusterOut):
    members: list[Member] = Field(description="Canonical first, then by publication time.")
    members_truncated: bool = False


class ClusterPage(BaseModel):
    items: list[ClusterOut]
    next_cursor: str | None = None


class DuplicatesOut(BaseModel):
    article_id: uuid.UUID
    cluster_id: uuid.UUID | None
    items: list[Member]
    reuse: list[ReuseLink] = Field(
        default_factory=list, description="Partial reuse with other articles, both ways (see `/reuse`)."
    )


class SimilarItem(ArticleItem):
    shared: list[str] = Field(default_factory=list, description="The tags it shares with the article.")
    score: float


class SimilarOut(BaseModel):
    article_id: uuid.UUID
    items: list[SimilarItem]


class FacetBucket(BaseModel):
    value: str
    name: str
    count: int
    kind: str | None = Field(default=None, description="For entities: person, organisation, place or misc.")


class FacetsOut(BaseModel):
    facets: dict[str, list[FacetBucket]]
    considered: int = Field(description="Matching articles counted.")
    sampled: bool = Field(
        description="True when more articles match than the sample size: counts are then over the most recent "
        "`considered` matches."
    )


class TimeBucket(BaseModel):
    start: datetime = Field(description="Start of the bucket, in the requested time zone.")
    count: int


class TimeSeriesOut(BaseModel):
    interval: Literal["hour", "day", "week"]
    tz: str
    total: int
    buckets: list[TimeBucket]


class TagCount(BaseModel):
    kind: str
    value: str
    name: str
    count: int = Field(description="Articles carrying the tag.")


class TagList(BaseModel):
    items: list[TagCount]
    counted_at: datetime | None = Field(default=None, description="When the counts were last refreshed.")


class SavedSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StorableText = Field(min_length=1, max_length=200)
    filters: SearchFilters = Field(default_factory=SearchFilters, description="As the `/v1/articles` parameters.")
    webhook_url: HttpUrl | None = Field(default=None, max_length=2048, description="Where matches are delivered.")
    active: bool = True


class SavedSearchUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StorableText | None = Field(default=None, min_length=1, max_length=200)
    filters: SearchFilters | None = None
    webhook_url: HttpUrl | None = Field(default=None, max_length=2048)
    active: bool | None = None


class SavedSearchOut(BaseModel):
    id: uuid.UUID
    name: str
    filters: SearchFilters
    webhook_url: str | None
    active: bool
    disabled_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    secret: str | None = Field(
        default=None, description="The Standard Webhooks signing secret: shown once, when created or rotated."
    )


class SavedSearchList(BaseModel):
    items: list[SavedSearchOut]


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The `webhook-id` header every attempt carries.")
    status: str
    attempts: int
    article_ids: list[uuid.UUID]
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class EventTag(BaseModel):
    kind: str
    value: str
    name: str
    articles: int = Field(description="Articles of the event carrying it.")


class EventCluster(BaseModel):
    id: uuid.UUID = Field(description="The copy cluster (`/v1/clusters/{id}`).")
    size: int = Field(description="Its articles in this event.")
    title: str = Field(description="Its earliest article's title.")
    first_published_at: datetime


class EventSource(BaseModel):
    source: str
    articles: int


class EventOut(BaseModel):
    id: uuid.UUID
    size: int = Field(description="Articles, copies included.")
    cluster_count: int = Field(description="Copy clusters: different stories about the event.")
    source_count: int
    first_seen: datetime | None = Field(description="Earliest publication among its articles.")
    last_seen: datetime | None = Field(description="Latest publication among its articles.")
    title: str | None = Field(default=None, description="The earliest article of its largest cluster.")
    clusters: list[EventCluster] = Field(default_factory=list, description="Largest first (at most 10 here).")
    sources: list[EventSource] = Field(default_factory=list, description="Most articles first (at most 10 here).")
    entities: list[EventTag] = Field(default_factory=list, description="Top people, organisations and others.")
    places: list[EventTag] = Field(default_factory=list, description="Top places.")
    merged_into: uuid.UUID | None = Field(default=None, description="Set when a user merged it into another.")


class EventMember(BaseModel):
    id: uuid.UUID
    title: str
    source: str
    url: str | None = None
    published_at: datetime
    cluster_id: uuid.UUID | None
    is_canonical: bool
    rule: str | None = Field(default=None, description="What put it there: `founded`, `copy`, `text+entity`, …")
    matched_id: uuid.UUID | None = Field(default=None, description="The article it was matched with.")
    score: float | None = None
    text_similarity: float | None = None
    shared_entities: list[str] = Field(default_factory=list, description="`kind:value` it shared with the match.")


class EventDetail(EventOut):
    members: list[EventMember] = Field(description="By publication time.")
    members_truncated: bool = False


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = None


class RevisionOut(BaseModel):
    """One text an article had, as the sender sent it."""

    revision: int = Field(description="Numbered by arrival.")
    current: bool = Field(default=False, description="The revision search and the article page serve.")
    version: int | None = Field(default=None, description="The sender's own version, when it sent one.")
    version_created: datetime | None = Field(default=None, description="When the sender made this version.")
    received_at: datetime
    channel: str
    title: str
    summary: str | None = None
    body: str


class RevisionsOut(BaseModel):
    article_id: uuid.UUID
    current_revision: int
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    items: list[RevisionOut] = Field(description="Oldest first by the sender's ordering (version, time, arrival).")


class FieldChange(BaseModel):
    old: str | None = None
    new: str | None = None
    changed: bool


class ParagraphChange(BaseModel):
    op: Literal["equal", "replace", "delete", "insert"]
    old: list[str] = Field(description="The paragraphs of the older revision in this run.")
    new: list[str] = Field(description="The paragraphs of the newer revision in this run.")
    old_start: int = Field(description="Index of the run's first paragraph in the older revision.")
    new_start: int


class RevisionDiff(BaseModel):
    article_id: uuid.UUID
    from_revision: int
    to_revision: int
    title: FieldChange
    summary: FieldChange
    paragraphs: list[ParagraphChange] = Field(description="Runs of paragraphs, in order (difflib opcodes).")
    changed_paragraphs: int
