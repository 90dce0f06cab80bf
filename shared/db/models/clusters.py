"""Story clusters: copies of one story grouped under one canonical article, as the query service shows them.

The dedup index and the evidence that put each article in its cluster are in ``dedup``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.dates import storable_sql
from shared.db.models.base import Base


class Cluster(Base):
    """A story: articles judged to be copies of one another, with one canonical member."""

    __tablename__ = "clusters"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    canonical_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    first_published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        CheckConstraint(storable_sql("first_published_at"), name="first_published_at_storable"),
        CheckConstraint(storable_sql("last_published_at"), name="last_published_at_storable"),
        Index("ix_clusters_last_published_at", text("last_published_at DESC")),
        Index("ix_clusters_size_last_published_at", text("size DESC"), text("last_published_at DESC")),
    )
