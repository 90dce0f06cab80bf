"""Partial reuse through the running services: the links both ways in the query API, and two worker processes
racing on a wire story and its rewrites ending in one cluster."""

from __future__ import annotations

import uuid

import httpx
import pytest
from celery import Celery
from sqlalchemy import Engine, text

from tests.services.worker.dedup_support import assert_consistent
from tests.shared.dedup.reuse_support import payload
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def _processed(db: Engine, ids: list[str]) -> bool:
    with db.connect() as conn:
        done = conn.scalar(
            text("SELECT count(*) FROM ingestions WHERE state = 'processed' AND id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": ids},
        )
    return done == len(ids)


def _post(ingest: httpx.Client, name: str, **extra: str) -> str:
    r = ingest.post("/v1/articles", json=payload(name, **extra))
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def test_the_query_api_lists_reuse_both_ways(ingest: httpx.Client, query: httpx.Client, db: Engine) -> None:
    wire = _post(ingest, "wire", published_at="2026-03-05T08:00:00Z")
    wait_for(lambda: _processed(db, [wire]), timeout=30, what="the wire story to be processed")
    rewrite = _post(ingest, "rewrite", published_at="2026-03-05T11:00:00Z")
    wait_for(lambda: _processed(db, [rewrite]), timeout=30, what="the rewrite to be processed")
    feature = _post(ingest, "feature", published_at="2026-03-06T07:00:00Z")
    wait_for(lambda: _processed(db, [feature]), timeout=30, what="the feature to be processed")

    mine = query.get(f"/v1/articles/{rewrite}/reuse")
    assert mine.status_code == 200, mine.text
    by_id = {i["article_id"]: i for i in mine.json()["items"]}
    assert by_id[wire]["decision"] == "joined" and by_id[wire]["decided_by"] == rewrite
    assert by_id[feature]["decision"] == "linked" and by_id[feature]["decided_by"] == feature

    # The wire's side of the same pairs: the shares swapped, the passages too.
    article = query.get(f"/v1/articles/{wire}")
    assert article.status_code == 200, article.text
    body = article.json()
    assert body["dedup"]["cluster_id"] == wire  # the existing shape stays
    seen = {i["article_id"]: i for i in body["reuse"]}
    assert set(seen) == {rewrite, feature}
    assert seen[rewrite]["share_of_this"] == by_id[wire]["share_of_other"]
    assert seen[rewrite]["share_of_other"] == by_id[wire]["share_of_this"]
    assert seen[rewrite]["passages_here"] == by_id[wire]["passages_there"]
    first, last = seen[rewrite]["passages_here"][0]
    assert 0 <= first < last <= len(body["body"])
    assert seen[feature]["decision"] == "linked" and 0.3 <= seen[feature]["share_of_this"] < 0.6

    dups = query.get(f"/v1/articles/{wire}/duplicates")
    assert dups.status_code == 200, dups.text
    assert [m["id"] for m in dups.json()["items"]] == [rewrite]
    assert dups.json()["items"][0]["method"] == "reuse"
    assert {i["article_id"] for i in dups.json()["reuse"]} == {rewrite, feature}

    missing = query.get(f"/v1/articles/{uuid.uuid4()}/reuse")
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["details"][0]["field"] == "article_id"
    bad = query.get(f"/v1/articles/{rewrite}/reuse", params={"limit": 0})
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["details"][0]["field"] == "limit"


ROUNDS = 10  # requests of wire copies and requests of rewrites, alternating: 20 tasks to race on
PER_REQUEST = 4


def _variant(name: str, n: int) -> dict[str, str]:
    """A copy of the wire story or of the rewrite as one more outlet runs it: its own dateline and source."""
    p = payload(name, source=f"{name}-outlet-{n}")
    return p | {"title": f"{p['title']} ({n})", "body": f"TOWN DESK {n} - " + p["body"]}


def test_two_workers_racing_on_a_wire_story_and_its_rewrites_make_one_cluster(
    ingest: httpx.Client,
    db: Engine,
    two_workers: list[str],
    control: Celery,
) -> None:
    ids: list[str] = []
    for r in range(ROUNDS):
        for name in ("wire", "rewrite"):
            batch = {"articles": [_variant(name, r * PER_REQUEST + k) for k in range(PER_REQUEST)]}
            answer = ingest.post("/v1/articles/batch", json=batch)
            assert answer.status_code == 202, answer.text
            ids += [item["id"] for item in answer.json()["accepted"]]
    total = 2 * ROUNDS * PER_REQUEST
    assert len(set(ids)) == total
    wait_for(lambda: _processed(db, ids), timeout=240, interval=0.5, what="the copies to be processed")

    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(DISTINCT cluster_id) FROM articles")) == 1
        assert conn.execute(text("SELECT size FROM clusters")).scalars().all() == [total]
        methods = set(conn.execute(text("SELECT DISTINCT dedup_method FROM articles")).scalars())
        joined = conn.scalar(text("SELECT count(*) FROM dedup_reuse WHERE decision = 'joined'"))
    assert "reuse" in methods and joined >= 1
    assert_consistent(db)

    stats = control.control.inspect(destination=two_workers, timeout=2).stats() or {}
    done = {name: sum((stats.get(name) or {}).get("total", {}).values()) for name in two_workers}
    assert all(n > 0 for n in done.values()), f"both workers must have processed batches: {done}"
