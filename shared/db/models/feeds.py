"""Feeds: registered RSS/Atom feeds, their poll record, and the WebSub content deliveries pushed for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class WebSubDelivery(Base):
    """The SHA-256 of a WebSub content delivery a source accepted. WebSub signs the body only (no timestamp,
    no id), so this digest is what tells a replay from a new delivery once the idempotency record is gone."""

    __tablename__ = "websub_deliveries"

    source_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_websub_deliveries_received_at", "received_at"),)


class Feed(Base):
    """A registered RSS/Atom feed, its conditional-GET validators, adaptive schedule and health record."""

    __tablename__ = "feeds"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    url: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    host: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    interval_s: Mapped[int] = mapped_column(Integer, nullable=False)
    min_interval_s: Mapped[int | None] = mapped_column(Integer)
    max_interval_s: Mapped[int | None] = mapped_column(Integer)
    next_poll_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    last_polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_new_item_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    items_total: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        # The beat's look-up of due feeds.
        Index("ix_feeds_due", "next_poll_at", postgresql_where=text("active")),
    )


class FeedPoll(Base):
    """One poll of a feed: what came back and how many new items it brought (kept for the health figures)."""

    __tablename__ = "feed_polls"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    feed_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
    )
    polled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)  # fetched, not_modified, failed, gone
    http_status: Mapped[int | None] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    new_items: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # The first few skipped entries, each ``{index, entry, field, reason}``: why they were not stored.
    skip_reasons: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb"), default=list
    )
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_feed_polls_feed_id_polled_at", "feed_id", text("polled_at DESC")),
        Index("ix_feed_polls_polled_at", "polled_at"),
    )
