"""Two worker processes fed 200 near-identical articles at once end with exactly one cluster.

Without the index's row locks each worker would look up the index before the other's batch is committed,
find nothing, and found a cluster of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from celery import Celery
from sqlalchemy import Engine, text

from devtools.processes import Platform, worker_argv
from shared.config import get_settings
from shared.tasks import QueueName, make_celery
from tests import conftest
from tests.services.worker.dedup_support import assert_consistent, paragraphs, story
from tests.support import ROOT, wait_for

pytestmark = pytest.mark.e2e

COPIES = 200
PER_REQUEST = 10  # one task per request: 20 tasks for the two workers to race on


@pytest.fixture
def control() -> Iterator[Celery]:
    app = make_celery(get_settings(), "tidings-test-race")
    yield app
    app.close()


@pytest.fixture
def two_workers(platform: dict[str, str], test_infra: conftest.TestInfra, control: Celery) -> Iterator[list[str]]:
    """Two extra single-process workers become the only consumers of the pipeline queue."""
    names = [f"race-{tag}-{uuid.uuid4().hex[:6]}@localhost" for tag in ("a", "b")]
    plat = Platform()
    paused: list[str] = []
    try:
        for name in names:
            argv = worker_argv(1, hostname=name, queues=(QueueName.PIPELINE,))
            plat.start(name, argv, test_infra.env, ROOT, log=conftest.LOG_DIR / f"{name.split('@')[0]}.log")

        def both_up() -> list[str] | None:
            replies = control.control.ping(timeout=0.5) or []
            up = {n for reply in replies for n in reply}
            return sorted(up) if set(names) <= up else None

        everyone = wait_for(both_up, timeout=60, what="the two race workers to answer a ping")
        paused = [n for n in everyone if n not in names]
        if paused:
            control.control.cancel_consumer(QueueName.PIPELINE, destination=paused, reply=True)
        yield names
    finally:
        if paused:
            control.control.add_consumer(QueueName.PIPELINE, destination=paused, reply=True)
        plat.stop()


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
