"""The webhook messages of saved-search delivery: their id and envelope (Standard Webhooks conventions).

Signing uses ``shared.channels.signing`` (the same Standard Webhooks code the ingest side verifies with).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

EVENT_TYPE = "saved_search.matched"


def message_id(delivery_id: uuid.UUID) -> str:
    """The ``webhook-id`` of a delivery: the same on every retry, so a subscriber can drop repeats."""
    return f"msg_{delivery_id.hex}"


def message_body(
    *, saved_search: dict[str, Any], articles: list[dict[str, Any]], at: datetime, kind: str = EVENT_TYPE
) -> str:
    """The JSON body: ``{"type", "timestamp", "data": {"saved_search", "articles"}}``, fixed once written,
    so every attempt signs and sends the same bytes. ``type`` is ``saved_search.matched``, or
    ``article.revised`` for new revisions of articles."""
    envelope = {
        "type": kind,
        "timestamp": at.isoformat(),
        "data": {"saved_search": saved_search, "articles": articles},
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str)
