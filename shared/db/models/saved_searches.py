"""Saved searches: a stored ``SearchFilters`` definition with an optional subscriber URL, and the articles
already matched to each (the exactly-once key of delivery). What the query service writes.

``saved_search_matches`` remembers which article went to which search, so a re-processed article or a
replayed stream entry is never delivered twice; the messages themselves are in ``deliveries``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class SavedSearch(Base):
    """A named search; with ``webhook_url`` set, its new matches are pushed to the subscriber."""

    __tablename__ = "saved_searches"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    # Standard Webhooks secret (``whsec_`` + base64 key); needed in clear to sign, never served after creation.
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        # The matcher's look-up: active searches that deliver somewhere.
        Index("ix_saved_searches_active", "id", postgresql_where=text("active AND webhook_url IS NOT NULL")),
    )


class SavedSearchMatch(Base):
    """An article already matched to a search (and put in a delivery): the exactly-once key of delivery."""

    __tablename__ = "saved_search_matches"

    saved_search_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # A revised article matches again, once per revision.
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="1")
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_saved_search_matches_matched_at", "matched_at"),)
