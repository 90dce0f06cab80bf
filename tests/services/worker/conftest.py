"""Fixtures of the worker tests: a local feed server and a poller that hands new items to the real worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from shared.config import get_settings
from shared.tasks import make_celery
from tests.services.worker.feed_support import Poller
from tests.shared.channels.feedserver import FeedServer


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer().running() as s:
        yield s


@pytest.fixture
def enqueue(platform: dict[str, str]) -> Iterator[Any]:
    app = make_celery(get_settings(), "tidings-test-feeds")
    yield app
    app.close()


@pytest.fixture
def poll(db: Engine, redis_client: redis.Redis, enqueue: Any) -> Poller:
    return Poller(db, redis_client, enqueue)
