"""Deliveries: the signed Standard Webhook messages that carry a saved search's matches, and every attempt.

The worker matches newly processed articles against the active saved searches (``saved_searches``) and sends
each batch of matches as one delivery; every delivery and every attempt is logged.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
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
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class DeliveryStatus:
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the subscriber answered 2xx
    FAILED = "failed"  # a permanent refusal, or every attempt used

    ALL = (PENDING, DELIVERED, FAILED)


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
