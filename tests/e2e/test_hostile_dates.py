"""Dates at the edges, at every road in and out.

In: a date whose UTC value falls outside the window (years 1000 to 2999 by default) is refused naming the
field, whether it comes as JSON, plain text, a batch, or a webhook in any wire format; a query parameter
likewise (a 400 naming it). Out: a date already stored outside what Python can hold (written by hand, past
the constraint) never takes a read down for anyone: listings, search, sorting, time series, the article, the
clusters, the export, the live stream and the saved-search matcher all keep answering.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from services.worker.delivery_match import create_deliveries
from services.worker.events import publish_processed
from shared.db.models import SavedSearch
from shared.delivery.settings import DeliverySettings
from shared.search.filters import SearchFilters
from tests.e2e.test_query_stream import _next_event, subscribe
from tests.services.ingest.channel_support import deliver, make_source
from tests.shared.channels.samples import NEWSML_ITEM, NINJS_2, NITF
from tests.support import wait_for

pytestmark = pytest.mark.e2e

BEYOND = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0999-12-31T23:59:59Z", "3000-01-01T00:00:00Z"]
STORY = {
    "title": "Harbour bridge reopens after repairs",
    "body": "The harbour bridge reopened to traffic on Monday after six weeks of repairs.\n\n"
    "Commuters had faced detours of up to forty minutes while crews replaced the deck joints.",
}


def _field(r: httpx.Response) -> str:
    details = r.json()["error"]["details"]
    assert details, r.text
    return str(details[0]["field"])


# In: every road an article takes ------------------------------------------------------------------------


@pytest.mark.parametrize("published_at", BEYOND)
def test_json_articles_with_a_date_outside_the_window_are_refused(
    ingest: httpx.Client, db: Engine, published_at: str
) -> None:
    r = ingest.post("/v1/articles", json={**STORY, "published_at": published_at})
    assert r.status_code == 422, r.text
    assert _field(r) == "published_at"
    assert "1000 to 2999" in r.json()["error"]["message"]
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 0


def test_plain_text_and_batch_items_with_a_date_outside_the_window_are_refused(ingest: httpx.Client) -> None:
    plain = ingest.post(
        "/v1/articles",
        content=f"{STORY['title']}\n\n{STORY['body']}".encode(),
        headers={"Content-Type": "text/plain"},
        params={"published_at": BEYOND[0]},
    )
    assert plain.status_code == 422 and _field(plain) == "published_at", plain.text
    batch = ingest.post(
        "/v1/articles/batch",
        json={"articles": [{**STORY, "published_at": BEYOND[1]}, {**STORY, "published_at": "2026-03-02T07:30:00Z"}]},
    )
    assert batch.status_code == 202, batch.text
    [rejected] = batch.json()["rejected"]
    assert rejected["index"] == 0
    assert rejected["error"]["details"][0]["field"] == "articles.0.published_at"
    assert [a["index"] for a in batch.json()["accepted"]] == [1]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({**STORY, "external_id": "bridge-1", "published_at": BEYOND[0]}).encode()),
        ("application/vnd.iptc.ninjs+json", json.dumps({**NINJS_2, "firstcreated": BEYOND[0]}).encode()),
        ("application/vnd.iptc.g2.newsitem+xml", NEWSML_ITEM.replace(b"2024-03-05T08:55:00+01:00", BEYOND[0].encode())),
        ("application/nitf+xml", NITF.replace(b"20240305T101500Z", b"99991231T235959-1400")),
        ("application/nitf+xml", NITF.replace(b"20240305T101500Z", b"00010101T000000+1400")),
    ],
    ids=["tidings", "ninjs", "newsml-g2", "nitf-late", "nitf-early"],
)
def test_webhook_items_with_a_date_outside_the_window_are_refused(
    ingest: httpx.Client, db: Engine, content_type: str, body: bytes
) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, body, content_type=content_type, msg_id=f"msg_{uuid.uuid4().hex}")
    assert r.status_code in (202, 422), r.text
    if r.status_code == 202:
        assert r.json()["accepted"] == []
        [rejected] = r.json()["rejected"]
        assert rejected["error"]["details"][0]["field"].endswith("published_at"), rejected
    else:
        assert _field(r).endswith("published_at")
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 0


def test_a_feed_entry_with_an_impossible_date_is_kept_and_dated_on_arrival() -> None:
    from shared.channels.feeds import parse_feed

    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>City desk</title>'
        b"<item><title>Harbour bridge reopens</title><link>https://news.example.com/bridge</link>"
        b"<description>The bridge reopened on Monday after six weeks of repairs.</description>"
        b"<pubDate>9999-12-31T23:59:59-14:00</pubDate><guid>bridge-1</guid></item>"
        b"<item><title>Ferry timetable changes</title><link>https://news.example.com/ferry</link>"
        b"<description>Ferries will sail every twenty minutes from June.</description>"
        b"<pubDate>Tue, 02 Mar 2026 07:30:00 +0000</pubDate><guid>ferry-1</guid></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed(rss, source="citydesk")
    dates = [item.data.get("published_at") if item.data else item.error for item in parsed.items]
    assert dates == [None, "2026-03-02T07:30:00+00:00"]


# In: query parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/articles", {"from": "0001-01-01T00:00:00+14:00"}, "from"),
        ("/v1/articles", {"to": "9999-12-31T23:59:59-14:00"}, "to"),
        ("/v1/clusters", {"to": "0001-01-01T00:00:00Z"}, "to"),
        ("/v1/clusters", {"from": "9999-12-30T00:00:00Z", "to": "9999-12-31T00:00:00Z"}, "from"),
        ("/v1/events", {"to": "0001-01-01T00:00:00Z"}, "to"),
        ("/v1/events", {"from": "9999-12-30T00:00:00Z"}, "from"),
        ("/v1/timeseries", {"from": "0001-01-01", "to": "0001-01-02", "tz": "Asia/Tokyo"}, "from"),
        ("/v1/timeseries", {"from": "9999-12-30T00:00:00Z", "to": "9999-12-31T00:00:00Z"}, "from"),
        ("/v1/facets", {"from": "9999-12-30T00:00:00Z"}, "from"),
        ("/v1/export", {"to": "0500-01-01T00:00:00Z"}, "to"),
    ],
)
def test_query_dates_outside_the_window_are_a_400_naming_the_parameter(
    query: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    r = query.get(path, params=params)
    assert r.status_code == 400, r.text
    assert _field(r) == field


def test_a_naive_and_an_aware_bound_together_are_compared_not_a_500(query: httpx.Client) -> None:
    r = query.get("/v1/articles", params={"from": "2026-03-02T00:00:00", "to": "2026-03-01T00:00:00+00:00"})
    assert r.status_code == 400 and _field(r) == "from", r.text
    ok = query.get("/v1/timeseries", params={"from": "2026-03-01T00:00:00", "to": "2026-03-02T00:00:00Z"})
    assert ok.status_code == 200, ok.text


def test_a_saved_search_with_a_date_outside_the_window_is_refused_naming_it(query: httpx.Client) -> None:
    r = query.post("/v1/saved-searches", json={"name": "bridges", "filters": {"from": BEYOND[0]}})
    assert r.status_code == 422, r.text
    assert _field(r) == "filters.from"


def _cursor(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def test_forged_cursors_are_a_400_naming_the_cursor(query: httpx.Client) -> None:
    fingerprint = SearchFilters().fingerprint()
    for key in (["2026-03-02T07:30:00+00:00", 123], [123, "x"], ["2026-03-02", None], "not a list", []):
        r = query.get(
            "/v1/articles",
            params={"sort": "published", "cursor": _cursor({"s": "published", "f": fingerprint, "k": key})},
        )
        assert r.status_code == 400 and _field(r) == "cursor", (key, r.text)
    window = "2026-03-01T00:00:00+00:00/2026-03-02T00:00:00+00:00/1"
    # The story listing and the events listing by size both read a size, a date and an id from the cursor.
    listings = [("/v1/clusters", window, {}), ("/v1/events", f"{window}/largest", {"sort": "largest"})]
    for path, listing_window, extra in listings:
        for size in ("1e999", 1e300, 2**70, True, "12", None):
            raw = json.dumps({"w": listing_window, "k": [size, "2026-03-01T12:00:00+00:00", str(uuid.uuid4())]})
            raw = raw.replace('"1e999"', "1e999")
            cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            r = query.get(
                path,
                params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "cursor": cursor, **extra},
            )
            assert r.status_code == 400 and _field(r) == "cursor", (path, size, r.text)


# Out: a stored date Python cannot hold -----------------------------------------------------------------

# Three unrelated stories (never clustered together), all mentioning the harbour.
DISTINCT_STORIES = {
    "late": (
        "Harbour bridge reopens after repairs",
        "The harbour bridge reopened to traffic on Monday after six weeks of repairs to its deck joints.\n\n"
        "Commuters had faced detours of up to forty minutes while the crews worked through the night.",
    ),
    "early": (
        "Council approves harbour wall budget",
        "Councillors voted eleven to four on Tuesday to fund a new sea wall along the eastern harbour.\n\n"
        "Engineers warned that winter storms had undermined the old wall in three places last year.",
    ),
    "fine": (
        "Fishing fleet returns early as gales close in",
        "Trawlers crowded back into the harbour on Wednesday as forecasters upgraded the gale warning.\n\n"
        "Skippers said the catch had been the best of the season before the weather turned.",
    ),
}


@pytest.fixture
def unreadable_dates(ingest: httpx.Client, query: httpx.Client, db: Engine) -> Iterator[dict[str, str]]:
    """Three processed articles, then two of them (and their clusters) re-dated by hand to 10000-01-01 and
    1 BC UTC, past the constraints that normally refuse it; the constraints come back afterwards."""
    ids = {}
    for name, (title, body) in DISTINCT_STORIES.items():
        r = ingest.post(
            "/v1/articles",
            json={"title": title, "body": body, "source": "citydesk", "external_id": name,
                  "published_at": "2026-03-02T07:30:00Z"},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        ids[name] = r.json()["id"]
    for article_id in ids.values():
        wait_for(
            lambda a=article_id: query.get(f"/v1/articles/{a}").status_code == 200,
            timeout=90,
            what="the articles to be processed",
        )
    with db.begin() as conn:
        conn.execute(text("ALTER TABLE articles DROP CONSTRAINT ck_articles_published_at_storable"))
        conn.execute(text("ALTER TABLE clusters DROP CONSTRAINT ck_clusters_last_published_at_storable"))
        conn.execute(text("ALTER TABLE clusters DROP CONSTRAINT ck_clusters_first_published_at_storable"))
        for name, stored in (("late", "10000-01-01 00:00:00+00"), ("early", "0001-01-01 00:00:00+00 BC")):
            conn.execute(text("UPDATE articles SET published_at = :d WHERE id = :id"), {"d": stored, "id": ids[name]})
            conn.execute(
                text(
                    "UPDATE clusters SET first_published_at = :d, last_published_at = :d "
                    "WHERE id = (SELECT cluster_id FROM articles WHERE id = :id)"
                ),
                {"d": stored, "id": ids[name]},
            )
    try:
        yield ids
    finally:
        with db.begin() as conn:
            conn.execute(text("TRUNCATE articles, clusters, article_tags CASCADE"))
            ok = "BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00'"
            for table, name, column in (
                ("articles", "ck_articles_published_at_storable", "published_at"),
                ("clusters", "ck_clusters_first_published_at_storable", "first_published_at"),
                ("clusters", "ck_clusters_last_published_at_storable", "last_published_at"),
            ):
                conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} {ok})"))


def test_reads_keep_working_past_a_stored_date_python_cannot_hold(
    query: httpx.Client, unreadable_dates: dict[str, str]
) -> None:
    ids = unreadable_dates
    everyone = set(ids.values())
    listing = query.get("/v1/articles", params={"limit": 5})
    assert listing.status_code == 200, listing.text
    assert {i["id"] for i in listing.json()["items"]} == everyone
    assert listing.json()["items"][0]["id"] == ids["late"]  # newest first: read as the latest date there is
    searched = query.get("/v1/articles", params={"q": "harbour"})
    assert searched.status_code == 200 and {i["id"] for i in searched.json()["items"]} >= {ids["late"], ids["early"]}
    oldest = query.get("/v1/articles", params={"sort": "published", "limit": 1})
    assert oldest.status_code == 200 and oldest.json()["items"][0]["id"] == ids["early"]
    # Paging past the unreadable rows, one at a time, in both directions, reaches every article once.
    for sort in ("published", "-published"):
        seen, cursor = [], None
        while True:
            page = query.get(
                "/v1/articles", params={"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200, page.text
            seen += [i["id"] for i in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(everyone) and len(seen) == 3
    for article_id in ids.values():
        detail = query.get(f"/v1/articles/{article_id}")
        assert detail.status_code == 200, detail.text
    assert query.get(f"/v1/articles/{ids['late']}").json()["published_at"].startswith("9999-12-31")
    series = query.get("/v1/timeseries", params={"tz": "Asia/Tokyo"})
    assert series.status_code == 200, series.text
    assert series.json()["total"] == 1  # the readable one; the others fall outside the window
    clusters = query.get("/v1/clusters", params={"from": "1000-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"})
    assert clusters.status_code == 200, clusters.text
    late_cluster = query.get(
        "/v1/clusters", params={"from": "2026-03-01T00:00:00Z", "min_size": 1, "to": "2999-12-31T00:00:00Z"}
    )
    assert late_cluster.status_code == 200, late_cluster.text
    for fmt in ("jsonl", "csv"):
        with query.stream("GET", "/v1/export", params={"format": fmt}) as exported:
            assert exported.status_code == 200
            body = exported.read().decode()
        rows = [json.loads(line)["id"] for line in body.splitlines()] if fmt == "jsonl" else [
            row["id"] for row in csv.DictReader(io.StringIO(body))
        ]  # fmt: skip
        assert sorted(rows) == sorted(everyone), body


def test_the_live_stream_carries_an_article_whose_stored_date_python_cannot_hold(
    query: httpx.Client, redis_client: redis.Redis, unreadable_dates: dict[str, str]
) -> None:
    with subscribe(query, {"source": "citydesk"}) as events:
        assert events.get(timeout=30) == {"status": 200}
        _next_event(events, "connected", timeout=30)
        publish_processed(redis_client, [uuid.UUID(unreadable_dates["late"]), uuid.UUID(unreadable_dates["fine"])])
        first = json.loads(_next_event(events, "article")["data"])
        second = json.loads(_next_event(events, "article")["data"])
    assert [first["id"], second["id"]] == [unreadable_dates["late"], unreadable_dates["fine"]]


def test_the_saved_search_matcher_delivers_past_a_stored_date_python_cannot_hold(
    db: Engine, unreadable_dates: dict[str, str]
) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    with Session(db) as session, session.begin():
        # The second definition no longer validates (stored by an older version): it must not stall the first.
        for name, filters in (("harbour", {"source": ["citydesk"]}), ("stale", {"topic": ["no such subject"]})):
            session.add(
                SavedSearch(
                    id=uuid.uuid4(),
                    name=name,
                    filters=filters,
                    webhook_url="https://hooks.example.com/harbour",
                    secret=secret,
                    active=True,
                    created_at=datetime(2000, 1, 1, tzinfo=UTC),
                )
            )
    with Session(db) as session, session.begin():
        matched, deliveries = create_deliveries(
            session, DeliverySettings(), [uuid.UUID(i) for i in unreadable_dates.values()]
        )
    assert matched == 3 and deliveries
