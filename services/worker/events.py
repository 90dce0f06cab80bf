"""Announce processed articles on a Redis stream, for the query service's live stream and subscribers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import redis
import structlog

log = structlog.get_logger(__name__)

STREAM = "tidings:articles:processed"
STREAM_MAXLEN = 100_000


def publish_processed(client: redis.Redis, ids: Sequence[uuid.UUID]) -> None:
    """One round trip per batch. Best effort: the rows are committed, and readers can catch up from them."""
    if not ids:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for article_id in ids:
            pipe.xadd(STREAM, {"id": str(article_id)}, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not publish processed events", count=len(ids), error=str(exc))
