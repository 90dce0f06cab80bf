"""Events through the running services: grouped by the worker, announced on the live stream, listed and
filtered by the query service, corrected through the ingest service."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from shared.config import get_settings
from shared.tasks import TaskName, make_celery
from tests.e2e.test_query_stream import _next_event, subscribe
from tests.fixtures.events import ARTICLES
from tests.support import wait_for

pytestmark = pytest.mark.e2e
WINDOW = {"from": "2026-11-29T00:00:00Z", "to": "2026-12-04T00:00:00Z"}


def _processed(db: Engine, ids: list[str]) -> bool:
    with db.connect() as conn:
        done = conn.scalar(
            text("SELECT count(*) FROM ingestions WHERE state = 'processed' AND id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": ids},
        )
    return done == len(ids)


def _post(ingest: httpx.Client, db: Engine, *names: str) -> list[str]:
    ids = []
    for name in names:
        r = ingest.post("/v1/articles", json=ARTICLES[name])
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
        wait_for(lambda: _processed(db, ids), timeout=60, what=f"{name} to be processed")
    return ids


def _error_field(r: httpx.Response) -> Any:
    return r.json()["error"]["details"][0]["field"]


def test_events_are_announced_listed_filtered_and_shown_with_their_evidence(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    with subscribe(query, {"q": "Malatya"}) as events:
        _next_event(events, "connected")
        (wire,) = _post(ingest, db, "quake_wire")
        created = _next_event(events, "event.created")
        (local,) = _post(ingest, db, "quake_local")
        grew = _next_event(events, "event.grew")
    assert json.loads(created["data"]) == {"event_id": wire, "article_id": wire}
    assert json.loads(grew["data"]) == {"event_id": wire, "article_id": local}
    bank, derby = _post(ingest, db, "central_bank", "derby")

    article = query.get(f"/v1/articles/{local}").json()
    assert article["event_id"] == wire

    page = query.get("/v1/events", params=WINDOW).json()
    assert [e["id"] for e in page["items"]] == [derby, bank, wire]  # newest (latest article) first
    largest = query.get("/v1/events", params={**WINDOW, "sort": "largest"}).json()["items"]
    quake = largest[0]
    assert quake["id"] == wire and quake["size"] == 2 and quake["cluster_count"] == 2 and quake["source_count"] == 2
    assert quake["first_seen"].startswith("2026-11-30T06:10") and quake["last_seen"].startswith("2026-11-30T09:40")
    assert quake["title"] == ARTICLES["quake_wire"]["title"]
    assert {s["source"] for s in quake["sources"]} == {"anatolia-wire", "coast-herald"}
    assert {c["id"] for c in quake["clusters"]} == {wire, local}
    assert "Malatya" in {p["value"] for p in quake["places"]}
    assert "AFAD" in {e["value"] for e in quake["entities"]}
    first = query.get("/v1/events", params={**WINDOW, "sort": "largest", "limit": 1}).json()
    rest = query.get("/v1/events", params={**WINDOW, "sort": "largest", "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in largest]
    assert query.get("/v1/events", params={**WINDOW, "min_size": 2}).json()["items"][0]["id"] == wire
    assert (
        query.get("/v1/events", params={"from": "2026-12-20T00:00:00Z", "to": "2026-12-21T00:00:00Z"}).json()["items"]
        == []
    )

    detail = query.get(f"/v1/events/{wire}").json()
    members = {m["id"]: m for m in detail["members"]}
    assert set(members) == {wire, local}
    assert members[wire]["rule"] == "founded"
    assert members[local]["rule"] in ("text+entity", "strong_text") and members[local]["matched_id"] == wire
    assert "place:Malatya" in members[local]["shared_entities"]

    listed = query.get("/v1/articles", params={"event": wire}).json()["items"]
    assert {a["id"] for a in listed} == {wire, local} and {a["event_id"] for a in listed} == {wire}
    facets = query.get("/v1/facets", params={"event": wire, "facet": "source"}).json()
    assert {b["value"]: b["count"] for b in facets["facets"]["source"]} == {"anatolia-wire": 1, "coast-herald": 1}
    series = query.get("/v1/timeseries", params={"event": wire, **WINDOW}).json()
    assert series["total"] == 2

    missing = query.get(f"/v1/events/{uuid.uuid4()}")
    assert missing.status_code == 404 and _error_field(missing) == "event_id"
    assert query.get("/v1/events", params={"sort": "oldest"}).status_code == 400
    assert query.get("/v1/events", params={"cursor": "garbage"}).status_code == 400
    bad = query.get("/v1/articles", params={"event": "not-a-uuid"})
    assert bad.status_code == 400 and _error_field(bad) == "event"


def test_corrections_split_and_merge_through_the_ingest_api(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    wire, local, derby = _post(ingest, db, "quake_wire", "quake_local", "derby")
    assert query.get(f"/v1/events/{wire}").json()["size"] == 2

    r = ingest.post(f"/v1/articles/{local}/event-split", json={"note": "a rescue story, not the quake itself"})
    assert r.status_code == 200, r.text
    split = r.json()
    assert split["moved"] and split["previous_event_id"] == wire and split["event_id"] not in (wire, local)
    assert query.get(f"/v1/events/{wire}").json()["size"] == 1
    assert query.get(f"/v1/articles/{local}").json()["event_id"] == split["event_id"]

    r = ingest.post(f"/v1/events/{derby}/merge", json={"into": wire})
    assert r.status_code == 200, r.text
    assert r.json() == {"event_id": derby, "into": wire, "moved": 1}
    merged = query.get(f"/v1/events/{derby}").json()
    assert merged["merged_into"] == wire and merged["size"] == 0
    assert {m["id"] for m in query.get(f"/v1/events/{wire}").json()["members"]} == {wire, derby}

    again = ingest.post(f"/v1/events/{derby}/merge", json={"into": wire})
    assert again.status_code == 409 and _error_field(again) == "into"
    itself = ingest.post(f"/v1/events/{wire}/merge", json={"into": wire})
    assert itself.status_code == 409
    unknown = ingest.post(f"/v1/events/{wire}/merge", json={"into": str(uuid.uuid4())})
    assert unknown.status_code == 404 and _error_field(unknown) == "into"
    no_into = ingest.post(f"/v1/events/{wire}/merge", json={"note": "x"})
    assert no_into.status_code in (400, 422) and "into" in str(_error_field(no_into))
    nobody = ingest.post(f"/v1/articles/{uuid.uuid4()}/event-split")
    assert nobody.status_code == 404 and _error_field(nobody) == "article_id"

    # Reprocessing (a replay of every ingestion) keeps the corrections.
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET state = 'accepted'"))
    app = make_celery(get_settings(), "tidings-test-events")
    try:
        app.send_task(TaskName.PROCESS_BATCH, args=[[wire, local, derby]])
    finally:
        app.close()
    wait_for(lambda: _processed(db, [wire, local, derby]), timeout=60, what="the replay to be processed")
    assert query.get(f"/v1/articles/{local}").json()["event_id"] == split["event_id"]
    assert query.get(f"/v1/articles/{derby}").json()["event_id"] == wire
