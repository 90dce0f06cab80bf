"""What a worker stage works on: the batch's items and the transaction they are written in.

Each stage reads and writes named, typed fields of a :class:`WorkItem`: the ``articles`` row it is building
(:class:`ArticleRecord`, written by one upsert once every stage has run) and the results later stages or
``after_store`` need (the tags, the dedup and event decisions). A field's type says who fills it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from services.worker.stages.dedup import DedupOutcome
    from services.worker.stages.events import EventDecisionDraft
    from shared.tagging.base import Tag


@dataclass
class DedupColumns:
    """The dedup stage's columns of the ``articles`` row: the story the article belongs to and why."""

    cluster_id: uuid.UUID
    is_canonical: bool
    duplicate_of: uuid.UUID | None
    dedup_similarity: float | None
    dedup_method: str | None
    dedup_version: str | None


@dataclass
class ArticleRecord:
    """The ``articles`` row a batch item becomes. The normalise stage makes it; the language stage sets the
    language, the dedup stage ``dedup``, the events stage ``event_id``."""

    id: uuid.UUID
    source: str
    external_id: str | None
    url: str | None
    canonical_url: str | None
    title: str
    summary: str | None
    body: str
    credit: str | None
    caption: str | None
    authors: list[str]
    section: str | None
    metadata: dict[str, Any]
    word_count: int
    content_hash: bytes
    title_hash: bytes
    published_at: datetime
    published_at_given: bool
    received_at: datetime
    language: str | None = None
    language_score: float | None = None
    # None until the dedup stage decides (and when it does not run: the stored columns are then left alone).
    dedup: DedupColumns | None = None
    # None until the events stage decides (never None after it: every article belongs to an event).
    event_id: uuid.UUID | None = None
    # Copied from the ingestion: the revision this text is, and its withdrawal.
    revision: int = 1
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None

    @property
    def cluster_id(self) -> uuid.UUID | None:
        return self.dedup.cluster_id if self.dedup else None


@dataclass
class WorkItem:
    """One ingestion on its way to becoming an article: the ingested payload, then what the stages made."""

    id: uuid.UUID
    source: str
    external_id: str | None
    payload: dict[str, Any]
    received_at: datetime
    # The revision the payload is, its withdrawal, and what to announce once processed (``article.revised``).
    revision: int = 1
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    pending_event: str | None = None
    # Set by the dedup stage when a new revision left the cluster it was in (rebuilt after the store).
    left_cluster: uuid.UUID | None = None
    article: ArticleRecord | None = None  # set by the normalise stage, first in the list
    tags: list[Tag] = field(default_factory=list)  # the tagging stage's, written in its after_store
    dedup: DedupOutcome | None = None  # the decision and its evidence, for dedup_decisions
    event: EventDecisionDraft | None = None  # likewise for event_decisions
    announce: dict[str, str] | None = None  # sent with the article's "processed" event on the stream

    @property
    def record(self) -> ArticleRecord:
        """The article row; every stage after normalise may rely on it."""
        if self.article is None:
            raise RuntimeError(f"item {self.id} has no article record: the normalise stage must run first")
        return self.article


@dataclass
class BatchContext:
    session: Session
    items: list[WorkItem]
