"""Revisions and withdrawals on the ingest API: replays stay no-ops, new content becomes a revision with its
history kept, an older revision arriving late never wins, preconditions refuse racing writers (409/412), and
two revisions racing on one article are both kept, in order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.services.ingest.channel_support import deliver, make_source
from tests.support import fixture_bytes

ARTICLE = {
    "title": "Fire at Gdansk harbour warehouse kills two workers",
    "body": "A fire at a grain warehouse killed two workers early on Friday.\n\nThe cause was not yet known.",
    "source": "wire",
    "external_id": "gdansk-fire",
}
REVISED = {
    **ARTICLE,
    "title": "CORRECTED: Fire at Gdansk harbour warehouse kills three workers",
    "body": "A fire at a grain warehouse killed three workers early on Friday.\n\nThe cause was not yet known.",
}


def _rows(db: Engine, sql: str, **params: Any) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(text(sql), params))


def _ingestion(db: Engine, article_id: str) -> Any:
    [row] = _rows(
        db,
        "SELECT revision, state, payload, attempts, pending_event, withdrawn_at, withdrawal_reason"
        " FROM ingestions WHERE id = :id",
        id=article_id,
    )
    return row


def _history(db: Engine, article_id: str) -> list[tuple[int, str]]:
    return [
        (r.revision, r.title)
        for r in _rows(
            db,
            "SELECT revision, payload->>'title' AS title FROM article_revisions WHERE article_id = :id ORDER BY revision",
            id=article_id,
        )
    ]


def test_identical_content_is_a_no_op_replay(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    again = ingest.post("/v1/articles", json=ARTICLE)
    assert again.status_code == 202
    assert again.json() | {"status": "accepted"} == first | {"duplicate": True, "outcome": "replayed"}
    assert _ingestion(db, first["id"]).revision == 1
    assert _history(db, first["id"]) == []
    assert len(_rows(db, "SELECT id FROM ingestions")) == 1


def test_new_content_for_the_same_identity_is_a_revision(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    assert (first["revision"], first["outcome"]) == (1, "created")
    revised = ingest.post("/v1/articles", json=REVISED)
    assert revised.status_code == 202, revised.text
    body = revised.json()
    assert body["id"] == first["id"]
    assert (body["revision"], body["outcome"], body["duplicate"], body["status"]) == (2, "revised", False, "accepted")
    row = _ingestion(db, first["id"])
    assert row.revision == 2
    assert row.payload["title"] == REVISED["title"]
    assert row.pending_event == "article.revised" or row.state == "processed"
    assert _history(db, first["id"]) == [(1, ARTICLE["title"]), (2, REVISED["title"])]
    # The first text sent again is a replay of revision 1, not a third revision, and changes nothing.
    late = ingest.post("/v1/articles", json=ARTICLE).json()
    assert (late["outcome"], late["revision"], late["duplicate"]) == ("replayed", 1, True)
    assert _ingestion(db, first["id"]).payload["title"] == REVISED["title"]


def test_an_older_version_arriving_late_is_kept_in_history_only(ingest: httpx.Client, db: Engine) -> None:
    v3 = ingest.post("/v1/articles", json={**REVISED, "version": 3}).json()
    v2 = ingest.post("/v1/articles", json={**ARTICLE, "version": 2}).json()
    assert v2["id"] == v3["id"]
    assert (v2["outcome"], v2["revision"], v2["duplicate"]) == ("kept_older", 2, False)
    row = _ingestion(db, v3["id"])
    assert (row.revision, row.payload["title"]) == (1, REVISED["title"])
    assert _history(db, v3["id"]) == [(1, REVISED["title"]), (2, ARTICLE["title"])]
    # A later modification time wins when neither carries a version.
    other = {**ARTICLE, "external_id": "by-time", "version_created": "2024-04-12T10:00:00Z"}
    ingest.post("/v1/articles", json=other)
    older = ingest.post(
        "/v1/articles", json={**other, "title": "Earlier draft", "version_created": "2024-04-12T09:00:00Z"}
    ).json()
    assert older["outcome"] == "kept_older"
    newer = ingest.post("/v1/articles", json={**other, "title": "Latest", "version_created": "2024-04-12T11:00:00Z"})
    assert newer.json()["outcome"] == "revised"
    assert _ingestion(db, older["id"]).payload["title"] == "Latest"


def test_if_match_and_revision_preconditions(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    stale = ingest.post("/v1/articles", json=REVISED, headers={"If-Match": '"2"'})
    assert stale.status_code == 412, stale.text
    error = stale.json()["error"]
    assert error["code"] == "precondition_failed"
    assert error["details"][0]["field"] == "If-Match" and error["details"][0]["current_revision"] == 1
    ok = ingest.post("/v1/articles", json=REVISED, headers={"If-Match": '"1"'})
    assert ok.status_code == 202 and ok.json()["revision"] == 2
    # Another writer that read revision 1 too is refused, and nothing is stored for it.
    racer = ingest.post("/v1/articles", json={**ARTICLE, "body": "Another text."}, headers={"If-Match": "1"})
    assert racer.status_code == 412
    taken = ingest.post("/v1/articles", json={**ARTICLE, "body": "Yet another text.", "revision": 2})
    assert taken.status_code == 409, taken.text
    assert taken.json()["error"]["code"] == "revision_conflict"
    assert taken.json()["error"]["details"][0]["field"] == "revision"
    assert _ingestion(db, first["id"]).revision == 2
    assert [n for n, _ in _history(db, first["id"])] == [1, 2]
    missing = ingest.post("/v1/articles", json={**ARTICLE, "external_id": "nothing-yet"}, headers={"If-Match": "1"})
    assert missing.status_code == 412
    assert ingest.post("/v1/articles", json=REVISED, headers={"If-Match": "abc"}).status_code == 400


def test_batch_items_state_their_revision_and_conflicts_are_answered_per_item(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    batch = {
        "articles": [
            {**REVISED, "revision": 2},
            {**ARTICLE, "body": "A third text.", "revision": 2},  # raced by the item before it
            {**ARTICLE, "external_id": "new-one", "revision": 1},
        ]
    }
    r = ingest.post("/v1/articles/batch", json=batch)
    assert r.status_code == 202, r.text
    body = r.json()
    assert [(a["index"], a["outcome"], a["revision"]) for a in body["accepted"]] == [
        (0, "revised", 2),
        (2, "created", 1),
    ]
    [rejected] = body["rejected"]
    assert rejected["index"] == 1 and rejected["error"]["code"] == "revision_conflict"
    assert rejected["error"]["details"][0]["field"] == "articles.1.revision"
    assert _ingestion(db, first["id"]).revision == 2
    again = ingest.post("/v1/articles/batch", json={"articles": [{**ARTICLE, "body": "Late.", "revision": 2}]})
    assert again.status_code == 409


def test_concurrent_revisions_are_both_kept_in_order(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    writers = 8
    barrier = Barrier(writers)

    def revise(n: int) -> dict[str, Any]:
        barrier.wait()
        r = ingest.post("/v1/articles", json={**ARTICLE, "body": f"Revised text number {n}."})
        assert r.status_code == 202, r.text
        return dict(r.json())

    with ThreadPoolExecutor(writers) as pool:
        answers = list(pool.map(revise, range(writers)))
    assert {a["id"] for a in answers} == {first["id"]}
    assert sorted(a["revision"] for a in answers) == list(range(2, writers + 2))
    assert all(a["outcome"] == "revised" for a in answers)
    history = _rows(
        db, "SELECT revision, payload->>'body' AS body FROM article_revisions WHERE article_id = :id", id=first["id"]
    )
    assert sorted(h.revision for h in history) == list(range(1, writers + 2))
    assert len({h.body for h in history}) == writers + 1, "no text lost"
    # The current one is the last decided: the highest number.
    last = next(h.body for h in history if h.revision == writers + 1)
    assert _ingestion(db, first["id"]).payload["body"] == last


def test_withdraw_api(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    r = ingest.post(f"/v1/articles/{first['id']}/withdraw", json={"reason": "legal"})
    assert r.status_code == 200, r.text
    assert (r.json()["reason"], r.json()["already_withdrawn"]) == ("legal", False)
    row = _ingestion(db, first["id"])
    assert row.withdrawn_at is not None and row.withdrawal_reason == "legal"
    again = ingest.post(f"/v1/articles/{first['id']}/withdraw", json={"reason": "twice"})
    assert again.status_code == 200 and again.json()["already_withdrawn"] is True
    assert _ingestion(db, first["id"]).withdrawal_reason == "legal"
    missing = ingest.post("/v1/articles/0190f0c4-0000-7000-8000-000000000000/withdraw", json={})
    assert missing.status_code == 404
    stale = ingest.post(f"/v1/articles/{first['id']}/withdraw", json={}, headers={"If-Match": "5"})
    assert stale.status_code == 200, "already withdrawn: nothing left to refuse"
    other = ingest.post("/v1/articles", json={**ARTICLE, "external_id": "other"}).json()
    refused = ingest.post(f"/v1/articles/{other['id']}/withdraw", json={}, headers={"If-Match": "5"})
    assert refused.status_code == 412
    assert ingest.post(f"/v1/articles/{other['id']}/withdraw", json={"nope": 1}).status_code == 422


def test_a_newsml_update_through_a_webhook_is_a_revision_and_its_kill_a_withdrawal(
    ingest: httpx.Client, db: Engine
) -> None:
    secret = make_source(ingest, "agency")
    xml = "application/xml"
    v1 = deliver(ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-v1.newsml.xml"), content_type=xml)
    assert v1.status_code == 202, v1.text
    [one] = v1.json()["accepted"]
    v2 = deliver(ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-v2.newsml.xml"), content_type=xml)
    [two] = v2.json()["accepted"]
    assert two["id"] == one["id"]
    assert (two["outcome"], two["revision"], two["duplicate"]) == ("revised", 2, False)
    assert _ingestion(db, one["id"]).payload["title"].startswith("CORRECTED:")
    again = deliver(ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-v1.newsml.xml"), content_type=xml)
    assert again.json()["accepted"][0]["outcome"] == "replayed"
    kill = deliver(
        ingest, "agency", secret, fixture_bytes("revisions/warehouse-fire-kill.newsml.xml"), content_type=xml
    )
    assert kill.json()["accepted"][0]["outcome"] == "withdrawn"
    row = _ingestion(db, one["id"])
    assert row.withdrawn_at is not None
    assert row.payload["title"].startswith("CORRECTED:"), "a kill keeps the text it withdraws"
