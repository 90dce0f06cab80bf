"""A hostile feed never makes the poller raise or expand anything: it is recorded as failing, with the reason,
and nothing from it is stored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from tests.services.ingest.channel_support import count
from tests.services.worker.feed_support import Poller, feed_row, register
from tests.shared.channels.feedserver import FeedServer

ENTITY = b'<!ENTITY a "' + b"Storm warning for the coast. " * 400 + b'">'
ITEM = (
    b'<rss version="2.0"><channel><title>Coast News</title><item><guid>storm-1</guid><title>Storm warning</title>'
    b"<description>" + b"&a;" * 100 + b"</description></item></channel></rss>"
)
HOSTILE = {
    "entities behind junk": (b'junk\n<!DOCTYPE rss SYSTEM "a>b" [' + ENTITY + b"]>" + ITEM, "internal subset"),
    "bogus encoding": (b'<?xml version="1.0" encoding="x-bogus"?>' + ITEM.replace(b"&a;", b""), "x-bogus"),
    "entities in UTF-16": (
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [' + ENTITY.decode() + "]>" + ITEM.decode()).encode(
            "utf-16"
        ),
        "internal subset",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_feed_is_recorded_as_failing_with_the_reason(
    name: str,
    ingest: httpx.Client,
    db: Engine,
    server: FeedServer,
    poll: Poller,
) -> None:
    body, reason = HOSTILE[name]
    server.serve("/hostile.rss", body)
    feed_id = register(ingest, server.url("/hostile.rss"))
    outcome = poll(feed_id)
    assert outcome.outcome == "failed"
    assert outcome.error is not None and reason in outcome.error
    row = feed_row(db, feed_id)
    assert row.consecutive_failures == 1 and row.last_polled_at is not None
    health = ingest.get(f"/v1/feeds/{feed_id}").json()["health"]
    assert health["status"] == "failing" and reason in health["last_error"]
    assert count(db, "ingestions") == 0
