"""Saved searches and their outbound deliveries: what the query service writes.

A saved search is a ``SearchFilters`` definition and, optionally, a subscriber URL. The worker matches newly
processed articles against the active ones and sends each batch of matches as a signed Standard Webhook;
every delivery and every attempt is logged. ``saved_search_matches`` remembers which article went to which
search, so a re-processed article or a replayed stream entry is never delivered twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class DeliveryStatus:
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the subscriber answered 2xx
    FAILED = "failed"  # a permanent refusal, or every attempt used

    ALL = (PENDING, DELIVERED, FAILED)


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


class Delivery(Base):
    """One webhook message: a batch of matches for one search. Its id is the ``webhook-id`` every attempt
    repeats, and ``body`` the exact bytes every attempt signs and sends."""

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    saved_search_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("saved_searches.id", ondelete="CASCADE"), nullable=False
    )
    article_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_deliveries_saved_search_id_created_at", "saved_search_id", "created_at"),
        # The sweep of pending deliveries whose task Redis may have lost.
        Index("ix_deliveries_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )


class DeliveryAttempt(Base):
    """One try at sending a delivery: when, what the subscriber answered, how long it took."""

    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)
