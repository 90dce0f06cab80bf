"""``/v1/rules`` and ``/v1/backfills`` on the running ingest service with a real worker: CRUD, bad input
answered 422 naming the position, and a backfill that a client can follow to the end."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import Engine, text

from tests.factories import article_payload
from tests.support import wait_for

RULE = {"name": "Aleppo watch", "tag": "aleppo", "expression": 'aleppo OR "northern city"'}


def _processed(ingest: httpx.Client, article_id: str) -> bool:
    return ingest.get(f"/v1/articles/{article_id}/status").json()["status"] == "processed"


def _done(ingest: httpx.Client, url: str) -> dict | None:
    job = ingest.get(url).json()
    return job if job["state"] == "done" else None


def _rule_tags(db: Engine, rule_id: str) -> set[str]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT article_id FROM article_tags WHERE tagger = :t"), {"t": f"rule:{rule_id}"})
        return {str(r.article_id) for r in rows}


def test_rule_lifecycle_with_backfills(ingest: httpx.Client, db: Engine) -> None:
    aleppo = ingest.post("/v1/articles", json=article_payload(source="wire", external_id="a1")).json()["id"]
    other = ingest.post(
        "/v1/articles",
        json=article_payload(source="wire", external_id="a2", title="Budget talks", body="Ministers met in Oslo."),
    ).json()["id"]
    wait_for(lambda: _processed(ingest, aleppo) and _processed(ingest, other), timeout=60, what="two articles")

    r = ingest.post("/v1/rules", json=RULE)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert r.headers["location"] == f"/v1/rules/{rule['id']}"
    assert {k: rule[k] for k in RULE} == RULE and rule["version"] == 1 and rule["enabled"] is True
    backfill = rule["backfill"]
    assert backfill["action"] == "retag" and backfill["reason"] == "rule created"
    assert backfill["status_url"] == f"/v1/backfills/{backfill['id']}"

    job = wait_for(lambda: _done(ingest, backfill["status_url"]), timeout=60, what="the rule's backfill")
    assert (job["total"], job["done"], job["tagged"], job["progress"]) == (2, 2, 1, 1.0)
    assert _rule_tags(db, rule["id"]) == {aleppo}
    assert ingest.get(f"/v1/rules/{rule['id']}/backfill").json()["id"] == backfill["id"]

    # New articles get the rule from the pipeline itself.
    later = ingest.post("/v1/articles", json=article_payload(source="wire", external_id="a3")).json()["id"]
    wait_for(lambda: _processed(ingest, later), timeout=60, what="the third article")
    assert _rule_tags(db, rule["id"]) == {aleppo, later}

    changed = ingest.put(f"/v1/rules/{rule['id']}", json={**RULE, "expression": "oslo"}).json()
    assert changed["version"] == 2 and changed["backfill"]["reason"] == "rule changed"
    wait_for(lambda: _done(ingest, changed["backfill"]["status_url"]), timeout=60, what="the change's backfill")
    assert _rule_tags(db, rule["id"]) == {other}

    same = ingest.put(f"/v1/rules/{rule['id']}", json={**RULE, "expression": "oslo"}).json()
    assert same["version"] == 2 and same["backfill"]["id"] == changed["backfill"]["id"]  # no change, no job

    listed = ingest.get("/v1/rules").json()["items"]
    assert [(r["id"], r["version"], r["backfill"]["id"]) for r in listed] == [
        (rule["id"], 2, changed["backfill"]["id"])
    ]

    deleted = ingest.delete(f"/v1/rules/{rule['id']}")
    assert deleted.status_code == 202
    removal = deleted.json()["backfill"]
    assert removal["action"] == "remove"
    wait_for(lambda: _done(ingest, removal["status_url"]), timeout=60, what="the removal")
    assert _rule_tags(db, rule["id"]) == set()
    assert ingest.get(f"/v1/rules/{rule['id']}").status_code == 404
    assert ingest.get("/v1/rules").json()["items"] == []


def test_disabling_a_rule_removes_its_tags(ingest: httpx.Client, db: Engine) -> None:
    article = ingest.post("/v1/articles", json=article_payload(source="wire", external_id="d1")).json()["id"]
    wait_for(lambda: _processed(ingest, article), timeout=60, what="the article")
    rule = ingest.post("/v1/rules", json=RULE).json()
    wait_for(lambda: _done(ingest, rule["backfill"]["status_url"]), timeout=60, what="the backfill")
    assert _rule_tags(db, rule["id"]) == {article}
    off = ingest.put(f"/v1/rules/{rule['id']}", json={**RULE, "enabled": False}).json()
    assert off["backfill"]["action"] == "remove" and off["backfill"]["reason"] == "rule disabled"
    wait_for(lambda: _done(ingest, off["backfill"]["status_url"]), timeout=60, what="the removal")
    assert _rule_tags(db, rule["id"]) == set()


def test_invalid_expressions_are_422_naming_the_position(ingest: httpx.Client, db: Engine) -> None:
    cases = {
        "syria AND (iraq OR iran": (10, "never closed"),
        "syria AND": (9, "after AND"),
        'title:"unterminated': (6, "closing quote"),
        "titel:syria": (0, "unknown field"),
    }
    for expression, (position, fragment) in cases.items():
        r = ingest.post("/v1/rules", json={**RULE, "expression": expression})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "validation_error"
        assert f"at position {position}" in error["message"] and fragment in error["message"]
        [detail] = error["details"]
        assert (detail["field"], detail["position"]) == ("expression", position)
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM tag_rules")) == 0
        assert conn.scalar(text("SELECT count(*) FROM backfill_jobs")) == 0


def test_other_bad_input(ingest: httpx.Client, db: Engine) -> None:
    for body, field in [
        ({"tag": "x", "expression": "x"}, "name"),
        ({**RULE, "tag": "   "}, "tag"),
        ({**RULE, "expression": ""}, "expression"),
        ({**RULE, "expression": "x" * 2001}, "expression"),
        ({**RULE, "colour": "red"}, "colour"),
    ]:
        r = ingest.post("/v1/rules", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"][0]["field"] == field
    missing = uuid.uuid4()
    assert ingest.get(f"/v1/rules/{missing}").status_code == 404
    assert ingest.put(f"/v1/rules/{missing}", json=RULE).status_code == 404
    assert ingest.delete(f"/v1/rules/{missing}").status_code == 404
    assert ingest.get(f"/v1/backfills/{missing}").json()["error"]["code"] == "not_found"
    assert ingest.get("/v1/rules/not-a-uuid").status_code == 400
    r = ingest.put(f"/v1/rules/{missing}", json={**RULE, "expression": "(x"})
    assert r.status_code == 422  # the expression is checked before the rule is looked up
