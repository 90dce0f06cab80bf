"""The processed article: what the pipeline writes and the query service reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.dates import storable_sql
from shared.db.models.base import Base


class Article(Base):
    """The processed article: normalised text, hashes, language, dedup decision; what the query service reads."""

    __tablename__ = "articles"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("ingestions.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    external_id: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    credit: Mapped[str | None] = mapped_column(Text)
    caption: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    section: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, server_default="{}")
    language: Mapped[str | None] = mapped_column(Text)
    language_score: Mapped[float | None] = mapped_column(Float)
    word_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    content_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    title_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_at_given: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    pipeline_version: Mapped[str] = mapped_column(Text, nullable=False)
    # Deduplication decision (filled by the dedup stage).
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    is_canonical: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    dedup_similarity: Mapped[float | None] = mapped_column(Float)
    dedup_method: Mapped[str | None] = mapped_column(Text)
    dedup_version: Mapped[str | None] = mapped_column(Text)
    # The event the article reports on (filled by the events stage), a level above its copy cluster.
    event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Revisions and withdrawal, copied from the ingestion: the revision this text is, when a later revision
    # replaced the first text, and a kill or withdrawal (hidden from search unless asked for).
    revision: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    revised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # Title weighs most, then the standfirst, then the body; one English configuration on both sides keeps
    # documents and queries stemmed alike.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(summary, '')), 'B') || "
            "setweight(to_tsvector('english', left(body, 200000)), 'C')",
            persisted=True,
        ),
    )

    __table_args__ = (
        CheckConstraint(storable_sql("published_at"), name="published_at_storable"),
        Index("ix_articles_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_articles_published_at_id", text("published_at DESC"), text("id DESC")),
        Index("ix_articles_source_published_at", "source", text("published_at DESC")),
        Index("ix_articles_language_published_at", "language", text("published_at DESC")),
        Index("ix_articles_canonical_url", "canonical_url"),
        Index("ix_articles_content_hash", "content_hash"),
        Index("ix_articles_cluster_id", "cluster_id"),
        Index("ix_articles_event_id_published_at", "event_id", text("published_at DESC")),
        Index("ix_articles_revised_at", text("revised_at DESC"), postgresql_where=text("revised_at IS NOT NULL")),
    )
