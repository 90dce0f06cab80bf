"""``make run`` as an operator meets it: every process exports its metrics, and a SIGKILL to any one process
(as the OOM killer sends) leaves the platform serving and every accepted article processed.

The platform is ``python -m devtools.run`` itself, on free ports, against the session's test database and
Redis database, so the supervisor under test is the one a newcomer runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine, text

from devtools import infra as infra_mod
from tests.conftest import TEST_REDIS_DB, _redis_db_url, create_test_api_key
from tests.conftest import TestInfra as Infra
from tests.fixtures import newsgen
from tests.support import ROOT, free_port, wait_for


@dataclass
class Run:
    proc: subprocess.Popen
    data: Path
    log: Path
    ingest: str
    query: str
    worker_metrics: str
    beat_metrics: str
    key: str
    db: Engine

    def status(self) -> dict[str, dict]:
        try:
            body = json.loads((self.data / "run-status.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {p["name"]: p for p in body["processes"]}

    def all_running(self) -> bool:
        status = self.status()
        return len(status) == 4 and all(p["state"] == "running" and p["pid"] for p in status.values())

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def run(test_infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data = Path(tmp_path_factory.mktemp("supervised"))
    log = data / "make-run.log"
    ingest_port, query_port, worker_port, beat_port = (free_port() for _ in range(4))
    # A database and a Redis database of its own: the session's test worker must not take this platform's tasks.
    db_name = f"tidings_ops_{os.getpid()}"
    database_url = infra_mod.ensure_database(test_infra.infra, db_name, fresh=True)
    redis_url = _redis_db_url(test_infra.infra.redis_url, (TEST_REDIS_DB + 1) % 16)
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        **test_infra.env,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TIDINGS_METRICS_COLLECT_INTERVAL_S": "0.5",  # dependency and queue gauges within the test's patience
        "PYTHONUNBUFFERED": "1",
    }
    argv = [
        sys.executable, "-m", "devtools.run", "--data-dir", str(data), "--workers", "2",
        "--ingest-port", str(ingest_port), "--query-port", str(query_port),
        "--worker-metrics-port", str(worker_port), "--beat-metrics-port", str(beat_port),
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    r = Run(
        proc=proc,
        data=data,
        log=log,
        ingest=f"http://127.0.0.1:{ingest_port}",
        query=f"http://127.0.0.1:{query_port}",
        worker_metrics=f"http://127.0.0.1:{worker_port}/metrics",
        beat_metrics=f"http://127.0.0.1:{beat_port}/metrics",
        key="",
        db=create_engine(database_url),
    )
    try:
        wait_for(lambda: proc.poll() is not None or "Tidings is running" in r.output(), timeout=240, what="make run")
        assert proc.poll() is None, r.output()[-3000:]
        r.key = create_test_api_key(database_url, name="supervised run")
        yield r
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the one way to stop it
        try:
            proc.wait(60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            r.db.dispose()
            infra_mod.drop_database(test_infra.infra, db_name)


class Producer(threading.Thread):
    """Sends distinct articles one after another, recording which were accepted (2xx) and how many were not.
    It keeps at most ``MAX_BACKLOG`` unprocessed: the test is about kills, not about this machine's speed."""

    MAX_BACKLOG = 20

    def __init__(self, url: str, key: str, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.engine = url, key, engine
        self.accepted: list[uuid.UUID] = []
        self.refused = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        number = 0
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=10) as client:
            while not self.stopping.is_set():
                if len(self.accepted) - _processed(self.engine, list(self.accepted)) > self.MAX_BACKLOG:
                    self.stopping.wait(0.2)
                    continue
                a = newsgen.article(("business", "politics", "sport", "technology", "culture")[number % 5], number)
                number += 1
                try:
                    r = client.post("/v1/articles", json={"title": a.title, "body": a.body, "source": "supervised"})
                except httpx.HTTPError:
                    r = None  # ingest is down for a moment: nothing was acknowledged
                if r is not None and r.status_code == 202:
                    self.accepted.append(uuid.UUID(r.json()["id"]))
                else:
                    self.refused += 1
                self.stopping.wait(0.05)


def _processed(engine: Engine, ids: list[uuid.UUID]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM ingestions WHERE id = ANY(:ids) AND state = 'processed'"), {"ids": ids}
            ).scalar_one()
        )


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def _has(samples: dict, name: str, **labels: str) -> bool:
    return any(n == name and set(labels.items()) <= set(ls) for (n, ls) in samples)


def _worker_children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def test_every_process_exports_its_metrics(run: Run) -> None:
    db = run.db
    headers = {"Authorization": f"Bearer {run.key}"}
    ids = []
    for a in newsgen.articles(6, seed=7):
        r = httpx.post(
            f"{run.ingest}/v1/articles", json={"title": a.title, "body": a.body}, headers=headers, timeout=30
        )
        assert r.status_code == 202, r.text
        ids.append(uuid.UUID(r.json()["id"]))
    refused = httpx.post(f"{run.ingest}/v1/articles", json={"title": "no body"}, headers=headers, timeout=30)
    assert refused.status_code == 422
    wait_for(lambda: _processed(db, ids) == len(ids), timeout=120, what="the articles to be processed")
    assert httpx.get(f"{run.query}/v1/articles", headers=headers, timeout=30).status_code == 200

    ingest = _scrape(f"{run.ingest}/metrics/")
    assert _value(ingest, "tidings_articles_accepted_total", channel="api") >= len(ids)
    assert _value(ingest, "tidings_articles_rejected_total") >= 1
    assert _value(ingest, "tidings_http_requests_total", service="ingest", route="/v1/articles", status="202") >= 6
    assert _value(ingest, "tidings_http_request_seconds_count", service="ingest", route="/v1/articles") >= 7

    query = _scrape(f"{run.query}/metrics/")
    assert _value(query, "tidings_http_requests_total", service="query", route="/v1/articles", status="200") >= 1

    # The worker's pool children did the work; the main process's exporter sums their files. A child counts
    # a batch after its commit, so the rows can read processed a moment before the counter moves.
    wait_for(
        lambda: (
            _value(_scrape(run.worker_metrics), "tidings_articles_processed_total", outcome="processed") >= len(ids)
        ),
        timeout=60,
        what="the worker's processed counter to move",
    )
    worker = _scrape(run.worker_metrics)
    assert _value(worker, "tidings_stage_seconds_count") > 0
    assert _value(worker, "tidings_dedup_decisions_total") >= len(ids)
    assert _value(worker, "tidings_tags_written_total") > 0

    beat = _scrape(run.beat_metrics)
    assert _has(beat, "tidings_queue_depth", queue="pipeline")
    assert _has(beat, "tidings_queue_oldest_task_age_seconds", queue="pipeline")

    for name, url in (("ingest", f"{run.ingest}/metrics/"), ("query", f"{run.query}/metrics/")):
        wait_for(
            lambda url=url: _value(_scrape(url), "tidings_dependency_up", dependency="postgres") == 1,
            timeout=30,
            what=f"{name} to report PostgreSQL up",
        )
    for name, url in (("worker", run.worker_metrics), ("beat", run.beat_metrics)):
        wait_for(
            lambda url=url: _value(_scrape(url), "tidings_dependency_up", dependency="broker") == 1,
            timeout=30,
            what=f"{name} to report the broker up",
        )


def test_the_worker_yields_the_cores_to_the_apis(run: Run) -> None:
    from devtools.processes import WORKER_NICE

    wait_for(run.all_running, timeout=120, what="every process running")
    status = run.status()
    worker = status["worker"]["pid"]
    # The pool children inherit the main process's priority: the articles' processing waits, requests do not.
    children = wait_for(lambda: _worker_children(worker), timeout=120, what="the worker's pool children")
    for pid in (worker, *children):
        assert os.getpriority(os.PRIO_PROCESS, pid) == WORKER_NICE
    for name in ("ingest", "query"):
        assert os.getpriority(os.PRIO_PROCESS, status[name]["pid"]) == os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.timeout(900)
def test_sigkill_to_any_process_leaves_the_platform_serving_and_every_article_processed(run: Run) -> None:
    db = run.db
    wait_for(run.all_running, timeout=120, what="every process running")
    producer = Producer(run.ingest, run.key, db)
    producer.start()
    try:
        wait_for(lambda: _processed(db, list(producer.accepted)) >= 5, timeout=120, what="articles flowing")
        for victim in ("worker child", "worker", "beat", "ingest", "query"):
            status = run.status()
            if victim == "worker child":
                main = status["worker"]["pid"]
                children = wait_for(lambda main=main: _worker_children(main), what="pool children")
                os.kill(children[0], signal.SIGKILL)
                # The pool replaces its child; the supervisor has nothing to do.
                wait_for(
                    lambda main=main, children=children: set(_worker_children(main)) - set(children),
                    timeout=60,
                    what="a new pool child",
                )
            else:
                before = status[victim]
                os.kill(before["pid"], signal.SIGKILL)
                wait_for(
                    lambda before=before, victim=victim: (
                        run.status()[victim]["restarts"] > before["restarts"] and run.all_running()
                    ),
                    timeout=180,
                    what=f"{victim} to be restarted",
                )
            assert run.proc.poll() is None, run.output()[-3000:]
            sent = len(producer.accepted)
            wait_for(lambda sent=sent: len(producer.accepted) >= sent + 3, timeout=60, what="ingest accepting again")
            assert httpx.get(f"{run.query}/v1/articles", headers={"Authorization": f"Bearer {run.key}"}).is_success
            processed = _processed(db, list(producer.accepted))
            wait_for(
                lambda processed=processed: _processed(db, list(producer.accepted)) > processed,
                timeout=120,
                what=f"articles processed after the {victim} was killed",
            )
    finally:
        producer.stopping.set()
        producer.join(30)

    accepted = list(producer.accepted)
    wait_for(
        lambda: _processed(db, accepted) == len(accepted),
        timeout=240,
        interval=0.5,
        what=f"all {len(accepted)} accepted articles to be processed",
    )
    output = run.output()
    for name in ("worker", "beat", "ingest", "query"):
        assert f"{name} exited with -9; restarting" in output
    assert run.proc.poll() is None
