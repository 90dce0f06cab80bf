"""Two worker processes fed 200 near-identical articles at once end with exactly one cluster.

Without the index's row locks each worker would look up the index before the other's batch is committed,
find nothing, and found a cluster of its own.
"""

from __future__ import annotations

import httpx
import pytest
from celery import Celery
from sqlalchemy import Engine, text

from tests.services.worker.dedup_support import assert_consistent, paragraphs, story
from tests.support import wait_for

pytestmark = pytest.mark.e2e

COPIES = 200
PER_REQUEST = 10  # one task per request: 20 tasks for the two workers to race on


def _near_identical(n: int) -> dict:
    title, body = story("harbour-strike")
    paras = paragraphs(body)
    # Each copy differs a little: its own dateline, one inserted sentence, sometimes a missing paragraph.
    paras.insert(n % len(paras), f"Update {n}: figures revised by the desk at {n % 24:02d}:00.")
    if n % 3 == 0:
        paras.pop()
    return {"title": f"{title} ({n})", "body": f"NEWS DESK {n} - " + "\n\n".join(paras), "source": f"outlet-{n % 7}"}


def test_two_workers_racing_on_near_identical_articles_make_one_cluster(
    ingest: httpx.Client, db: Engine, two_workers: list[str], control: Celery
) -> None:
    ids: list[str] = []
    for start in range(0, COPIES, PER_REQUEST):
        batch = {"articles": [_near_identical(n) for n in range(start, start + PER_REQUEST)]}
        r = ingest.post("/v1/articles/batch", json=batch)
        assert r.status_code == 202, r.text
        ids += [item["id"] for item in r.json()["accepted"]]
    assert len(set(ids)) == COPIES

    def all_processed() -> bool:
        with db.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM ingestions WHERE state = 'processed'")) == COPIES

    wait_for(all_processed, timeout=240, interval=0.5, what="the 200 copies to be processed")

    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(DISTINCT cluster_id) FROM articles")) == 1
        assert conn.execute(text("SELECT size FROM clusters")).scalars().all() == [COPIES]
        assert conn.scalar(text("SELECT count(*) FROM articles WHERE is_canonical")) == 1
        methods = set(conn.execute(text("SELECT DISTINCT dedup_method FROM articles")).scalars())
    assert methods <= {"unique", "minhash", "containment", "minhash+title", "exact_hash"}
    assert_consistent(db)

    stats = control.control.inspect(destination=two_workers, timeout=2).stats() or {}
    done = {name: sum((stats.get(name) or {}).get("total", {}).values()) for name in two_workers}
    assert all(n > 0 for n in done.values()), f"both workers must have processed batches: {done}"
