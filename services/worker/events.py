"""Announce processed articles on a Redis stream, for the query service's live stream and subscribers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import redis
import structlog

from shared.tasks import PROCESSED_STREAM

log = structlog.get_logger(__name__)

STREAM = PROCESSED_STREAM
STREAM_MAXLEN = 100_000


def publish_processed(
    client: redis.Redis,
    ids: Sequence[uuid.UUID],
    announce: Mapping[uuid.UUID, Mapping[str, str]] | None = None,
) -> None:
    """One round trip per batch. Best effort: the rows are committed, and readers can catch up from them.

    ``announce`` adds fields to an article's entry: ``event`` (``event.created`` or ``event.grew``) and
    ``event_id`` when the article founded or joined an event."""
    if not ids:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for article_id in ids:
            fields: dict[Any, Any] = {"id": str(article_id), **((announce or {}).get(article_id) or {})}
            pipe.xadd(STREAM, fields, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not publish processed events", count=len(ids), error=str(exc))
