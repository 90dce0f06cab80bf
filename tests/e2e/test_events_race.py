"""Two worker processes fed forty different reports of one wildfire at once end with exactly one event.

Each report is a different story (its own copy cluster or a few copies), so only the event index brings
them together. Without its row locks, two workers would each look up the index before the other's batch
committed, find nothing, and found an event of their own.
"""

from __future__ import annotations

import httpx
import pytest
from celery import Celery
from sqlalchemy import Engine, text

from tests.fixtures.events.wildfire import report
from tests.support import wait_for

pytestmark = pytest.mark.e2e

REPORTS = 40


def test_two_workers_racing_on_one_event_make_one_event(
    ingest: httpx.Client,
    db: Engine,
    two_workers: list[str],
    control: Celery,
) -> None:
    ids: list[str] = []
    for n in range(0, REPORTS, 2):
        # Two reports per request: twenty tasks for the two workers to race on.
        r = ingest.post("/v1/articles/batch", json={"articles": [report(n), report(n + 1)]})
        assert r.status_code == 202, r.text
        ids += [item["id"] for item in r.json()["accepted"]]
    assert len(set(ids)) == REPORTS

    def all_processed() -> bool:
        with db.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM ingestions WHERE state = 'processed'")) == REPORTS

    wait_for(all_processed, timeout=240, interval=0.5, what="the forty reports to be processed")

    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(DISTINCT event_id) FROM articles")) == 1
        assert conn.scalar(text("SELECT count(*) FROM articles WHERE event_id IS NULL")) == 0
        size, clusters, sources = conn.execute(
            text("SELECT size, cluster_count, source_count FROM events WHERE size > 0")
        ).one()
        founded = conn.scalar(text("SELECT count(*) FROM event_decisions WHERE rule = 'founded'"))
    assert (size, sources) == (REPORTS, REPORTS)
    assert clusters >= REPORTS // 4, "the reports must be mostly different stories, not copies of one"
    assert founded == 1

    stats = control.control.inspect(destination=two_workers, timeout=2).stats() or {}
    done = {name: sum((stats.get(name) or {}).get("total", {}).values()) for name in two_workers}
    assert all(n > 0 for n in done.values()), f"both workers must have processed batches: {done}"
