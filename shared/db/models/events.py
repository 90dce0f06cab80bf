"""Events: different articles (and copy clusters) about one real-world happening, within a time window.

``event_keys`` is the candidate index, race-free like the dedup index: a row per (publication period, salient
key) holding the newest article ids with that key in that period. ``event_decisions`` keeps each article's
evidence, ``event_corrections`` the users' splits and merges, which reprocessing keeps.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class Event(Base):
    """One event: its articles point at it (``articles.event_id``); the counts are rebuilt from them."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    cluster_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    source_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    first_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when a user merged this event into another: its articles moved there.
    merged_into: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        Index("ix_events_last_published_at", text("last_published_at DESC"), postgresql_where=text("size > 0")),
        Index("ix_events_size_last_published_at", text("size DESC"), text("last_published_at DESC")),
    )


class EventKey(Base):
    """One candidate-index row: the newest articles published in ``period`` (days since 1970 divided by the
    window) carrying ``key`` (a 64-bit hash of a salient term, entity or place)."""

    __tablename__ = "event_keys"

    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_event_keys_updated_at", "updated_at"),)


class EventDecision(Base):
    """Why an article is in its event: the article it matched, the rule, the scores and what they shared."""

    __tablename__ = "event_decisions"

    article_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    matched_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    rule: Mapped[str] = mapped_column(Text, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    text_similarity: Mapped[float | None] = mapped_column(Float)
    shared_entities: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    hours_apart: Mapped[float | None] = mapped_column(Float)
    candidates: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # What the article looked like to the engine, so later articles compare with it without re-reading it.
    vector: Mapped[dict[str, float]] = mapped_column(JSONB, nullable=False, server_default="{}")
    entities: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    engine_version: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_event_decisions_event_id", "event_id"),)


class EventCorrection(Base):
    """A user's correction: ``split`` (the article leaves its event) or ``merge`` (its event was merged into
    ``event_id``). Reprocessing keeps the article where the user put it."""

    __tablename__ = "event_corrections"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    article_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    previous_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_event_corrections_article_id", "article_id"),)
