"""What the feed tests share: the poller's settings for a local feed server, a poller with an injected clock,
and registering a feed through the ingest API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import redis
from sqlalchemy import Engine, text

from services.worker.feeds import PollOutcome, poll_feed
from shared.channels.settings import ChannelSettings
from shared.config import get_settings
from shared.db.engine import make_sessionmaker

SETTINGS = ChannelSettings(
    feed_allowed_networks=["127.0.0.0/8:*"],
    feed_host_delay_s=0,
    feed_dead_after_failures=3,
    feed_min_interval_s=60,
    feed_max_interval_s=86400,
)
T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)


class Poller:
    def __init__(self, db: Engine, redis_client: redis.Redis, enqueue: Any) -> None:
        self.sessions = make_sessionmaker(db)
        self.redis = redis_client
        self.enqueue = enqueue

    def __call__(self, feed_id: str, *, now: datetime = T0, settings: ChannelSettings = SETTINGS) -> PollOutcome:
        return poll_feed(
            self.sessions,
            self.redis,
            settings,
            uuid.UUID(feed_id),
            celery=self.enqueue,
            chunk=get_settings().ingest.task_chunk_size,
            now=now,
        )


def register(ingest: httpx.Client, url: str, **extra: Any) -> str:
    r = ingest.post("/v1/feeds", json={"url": url, "source": "local", **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def feed_row(db: Engine, feed_id: str) -> Any:
    with db.connect() as conn:
        return conn.execute(text("SELECT * FROM feeds WHERE id = :id"), {"id": feed_id}).one()
