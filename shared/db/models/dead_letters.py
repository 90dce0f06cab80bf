"""Dead letters: articles parked after repeated failures, visible and replayable over the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class DeadLetter(Base):
    """An ingestion that kept failing in a pipeline stage, parked with its error and stack until replayed.

    One row per ingestion: parking it again (after a replay that failed) updates the row.
    """

    __tablename__ = "dead_letters"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    ingestion_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("ingestions.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    stage: Mapped[str] = mapped_column(Text, nullable=False)
    error_type: Mapped[str] = mapped_column(Text, nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    stack: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    times_parked: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    first_failed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The default listing: what is parked now, newest first.
        Index("ix_dead_letters_parked", text("id DESC"), postgresql_where=text("replayed_at IS NULL")),
    )
