"""What a pipeline stage works on: the batch's items and the transaction they are written in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared.config import Settings


@dataclass
class WorkItem:
    """One ingestion on its way to becoming an article. Stages fill ``record`` (the ``articles`` row) and
    may leave results for later stages in ``extras``."""

    id: uuid.UUID
    source: str
    external_id: str | None
    payload: dict[str, Any]
    received_at: datetime
    # The revision the payload is, its withdrawal, and what to announce once processed (``article.revised``).
    revision: int = 1
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    pending_event: str | None = None
    record: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchContext:
    session: Session
    settings: Settings
    items: list[WorkItem]
