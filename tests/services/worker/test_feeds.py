"""Feed polling against a real HTTP server in the test process: conditional GET, the adaptive interval,
failing and dead feeds, politeness per host, and the guard against private addresses on every hop.

The poller's plain function is called directly with an injected clock (``now``), so intervals are checked
without waiting; new items go to the real worker through Celery, as in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import redis
from sqlalchemy import Engine, text

from services.worker.feeds import claim_due
from shared.db.engine import make_sessionmaker
from tests.services.worker.feed_support import SETTINGS, T0, Poller, feed_row, register
from tests.shared.channels.feedserver import FeedServer, rss, story
from tests.support import wait_for


def test_conditional_get_fetches_only_what_changed(
    ingest: httpx.Client, query: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    route = server.serve("/news.rss", rss([story(1), story(2)]))
    feed_id = register(ingest, server.url("/news.rss"))

    first = poll(feed_id)
    assert (first.outcome, first.new_items, first.entries) == ("fetched", 2, 2)
    row = feed_row(db, feed_id)
    assert (row.etag, row.last_modified) == (route.etag, route.last_modified)
    assert "if-none-match" not in server.seen("/news.rss")[0].headers

    second = poll(feed_id, now=T0 + timedelta(hours=1))
    assert (second.outcome, second.new_items) == ("not_modified", 0)
    sent = server.seen("/news.rss")[1]
    assert sent.headers["if-none-match"] == route.etag
    assert sent.headers["if-modified-since"] == route.last_modified
    assert sent.status == 304

    server.serve("/news.rss", rss([story(3), story(1), story(2)]))
    third = poll(feed_id, now=T0 + timedelta(hours=2))
    assert (third.outcome, third.new_items, third.entries) == ("fetched", 1, 3)  # stories 1 and 2 are replays
    assert feed_row(db, feed_id).items_total == 3

    def processed() -> bool:
        with db.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM ingestions WHERE state = 'processed'")) == 3

    wait_for(processed, timeout=30, what="the feed's items to be processed")
    found = query.get("/v1/articles", params={"q": "harbour proposal", "source": "local"}).json()["items"]
    assert len(found) == 3
    polls = ingest.get(f"/v1/feeds/{feed_id}").json()["recent_polls"]
    assert [p["outcome"] for p in polls] == ["fetched", "not_modified", "fetched"]
    assert [p["http_status"] for p in polls] == [200, 304, 200]


def test_the_interval_adapts_within_its_bounds(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    server.serve("/busy.rss", rss([story(1)]))
    feed_id = register(ingest, server.url("/busy.rss"), min_interval_s=900, max_interval_s=7200)
    assert feed_row(db, feed_id).interval_s == 3600

    def step(now: datetime) -> int:
        poll(feed_id, now=now)
        row = feed_row(db, feed_id)
        assert row.next_poll_at == now + timedelta(seconds=row.interval_s)
        return int(row.interval_s)

    t = T0
    assert step(t) == 1800  # a new item: poll twice as often
    server.serve("/busy.rss", rss([story(2), story(1)]))
    t += timedelta(minutes=30)
    assert step(t) == 900  # new again: halved, and held at the feed's minimum from here
    server.serve("/busy.rss", rss([story(3), story(2), story(1)]))
    t += timedelta(minutes=15)
    assert step(t) == 900
    intervals = []
    for _ in range(6):  # nothing new (304s): half as often again each time, up to the maximum
        t += timedelta(hours=1)
        intervals.append(step(t))
    assert intervals == [1350, 2025, 3038, 4557, 6836, 7200]


def test_a_failing_feed_backs_off_then_is_given_up(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    server.serve("/broken.rss", b"", status=500)
    feed_id = register(ingest, server.url("/broken.rss"))
    delays = []
    for n in range(1, 3):
        now = T0 + timedelta(days=n)
        outcome = poll(feed_id, now=now)
        assert (outcome.outcome, outcome.error) == ("failed", "HTTP 500")
        row = feed_row(db, feed_id)
        assert row.consecutive_failures == n and row.active
        delays.append((row.next_poll_at - now).total_seconds())
    assert delays == [7200, 14400]  # the 3600 s interval doubled per failure; the interval itself is kept
    health = ingest.get(f"/v1/feeds/{feed_id}").json()["health"]
    assert (health["status"], health["last_status"], health["last_error"]) == ("failing", 500, "HTTP 500")

    poll(feed_id, now=T0 + timedelta(days=3))
    feed = ingest.get(f"/v1/feeds/{feed_id}").json()
    assert feed["active"] is False and feed["health"]["status"] == "dead"
    assert feed["health"]["last_error"] == "gave up after 3 consecutive failures; last: HTTP 500"
    assert poll(feed_id, now=T0 + timedelta(days=4)).outcome == "skipped"
    assert len(server.seen("/broken.rss")) == 3

    # Revived by hand, it is polled again at once and recovers.
    server.serve("/broken.rss", rss([story(1)]))
    revived = ingest.patch(f"/v1/feeds/{feed_id}", json={"active": True}).json()
    assert revived["health"]["consecutive_failures"] == 0
    assert poll(feed_id, now=T0 + timedelta(days=5)).outcome == "fetched"


def test_a_feed_answering_410_gone_is_dead_at_once(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    server.serve("/gone.rss", b"", status=410)
    feed_id = register(ingest, server.url("/gone.rss"))
    assert poll(feed_id).outcome == "gone"
    health = ingest.get(f"/v1/feeds/{feed_id}").json()["health"]
    assert health["status"] == "dead" and "410 Gone" in health["last_error"]


def test_an_unreachable_feed_fails_with_the_reason(ingest: httpx.Client, db: Engine, poll: Poller) -> None:
    with FeedServer().running() as gone:
        url = gone.url("/feed.rss")  # the port is closed once the server stops
    feed_id = register(ingest, url)
    outcome = poll(feed_id)
    assert outcome.outcome == "failed" and outcome.error is not None and "ConnectError" in outcome.error


def test_retry_after_is_honoured(ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller) -> None:
    server.serve("/busy.rss", b"", status=503, headers={"Retry-After": "20000"})
    feed_id = register(ingest, server.url("/busy.rss"))
    poll(feed_id)
    assert feed_row(db, feed_id).next_poll_at == T0 + timedelta(seconds=20000)


def test_a_feed_gone_quiet(ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller) -> None:
    server.serve("/quiet.rss", rss([story(1), story(2)]))
    feed_id = register(ingest, server.url("/quiet.rss"))
    now = datetime.now(UTC)
    assert poll(feed_id, now=now - timedelta(days=4)).new_items == 2
    assert poll(feed_id, now=now).outcome == "not_modified"
    health = ingest.get(f"/v1/feeds/{feed_id}").json()["health"]
    assert health["status"] == "quiet" and health["gone_quiet"] is True
    assert health["items_per_day"] == 2.0 and health["items_total"] == 2


def test_politeness_one_fetch_per_host_per_delay(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller, redis_client: redis.Redis
) -> None:
    server.serve("/a.rss", rss([story(1)]))
    server.serve("/b.rss", rss([story(2)]))
    a, b = register(ingest, server.url("/a.rss")), register(ingest, server.url("/b.rss"))
    polite = SETTINGS.model_copy(update={"feed_host_delay_s": 5.0})
    redis_client.delete("tidings:feeds:host:127.0.0.1")
    try:
        assert poll(a, settings=polite).outcome == "fetched"
        assert poll(b, settings=polite).outcome == "deferred"
        assert server.seen("/b.rss") == []
        wait_s = (feed_row(db, b).next_poll_at - T0).total_seconds()
        assert 0 < wait_s <= 5
    finally:
        redis_client.delete("tidings:feeds:host:127.0.0.1")
    assert poll(b, settings=polite).outcome == "fetched"


def test_due_feeds_are_claimed_at_most_n_per_host_and_leased(ingest: httpx.Client, db: Engine) -> None:
    ids = [register(ingest, f"http://127.0.0.1:9/{n}.rss") for n in range(3)]
    other = register(ingest, "http://localhost:9/x.rss")
    sessions = make_sessionmaker(db)
    now = datetime.now(UTC) + timedelta(seconds=1)

    def claim() -> list[str]:
        with sessions.begin() as session:
            return sorted(str(i) for i, _ in claim_due(session, now=now, limit=100, per_host=2, lease_s=600))

    assert claim() == sorted([*ids[:2], other])
    assert claim() == [ids[2]]
    assert claim() == []
    assert feed_row(db, ids[0]).next_poll_at == now + timedelta(seconds=600)


def test_private_addresses_are_refused_at_fetch_time_and_on_redirects(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    server.serve("/feed.rss", rss([story(1)]))
    server.serve("/to-private", b"", status=302, headers={"Location": "http://10.0.0.1/feed.rss"})
    server.serve("/moved", b"", status=301, headers={"Location": "/feed.rss"})
    direct, bounced, moved = (register(ingest, server.url(p)) for p in ("/feed.rss", "/to-private", "/moved"))

    strict = SETTINGS.model_copy(update={"feed_allowed_networks": []})
    outcome = poll(direct, settings=strict)
    assert outcome.outcome == "failed" and "refused: 127.0.0.1 resolves to 127.0.0.1 (loopback)" in (
        outcome.error or ""
    )
    assert server.seen("/feed.rss") == []

    outcome = poll(bounced)
    assert outcome.outcome == "failed" and "10.0.0.1 (private)" in (outcome.error or "")
    assert poll(moved).outcome == "fetched"


def test_oversized_and_unreadable_feeds_fail(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    server.serve("/big.rss", rss([story(n) for n in range(40)]))
    server.serve("/page.html", b"<html><body><p>Not a feed</p></body></html>", content_type="text/html")
    big, page = register(ingest, server.url("/big.rss")), register(ingest, server.url("/page.html"))
    outcome = poll(big, settings=SETTINGS.model_copy(update={"feed_max_bytes": 2000}))
    assert outcome.error == "the feed is larger than 2000 bytes"
    outcome = poll(page)
    assert outcome.outcome == "failed" and (outcome.error or "").startswith("not a readable feed")
    assert feed_row(db, page).consecutive_failures == 1


def _ingestion_rows(db: Engine) -> list[tuple[str, int, str]]:
    with db.connect() as conn:
        return [
            (r.external_id, r.revision, r.title)
            for r in conn.execute(
                text("SELECT external_id, revision, payload->>'title' AS title FROM ingestions ORDER BY external_id")
            )
        ]


def test_an_edited_feed_entry_is_a_revision_and_an_unchanged_one_a_replay(
    ingest: httpx.Client, db: Engine, server: FeedServer, poll: Poller
) -> None:
    guid, title, body = story(1)
    server.serve("/news.rss", rss([(guid, title, body), story(2)]))
    feed_id = register(ingest, server.url("/news.rss"))
    assert poll(feed_id).new_items == 2

    edited = (guid, "UPDATED: " + title, body + " The vote was brought forward to Friday.")
    server.serve("/news.rss", rss([edited, story(2)]))
    again = poll(feed_id, now=T0 + timedelta(hours=1))
    assert (again.outcome, again.new_items) == ("fetched", 1), "the edited entry is queued again, the other not"
    rows = _ingestion_rows(db)
    assert len(rows) == 2
    assert rows[0][1:] == (2, "UPDATED: " + title)
    assert rows[1][1] == 1
    with db.connect() as conn:
        history = conn.scalar(text("SELECT count(*) FROM article_revisions"))
    assert history == 2, "the first text and the edit"
