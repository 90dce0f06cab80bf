"""Ingestions (each accepted article exactly as received) and idempotency keys: what the ingest service writes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class IngestionState(StrEnum):
    accepted = "accepted"
    processing = "processing"
    processed = "processed"
    failed = "failed"


class Ingestion(Base):
    """One accepted article exactly as received; the pipeline's unit of work."""

    __tablename__ = "ingestions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    source: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    external_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text, nullable=False, server_default="api")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    state: Mapped[str] = mapped_column(Text, nullable=False, server_default=IngestionState.accepted.value)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    request_id: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a failed attempt's retry is due (backoff); the sweeper leaves the row alone until then.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The revision ``payload`` holds (the newest by the sender's ordering), and that ordering's parts.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    version: Mapped[int | None] = mapped_column(BigInteger)
    version_created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # What the worker announces once it has processed the row (``article.revised``, ``article.withdrawn``).
    pending_event: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("state IN ('accepted', 'processing', 'processed', 'failed')", name="state"),
        # The natural key of a feed item: a replay of (source, external_id) finds the first ingestion.
        Index(
            "uq_ingestions_source_external_id",
            "source",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        # The sweeper's look-up of work that Redis may have lost.
        Index(
            "ix_ingestions_pending",
            "updated_at",
            postgresql_where=text("state IN ('accepted', 'processing')"),
        ),
    )


class IdempotencyKey(Base):
    """A request made with an ``Idempotency-Key`` (IETF draft) or a webhook delivery id, and its first answer.
    Keys are per caller: ``owner`` is the API key's id (empty for webhook deliveries, scoped by their source)."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    response_status: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)
