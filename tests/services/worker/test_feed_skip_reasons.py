"""A feed poll records why each skipped entry was skipped (a bounded list), and the feeds API shows it."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine, text

from services.worker.feeds import MAX_SKIP_REASONS, _validated
from shared.channels.common import Item
from tests.services.worker.feed_support import Poller, register
from tests.shared.channels.feedserver import FeedServer
from tests.shared.channels.samples import ENTITIES_RSS


def test_a_poll_records_the_reason_per_skipped_entry(
    ingest: httpx.Client,
    db: Engine,
    server: FeedServer,
    poll: Poller,
) -> None:
    server.serve("/markets.rss", ENTITIES_RSS)
    feed_id = register(ingest, server.url("/markets.rss"))
    outcome = poll(feed_id)
    assert (outcome.entries, outcome.new_items, outcome.skipped) == (3, 2, 1)
    reason = {
        "index": 2,
        "entry": "https://markets.example.com/empty",
        "field": "entry",
        "reason": "the entry has neither a title nor any text",
    }
    with db.connect() as conn:
        assert conn.scalar(text("SELECT skip_reasons FROM feed_polls")) == [reason]
    [shown] = ingest.get(f"/v1/feeds/{feed_id}").json()["recent_polls"]
    assert shown["skipped"] == 1 and shown["skip_reasons"] == [reason]


def test_an_entry_the_article_schema_refuses_is_named_with_the_field() -> None:
    good = Item(index=0, data={"title": "Harbour", "body": "Text.", "external_id": "a"})
    bad = Item(index=1, data={"title": "Harbour", "body": "Text.", "external_id": "b", "language": "english"})
    valid, skipped = _validated([good, bad])
    assert [a.external_id for a in valid] == ["a"]
    [reason] = skipped
    assert (reason["index"], reason["entry"], reason["field"]) == (1, "b", "language")
    assert "pattern" in reason["reason"]


def test_every_skip_is_counted_but_only_the_first_few_kept(
    ingest: httpx.Client,
    db: Engine,
    server: FeedServer,
    poll: Poller,
) -> None:
    empty = "".join(f"<item><guid>urn:e{i}</guid></item>" for i in range(MAX_SKIP_REASONS + 5))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title>{empty}</channel></rss>'
    server.serve("/empty.rss", body.encode())
    feed_id = register(ingest, server.url("/empty.rss"))
    assert poll(feed_id).skipped == MAX_SKIP_REASONS + 5
    with db.connect() as conn:
        reasons = conn.scalar(text("SELECT skip_reasons FROM feed_polls"))
    assert [r["entry"] for r in reasons] == [f"urn:e{i}" for i in range(MAX_SKIP_REASONS)]
