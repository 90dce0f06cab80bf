"""Backfills: jobs that re-tag articles after a rule or tagger change, and the tagger versions that start them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class BackfillState:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a newer change to the same rule or tagger took over

    ALL = (PENDING, RUNNING, DONE, FAILED, SUPERSEDED)
    ACTIVE = (PENDING, RUNNING)


class BackfillJob(Base):
    """Re-tagging after a change, done in chunks that each advance ``cursor`` (the last article id done).

    ``tagger`` is the tagger whose tags are replaced: ``rule:<id>`` for a rule, or a built-in tagger's name.
    ``action`` is ``retag`` (re-run over articles published since ``since``) or ``remove`` (delete the
    tagger's tags everywhere: a deleted or disabled rule).
    """

    __tablename__ = "backfill_jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tagger: Mapped[str] = mapped_column(Text, nullable=False)
    tagger_version: Mapped[str] = mapped_column(Text, nullable=False)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False, server_default="retag")
    state: Mapped[str] = mapped_column(Text, nullable=False, server_default=BackfillState.PENDING)
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cursor: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    total: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    tagged: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'done', 'failed', 'superseded')", name="state"),
        CheckConstraint("action IN ('retag', 'remove')", name="action"),
        Index("ix_backfill_jobs_rule_id_created_at", "rule_id", text("created_at DESC")),
        # The sweeper's look-up of jobs that stopped moving.
        Index("ix_backfill_jobs_active", "updated_at", postgresql_where=text("state IN ('pending', 'running')")),
    )


class TaggerVersion(Base):
    """The version of each built-in tagger the workers last ran; a change starts a backfill for it."""

    __tablename__ = "tagger_versions"

    tagger: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
