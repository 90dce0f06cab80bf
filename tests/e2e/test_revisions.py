"""Through the running services: a revised article is processed again (re-tagged, re-deduplicated) and served
as its latest text with its history and a diff; a withdrawn one leaves search, facets and exports but stays
readable by id; the live stream announces both."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.e2e.test_query_stream import _next_event, subscribe
from tests.services.ingest.channel_support import deliver, make_source
from tests.services.worker.dedup_support import story
from tests.support import fixture_bytes, wait_for

pytestmark = pytest.mark.e2e

XML = "application/xml"


def _processed_revision(db: Engine, article_id: str, revision: int) -> bool:
    with db.connect() as conn:
        row = conn.execute(
            text("SELECT i.state, a.revision FROM ingestions i LEFT JOIN articles a ON a.id = i.id WHERE i.id = :id"),
            {"id": article_id},
        ).one()
    return row.state == "processed" and row.revision == revision


def _wait_revision(db: Engine, article_id: str, revision: int) -> None:
    wait_for(lambda: _processed_revision(db, article_id, revision), timeout=90, what=f"revision {revision} processed")


def _ids(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


def _tags(query: httpx.Client, article_id: str) -> set[tuple[str, str]]:
    tags = query.get(f"/v1/articles/{article_id}").json()["tags"]
    return {(kind, t["value"]) for kind, values in tags.items() for t in values}


def test_a_corrected_wire_story_is_reprocessed_and_served_with_its_history(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    rule = ingest.post("/v1/rules", json={"name": "Inquiries", "tag": "inquiry", "expression": "inquiry"})
    assert rule.status_code in (200, 201), rule.text
    secret = make_source(ingest, "agency")
    v1 = deliver(ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-v1.newsml.xml"), content_type=XML)
    article_id = v1.json()["accepted"][0]["id"]
    _wait_revision(db, article_id, 1)
    first = query.get(f"/v1/articles/{article_id}")
    assert first.headers["etag"] == '"1"'
    assert first.json()["revised_at"] is None
    assert ("rule", "inquiry") not in _tags(query, article_id)
    assert _ids(query.get("/v1/articles", params={"q": "Baltorex", "revised": "true"})) == []

    with subscribe(query, {"q": "Baltorex"}) as events:
        assert events.get(timeout=30) == {"status": 200}
        _next_event(events, "connected", timeout=30)
        v2 = deliver(
            ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-v2.newsml.xml"), content_type=XML
        )
        assert v2.json()["accepted"][0] | {"status": "x"} == v1.json()["accepted"][0] | {
            "status": "x",
            "revision": 2,
            "outcome": "revised",
        }
        revised_event = _next_event(events, "article.revised")
        data = json.loads(revised_event["data"])
        assert (data["id"], data["revision"]) == (article_id, 2)
        assert data["title"].startswith("CORRECTED:")

    article = query.get(f"/v1/articles/{article_id}")
    assert article.headers["etag"] == '"2"'
    body = article.json()
    assert body["title"] == "CORRECTED: Fire at Gdansk harbour warehouse kills three workers"
    assert (body["revision"], body["withdrawn_at"]) == (2, None)
    assert body["revised_at"] is not None
    # Re-tagged: the new last paragraph is about an inquiry.
    assert ("rule", "inquiry") in _tags(query, article_id)
    # Search serves the latest text only.
    assert _ids(query.get("/v1/articles", params={"q": "prosecutors"})) == [article_id]
    assert _ids(query.get("/v1/articles", params={"q": '"cause of the fire"'})) == []
    assert _ids(query.get("/v1/articles", params={"q": "Baltorex", "revised": "true"})) == [article_id]
    assert _ids(query.get("/v1/articles", params={"q": "Baltorex", "revised": "false"})) == []
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert _ids(query.get("/v1/articles", params={"revised_since": since})) == [article_id]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert _ids(query.get("/v1/articles", params={"revised_since": later})) == []

    history = query.get(f"/v1/articles/{article_id}/revisions").json()
    assert history["current_revision"] == 2
    assert [(r["revision"], r["version"], r["current"]) for r in history["items"]] == [(1, 1, False), (2, 2, True)]
    assert history["items"][0]["title"] == "Fire at Gdansk harbour warehouse kills two workers"

    diff = query.get(f"/v1/articles/{article_id}/revisions/1/diff/2").json()
    assert diff["title"] == {
        "old": "Fire at Gdansk harbour warehouse kills two workers",
        "new": "CORRECTED: Fire at Gdansk harbour warehouse kills three workers",
        "changed": True,
    }
    assert diff["summary"]["changed"] is False
    ops = [(c["op"], len(c["old"]), len(c["new"])) for c in diff["paragraphs"]]
    assert ops == [("replace", 1, 1), ("equal", 2, 2), ("replace", 1, 1)]
    assert "three workers" in diff["paragraphs"][0]["new"][0]
    assert diff["paragraphs"][2]["old"][0].startswith("The cause of the fire")
    assert diff["changed_paragraphs"] == 2
    assert query.get(f"/v1/articles/{article_id}/revisions/1/diff/7").status_code == 404
    assert query.get(f"/v1/articles/{uuid.uuid4()}/revisions").status_code == 404

    # The kill: hidden from search, readable by id, the text it withdrew kept.
    kill = deliver(
        ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-kill.newsml.xml"), content_type=XML
    )
    assert kill.json()["accepted"][0]["outcome"] == "withdrawn"
    assert _ids(query.get("/v1/articles", params={"q": "Baltorex"})) == []
    killed = query.get(f"/v1/articles/{article_id}").json()
    assert killed["withdrawn_at"] is not None and killed["title"].startswith("CORRECTED:")


def test_a_withdrawn_article_leaves_search_facets_and_exports_and_is_announced(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    title, body = story("marathon")
    kept = ingest.post("/v1/articles", json={"title": "Ferry delayed", "body": "Marathon day ferry delays.",
                                             "source": "desk", "external_id": "kept"}).json()["id"]  # fmt: skip
    article_id = ingest.post(
        "/v1/articles", json={"title": title, "body": body, "source": "desk", "external_id": "to-kill"}
    ).json()["id"]
    _wait_revision(db, article_id, 1)
    _wait_revision(db, kept, 1)
    params = {"q": "marathon"}
    assert set(_ids(query.get("/v1/articles", params=params))) == {article_id, kept}

    with subscribe(query, params) as events:
        assert events.get(timeout=30) == {"status": 200}
        _next_event(events, "connected", timeout=30)
        r = ingest.post(f"/v1/articles/{article_id}/withdraw", json={"reason": "wrong runner named"})
        assert r.status_code == 200, r.text
        # Hidden at once, before the pipeline has announced it.
        assert _ids(query.get("/v1/articles", params=params)) == [kept]
        event = _next_event(events, "article.withdrawn")
        data = json.loads(event["data"])
        assert (data["id"], data["withdrawn"]) == (article_id, True)

    facets = query.get("/v1/facets", params={**params, "facet": "source"}).json()
    assert facets["considered"] == 1
    exported = query.get("/v1/export", params=params).text.strip().splitlines()
    assert [json.loads(line)["id"] for line in exported] == [kept]
    with_withdrawn = _ids(query.get("/v1/articles", params={**params, "include_withdrawn": "true"}))
    assert set(with_withdrawn) == {article_id, kept}
    one = query.get(f"/v1/articles/{article_id}")
    assert one.status_code == 200
    assert one.json()["withdrawal_reason"] == "wrong runner named"
    assert one.json()["withdrawn_at"] is not None
    history = query.get(f"/v1/articles/{article_id}/revisions").json()
    assert history["withdrawal_reason"] == "wrong runner named"
    assert [r["revision"] for r in history["items"]] == [1]


def _cluster(db: Engine, article_id: str) -> tuple[Any, Any]:
    with db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.cluster_id, c.size FROM articles a LEFT JOIN clusters c ON c.id = a.cluster_id"
                " WHERE a.id = :id"
            ),
            {"id": article_id},
        ).one()
    return row.cluster_id, row.size


def test_a_revision_is_deduplicated_again_and_leaves_the_story_it_no_longer_copies(
    ingest: httpx.Client, db: Engine
) -> None:
    strike_title, strike = story("harbour-strike")
    cup_title, cup = story("cup-final")
    strike_id = ingest.post("/v1/articles", json={"title": strike_title, "body": strike, "source": "a"}).json()["id"]
    cup_id = ingest.post("/v1/articles", json={"title": cup_title, "body": cup, "source": "b"}).json()["id"]
    _wait_revision(db, strike_id, 1)
    _wait_revision(db, cup_id, 1)
    copy = {"title": strike_title, "body": strike + "\n\nSource: Portal", "source": "portal", "external_id": "c1"}
    copy_id = ingest.post("/v1/articles", json=copy).json()["id"]
    _wait_revision(db, copy_id, 1)
    assert _cluster(db, copy_id) == (uuid.UUID(strike_id), 2)

    # The portal replaces its text with the cup final: the copy moves to that story, the strike is alone again.
    revised = ingest.post("/v1/articles", json={**copy, "title": cup_title, "body": cup + "\n\nSource: Portal"})
    assert revised.json()["outcome"] == "revised"
    _wait_revision(db, copy_id, 2)
    assert _cluster(db, copy_id) == (uuid.UUID(cup_id), 2)
    assert _cluster(db, strike_id) == (uuid.UUID(strike_id), 1)


def _story_and_event(db: Engine, article_id: str) -> tuple[str, str] | None:
    with db.connect() as conn:
        row = conn.execute(text("SELECT cluster_id, event_id FROM articles WHERE id = :id"), {"id": article_id}).first()
    if row is None or row.cluster_id is None or row.event_id is None:
        return None
    return str(row.cluster_id), str(row.event_id)


def test_a_withdrawn_member_leaves_its_story_and_event_unless_asked_for(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    title, body = story("harbour-strike")
    wire = ingest.post("/v1/articles", json={"title": title, "body": body, "source": "wire"}).json()["id"]
    _wait_revision(db, wire, 1)
    copy = {"title": title, "body": body + "\n\nSource: Portal", "source": "portal", "external_id": "w1"}
    copy_id = ingest.post("/v1/articles", json=copy).json()["id"]
    _wait_revision(db, copy_id, 1)
    wait_for(lambda: _story_and_event(db, wire) and _story_and_event(db, copy_id), timeout=90, what="event assigned")
    cluster_id, event_id = _story_and_event(db, copy_id) or ("", "")
    assert _story_and_event(db, wire) == (cluster_id, event_id)
    shown = {"include_withdrawn": "true"}
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(days=2)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}

    def members(path: str, params: dict[str, str] | None = None) -> set[str]:
        r = query.get(path, params=params)
        assert r.status_code == 200, r.text
        return {m["id"] for m in r.json()["members"]}

    def event_sources(params: dict[str, str]) -> set[str]:
        page = query.get("/v1/events", params={**window, **params}).json()["items"]
        return {s["source"] for e in page if e["id"] == event_id for s in e["sources"]}

    assert members(f"/v1/clusters/{cluster_id}") == {wire, copy_id}
    assert members(f"/v1/events/{event_id}") == {wire, copy_id}
    assert event_sources({}) == {"wire", "portal"}

    r = ingest.post(f"/v1/articles/{copy_id}/withdraw", json={"reason": "copied without a licence"})
    assert r.status_code == 200, r.text
    detail = query.get(f"/v1/clusters/{cluster_id}").json()
    assert ({m["id"] for m in detail["members"]}, detail["size"], detail["sources"]) == ({wire}, 1, 1)
    assert detail["canonical"]["id"] == wire
    assert members(f"/v1/events/{event_id}") == {wire}
    assert event_sources({}) == {"wire"}
    # Asked for, the withdrawn copy is back everywhere.
    assert query.get(f"/v1/clusters/{cluster_id}", params=shown).json()["size"] == 2
    assert members(f"/v1/clusters/{cluster_id}", shown) == {wire, copy_id}
    assert members(f"/v1/events/{event_id}", shown) == {wire, copy_id}
    assert event_sources(shown) == {"wire", "portal"}

    # With every member withdrawn the story leaves the listing and is not found, unless asked for.
    assert ingest.post(f"/v1/articles/{wire}/withdraw", json={}).status_code == 200
    listed = {c["id"] for c in query.get("/v1/clusters", params=window).json()["items"]}
    assert cluster_id not in listed
    assert cluster_id in {c["id"] for c in query.get("/v1/clusters", params={**window, **shown}).json()["items"]}
    assert query.get(f"/v1/clusters/{cluster_id}").status_code == 404
    assert members(f"/v1/clusters/{cluster_id}", shown) == {wire, copy_id}
    assert members(f"/v1/events/{event_id}") == set()
