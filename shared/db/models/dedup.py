"""The shared dedup index, the decisions' evidence and the users' corrections.

The index rows double as locks: a worker upserts every key of its batch in key order, which takes the rows'
locks, so two workers holding near-identical articles are serialised on the keys they share and the second
one sees the first one's articles. Row locks live in the rows, not in PostgreSQL's bounded lock table, so a
batch may hold thousands of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, SmallInteger, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class LshBucket(Base):
    """One LSH bucket: the newest articles (UUIDv7 ids, newest first) whose signature has this band."""

    __tablename__ = "lsh_buckets"

    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_lsh_buckets_updated_at", "updated_at"),)


class DedupKey(Base):
    """One exact key (SHA-256 of a content hash, canonical URL, source+external id or source+title) and the
    newest articles that carry it."""

    __tablename__ = "dedup_keys"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    article_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_dedup_keys_updated_at", "updated_at"),)


class DedupDecision(Base):
    """Why an article is where it is: the article it matched, by which method, with which scores."""

    __tablename__ = "dedup_decisions"

    article_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    matched_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    method: Mapped[str] = mapped_column(Text, nullable=False)
    similarity: Mapped[float | None] = mapped_column(Float)
    jaccard: Mapped[float | None] = mapped_column(Float)
    containment: Mapped[float | None] = mapped_column(Float)
    title_similarity: Mapped[float | None] = mapped_column(Float)
    shared_bands: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    engine_version: Mapped[str] = mapped_column(Text, nullable=False)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_dedup_decisions_matched_id", "matched_id"),)


class DedupCorrection(Base):
    """A user's correction: the article is not a duplicate. Reprocessing keeps it out of the cluster."""

    __tablename__ = "dedup_corrections"

    article_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[str] = mapped_column(Text, nullable=False, server_default="not_duplicate")
    previous_cluster_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class DedupReuse(Base):
    """Partial reuse between two articles, measured exactly on their shingles: the share of each text found
    in the other, the reused passages of each (``[start, end)`` character offsets into the stored body) and
    what it decided (``joined``: the article joined the other's cluster by it; ``linked``: they stay apart)."""

    __tablename__ = "dedup_reuse"

    article_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    share_of_article: Mapped[float] = mapped_column(Float, nullable=False)
    share_of_other: Mapped[float] = mapped_column(Float, nullable=False)
    article_passages: Mapped[list[list[int]]] = mapped_column(JSONB, nullable=False)
    other_passages: Mapped[list[list[int]]] = mapped_column(JSONB, nullable=False)
    shared_fingerprints: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    decision: Mapped[str] = mapped_column(Text, nullable=False)
    engine_version: Mapped[str] = mapped_column(Text, nullable=False)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_dedup_reuse_other_id", "other_id"),)
