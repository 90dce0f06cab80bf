"""Through the running services: copies are clustered, a user corrects a decision, the correction sticks."""

from __future__ import annotations

import uuid

import httpx
import pytest
from celery import Celery
from sqlalchemy import Engine, text

from shared.config import get_settings
from shared.dedup.settings import DedupSettings
from shared.tasks import TaskName, make_celery
from tests.factories import article_payload, insert_ingestions
from tests.services.worker.dedup_support import assert_consistent, credited, story
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def _processed(db: Engine, ids: list[str]) -> bool:
    with db.connect() as conn:
        done = conn.scalar(
            text("SELECT count(*) FROM ingestions WHERE state = 'processed' AND id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": ids},
        )
    return done == len(ids)


def _article(db: Engine, article_id: str) -> dict:
    with db.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM articles WHERE id = :id"), {"id": article_id}).mappings().one())


def _post(ingest: httpx.Client, **fields: object) -> str:
    r = ingest.post("/v1/articles", json=fields)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_not_a_duplicate_leaves_the_cluster_and_stays_out_on_reprocessing(ingest: httpx.Client, db: Engine) -> None:
    title, body = story("harbour-strike")
    original = _post(ingest, title=title, body=body, source="agency", published_at="2005-02-01T09:00:00Z")
    wait_for(lambda: _processed(db, [original]), timeout=30, what="the original to be processed")
    copy = _post(ingest, title="Rewritten: " + title, body=credited(body), source="portal")
    third = _post(ingest, title=title, body=body + "\n\nMore to follow.", source="blog")
    wait_for(lambda: _processed(db, [copy, third]), timeout=30, what="the copies to be processed")
    assert _article(db, copy)["cluster_id"] == uuid.UUID(original)
    assert _article(db, copy)["dedup_method"] == "minhash"

    r = ingest.post(f"/v1/articles/{copy}/not-duplicate", json={"note": "different angle"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["moved"] is True and answer["method"] == "correction"
    assert answer["previous_cluster_id"] == original and answer["cluster_id"] != original
    moved = _article(db, copy)
    assert str(moved["cluster_id"]) == answer["cluster_id"]
    assert (moved["is_canonical"], moved["duplicate_of"], moved["dedup_method"]) == (True, None, "correction")
    with db.connect() as conn:
        sizes = dict(conn.execute(text("SELECT id::text, size FROM clusters")).all())
    assert sizes == {original: 2, answer["cluster_id"]: 1}
    assert_consistent(db)

    # Reprocess every article: the correction sticks, the rest stays as it was.
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET state = 'accepted'"))
    app: Celery = make_celery(get_settings(), "tidings-test")
    try:
        app.send_task(TaskName.PROCESS_BATCH, args=[[original, copy, third]])
    finally:
        app.close()
    wait_for(lambda: _processed(db, [original, copy, third]), timeout=30, what="the reprocessing")
    assert str(_article(db, copy)["cluster_id"]) == answer["cluster_id"]
    assert _article(db, third)["cluster_id"] == uuid.UUID(original)
    assert_consistent(db)

    again = ingest.post(f"/v1/articles/{copy}/not-duplicate")
    assert again.status_code == 200
    assert again.json()["moved"] is False and again.json()["cluster_id"] == answer["cluster_id"]
    assert again.json()["previous_cluster_id"] == original


def test_the_canonical_article_can_be_corrected_and_the_cluster_gets_a_new_canonical(
    ingest: httpx.Client, db: Engine
) -> None:
    title, body = story("school-budget")
    first = _post(ingest, title=title, body=body, published_at="2005-01-01T00:00:00Z")
    wait_for(lambda: _processed(db, [first]), timeout=30, what="the first article")
    second = _post(ingest, title=title, body=credited(body), published_at="2005-01-02T00:00:00Z")
    third = _post(ingest, title=title, body=body + "\n\nSource: Wire", published_at="2005-01-03T00:00:00Z")
    wait_for(lambda: _processed(db, [second, third]), timeout=30, what="the copies")
    assert ingest.post(f"/v1/articles/{first}/not-duplicate").status_code == 200
    assert _article(db, second)["is_canonical"] is True
    assert _article(db, third)["duplicate_of"] == uuid.UUID(second)
    assert_consistent(db)


def test_correction_errors_are_in_the_envelope(ingest: httpx.Client, db: Engine) -> None:
    missing = ingest.post(f"/v1/articles/{uuid.uuid4()}/not-duplicate")
    assert missing.status_code == 404
    assert missing.json()["error"]["details"][0]["field"] == "article_id"

    [pending] = insert_ingestions(db, [article_payload()])  # accepted, never queued
    early = ingest.post(f"/v1/articles/{pending}/not-duplicate")
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"

    bad = ingest.post(f"/v1/articles/{pending}/not-duplicate", json={"reason": "typo"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "reason"

    nul = ingest.post(f"/v1/articles/{pending}/not-duplicate", json={"note": "a\u0000b"})
    assert nul.status_code == 422 and nul.json()["error"]["details"][0]["field"] == "note"

    not_uuid = ingest.post("/v1/articles/abc/not-duplicate")
    assert not_uuid.status_code in (400, 422)
    assert "error" in not_uuid.json()


def test_beat_task_expires_the_index(ingest: httpx.Client, db: Engine) -> None:
    title, body = story("chip-plant")
    article = _post(ingest, title=title, body=body)
    wait_for(lambda: _processed(db, [article]), timeout=30, what="the article")
    with db.begin() as conn:
        # The LSH bands (fewer for a text whose passage fingerprints stand in for some) and the fingerprints.
        s = DedupSettings()
        bands = conn.scalar(text("SELECT count(*) FROM lsh_buckets WHERE band < :p"), {"p": s.passage_band})
        assert s.reuse_min_bands <= bands <= s.bands + s.lead_bands
        assert conn.scalar(text("SELECT count(*) FROM lsh_buckets WHERE band = :p"), {"p": s.passage_band}) > 0
        conn.execute(text("UPDATE lsh_buckets SET updated_at = now() - interval '31 days'"))
        conn.execute(text("UPDATE dedup_keys SET updated_at = now() - interval '31 days'"))
    app: Celery = make_celery(get_settings(), "tidings-test")
    try:
        app.send_task(TaskName.EXPIRE_DEDUP_INDEX)
    finally:
        app.close()

    def emptied() -> bool:
        with db.connect() as conn:
            return (
                conn.scalar(text("SELECT (SELECT count(*) FROM lsh_buckets) + (SELECT count(*) FROM dedup_keys)")) == 0
            )

    wait_for(emptied, timeout=30, what="the expiry task to empty the index")
    assert _article(db, article)["cluster_id"] == uuid.UUID(article), "expiry forgets keys, never decisions"
