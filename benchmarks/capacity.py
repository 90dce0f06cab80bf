"""Capacity per core: how many articles one ingest process accepts, and one worker process carries through the
whole pipeline (normalise, dedup, tag, store), per second. The figures behind docs/operations.md's sizing.

Reuters-21578 stories (``benchmarks/data.py``) go to the batch endpoint of one uvicorn process, 100 per request,
from one client, with no worker running: that is the accept rate. Then one Celery worker process with one pool
child (``-c 1``: one core) is started and the time until every ingestion is ``processed`` gives the processing
rate, models loaded beforehand. PostgreSQL and Redis are the local ones (or the embedded ones of ``make run``);
``TIDINGS_BROKER_URL`` is passed on, so the same run measures RabbitMQ as the broker
(``results/capacity-rabbitmq.json``; Redis: ``results/capacity.json``).
``TIDINGS_BENCH_CAPACITY_ARTICLES`` sets the count (default 2,000). Besides wall-clock rates the report gives
articles per CPU second of the measured processes, which holds on a machine whose cores are shared.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from benchmarks.data import require
from devtools import infra as infra_mod
from devtools.processes import Platform, alembic_upgrade, uvicorn_argv, worker_argv
from services.cli.reuters import read_reuters
from shared.tasks import QueueName

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BATCH = 100


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _articles(n: int) -> list[dict[str, Any]]:
    files = sorted((require("bench-capacity", "reuters21578") / "reuters21578").glob("reut2-*.sgm"))
    out: list[dict[str, Any]] = []
    for path in files:
        out.extend(read_reuters(path))
        if len(out) >= n:
            break
    return out[:n]


def _states(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM ingestions GROUP BY state").fetchall())


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children so far: the share of a core it really got."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in (root, *root.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _api_key(
    url: str, *, name: str = "bench-capacity", scopes: tuple[str, ...] = ("admin",), sources: list[str] | None = None
) -> str:
    """A key rate limited far above any benchmark's load (so the limiter's round trip is still measured)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from shared.api.keys import create_api_key

    engine = create_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return create_api_key(session, name=name, scopes=scopes, rate_limit_per_minute=10**9, sources=sources).key
    finally:
        engine.dispose()


def main() -> int:
    n = int(os.environ.get("TIDINGS_BENCH_CAPACITY_ARTICLES", "2000"))
    articles = _articles(n)  # before creating anything: exits 2 without the corpus
    infra = infra_mod.resolve(ROOT / ".data" / "bench")
    db_name = "tidings_bench_capacity"
    log_dir = ROOT / ".data" / "bench" / "capacity"
    log_dir.mkdir(parents=True, exist_ok=True)
    plat = Platform()
    try:
        url = infra_mod.ensure_database(infra, db_name, fresh=True)
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": infra.redis_url,
            "TIDINGS_ENV": "development",
            "TIDINGS_LOG_LEVEL": "WARNING",
        }
        if os.environ.get("TIDINGS_BROKER_URL"):
            env["TIDINGS_BROKER_URL"] = os.environ["TIDINGS_BROKER_URL"]
        alembic_upgrade(env, ROOT)
        headers = {"Authorization": f"Bearer {_api_key(url)}"}
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        ingest = plat.start("ingest", uvicorn_argv("services.ingest.main:app", "127.0.0.1", port), env, ROOT, url=base,
                   log=log_dir / "ingest.log")  # fmt: skip
        plat.wait_healthy(120)

        load_before = os.getloadavg()
        with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
            started, ingest_cpu = time.perf_counter(), _cpu_s(ingest.proc.pid)
            for start in range(0, len(articles), BATCH):
                answer = client.post("/v1/articles/batch", json={"articles": articles[start : start + BATCH]})
                answer.raise_for_status()
            accept_s = time.perf_counter() - started
            ingest_cpu = _cpu_s(ingest.proc.pid) - ingest_cpu
        accepted = sum(_states(_libpq(url)).values())

        worker = plat.start("worker", [*worker_argv(1, hostname="bench-capacity@%h", queues=(QueueName.PIPELINE,))], env,
                   ROOT, log=log_dir / "worker.log")  # fmt: skip
        # The clock starts at the first processed article, so the model loading of the worker is not counted.
        deadline = time.monotonic() + 1800
        while not _states(_libpq(url)).get("processed") and time.monotonic() < deadline:
            time.sleep(0.2)
        first, worker_cpu = time.perf_counter(), _cpu_s(worker.proc.pid)
        first_done = _states(_libpq(url)).get("processed", 0)
        while time.monotonic() < deadline:
            states = _states(_libpq(url))
            if states.get("accepted", 0) + states.get("processing", 0) == 0:
                break
            time.sleep(0.5)
        process_s = time.perf_counter() - first
        worker_cpu = _cpu_s(worker.proc.pid) - worker_cpu
        states = _states(_libpq(url))
        load_after = os.getloadavg()
    finally:
        plat.stop()
        infra.stop()

    done = states.get("processed", 0) - first_done
    report = {
        "command": "make bench-capacity",
        "data": f"Reuters-21578, the first {len(articles)} documents in file order",
        "broker": "rabbitmq" if "TIDINGS_BROKER_URL" in env else "redis",
        "accept": {
            "processes": "1 uvicorn process, 1 client, batches of 100, no worker running",
            "articles": accepted,
            "seconds": round(accept_s, 2),
            "articles_per_s": round(accepted / accept_s, 1),
            "cpu_s": round(ingest_cpu, 2),
            "articles_per_cpu_s": round(accepted / ingest_cpu, 1) if ingest_cpu > 0 else None,
        },
        "process": {
            "processes": "1 Celery worker, 1 pool child (-c 1), pipeline queue only",
            "articles_timed": done,
            "seconds": round(process_s, 2),
            "articles_per_s": round(done / process_s, 1) if process_s > 0 else None,
            "cpu_s": round(worker_cpu, 2),
            "articles_per_cpu_s": round(done / worker_cpu, 1) if worker_cpu > 0 else None,
            "final_states": states,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "note": "2-core machine shared with other engineers' test runs; PostgreSQL and Redis on the same cores. "
            "articles_per_cpu_s counts the CPU time the measured processes got (not PostgreSQL's): the rate of "
            "one core of their own.",
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "capacity.json" if report["broker"] == "redis" else "capacity-rabbitmq.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
