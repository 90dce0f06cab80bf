"""Query benchmark (``make bench-query``): the query service beside PostgreSQL running the same statements.

Steps: find PostgreSQL as ``make run`` does; create (or reuse) the benchmark database; load it with COPY when
its row count or loader version differ (``benchmarks/query_load.py``; about 12 minutes on 2 cores for 1M
articles, then cached); start the query service under uvicorn, one worker process per core. Then each round:
draw fresh requests (``benchmarks/query_mix.py``: written vocabularies, random filters, each request once);
record the SQL the service runs for each (``benchmarks/query_capture.py``, which also warms PostgreSQL's
cache for both sides alike); send them to the service and replay the recorded statements directly with
psycopg, at 8 clients and at 1 client, the two sides in alternating order. The ratio is service requests/s
over direct requests/s, the median of the rounds with its range; latency percentiles are per kind, at 1 and
at 8 clients. Written to ``benchmarks/results/query.json``, with the plans of the slowest request.

Settings (environment): ``TIDINGS_BENCH_QUERY_ARTICLES`` (1,000,000), ``TIDINGS_BENCH_QUERY_DB``
(``tidings_bench_query``), ``TIDINGS_BENCH_QUERY_CLIENTS`` (8), ``TIDINGS_BENCH_QUERY_ROUNDS`` (5),
``TIDINGS_BENCH_QUERY_SIZE`` (requests per round, 140), ``--load-only`` to load and stop.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import math
import os
import pickle
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg

from benchmarks import query_capture, query_load
from benchmarks.data import require
from benchmarks.query_mix import Request, build_round
from devtools import infra as infra_mod
from devtools.processes import Platform, alembic_upgrade, uvicorn_argv
from services.query.settings import get_query_settings, session_statements

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "query.json"
LOADER_VERSION = "2"  # 2: tag rows carry their article's date and canonical flag
OWN_MIGRATION = ROOT / "shared" / "db" / "migrations" / "versions" / "0004_query.py"
PROCESSES = os.cpu_count() or 1


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _meta(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        return {k: v for k, v in conn.execute("SELECT key, value FROM bench_meta")}


def _set_meta(dsn: str, **values: Any) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for key, value in values.items():
            conn.execute(
                "INSERT INTO bench_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )


def _article_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM articles").fetchone()
        return int(row[0]) if row else 0


def prepare_database(url: str, n_articles: int) -> dict[str, Any]:
    """Migrate, then load unless the database already holds this loader's ``n_articles`` rows."""
    env = {"DATABASE_URL": url}
    dsn = _libpq(url)
    meta = _meta(dsn)
    alembic_upgrade(env, ROOT)
    if meta.get("query_migration") not in (None, _fingerprint(OWN_MIGRATION)):
        # The query migration's indexes changed: rebuild them on the loaded rows instead of reloading.
        print("the query migration changed: re-applying it on the loaded rows")
        _reapply_own_migration(url)
    _set_meta(dsn, query_migration=_fingerprint(OWN_MIGRATION))
    loaded = meta.get("articles") == n_articles and meta.get("loader") == LOADER_VERSION
    if loaded and _article_count(dsn) == n_articles:
        print(f"reusing the benchmark database: {n_articles:,} articles already loaded")
        # As autovacuum would have, after a migration that wrote to the loaded rows (the server may run without).
        settled = query_load.settle(dsn)
        return {"reused": True, **meta.get("load_timings", {}), "settled": settled}
    print(f"loading {n_articles:,} articles (this takes a while)")
    _set_meta(dsn, articles=0)
    timings = query_load.load(dsn, n_articles)
    _set_meta(dsn, articles=n_articles, loader=LOADER_VERSION, load_timings=timings)
    return {"reused": False, **timings, "settled": query_load.settle(dsn)}


def _reapply_own_migration(url: str) -> None:
    """Run 0004's downgrade then upgrade in place (both idempotent), leaving the other revisions alone."""
    import importlib.util

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import create_engine

    spec = importlib.util.spec_from_file_location("query_migration", OWN_MIGRATION)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET statement_timeout = 0")
            conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
            with Operations.context(MigrationContext.configure(conn)):
                migration.downgrade()
                migration.upgrade()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) articles")
            conn.exec_driver_sql("ANALYZE article_tags")
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TARGETS = {"search_and_filters": 50.0, "facets": 100.0, "timeseries": 100.0}  # p95 at 1 client, ms
RATIO_TARGET = 0.8
GROUPS = {"search": "search_and_filters", "filters": "search_and_filters", "facets": "facets",
          "timeseries": "timeseries"}  # fmt: skip


def _service(url: str, redis_url: str) -> tuple[Platform, str]:
    """The query service under uvicorn, one worker process per core, as ``make run`` starts it."""
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "TIDINGS_ENV": "development",
        "TIDINGS_AUTH_OPEN_QUERY": "true",  # no key look-up and no per-key rate limit in the measurement
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    plat = Platform()
    argv = [*uvicorn_argv("services.query.main:app", "127.0.0.1", port), "--workers", str(PROCESSES)]
    log = ROOT / ".data" / "bench" / "query-service.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    plat.start("query", argv, env, ROOT, url=f"http://127.0.0.1:{port}", log=log)
    plat.wait_healthy(120)
    return plat, f"http://127.0.0.1:{port}"


class Capture:
    """The capture process (``benchmarks/query_capture.py``), started once and asked for each round's SQL."""

    def __init__(self, url: str, redis_url: str) -> None:
        self.work = ROOT / ".data" / "bench"
        self.work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "TIDINGS_ENV": "development",
               "TIDINGS_AUTH_OPEN_QUERY": "true", "TIDINGS_LOG_LEVEL": "WARNING"}  # fmt: skip
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.query_capture"], env=env, cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip

    def __call__(self, requests: list[Request]) -> list[tuple[int, list[tuple[str, Any]]]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        src, dst = self.work / "capture-in.pickle", self.work / "capture-out.pickle"
        src.write_bytes(pickle.dumps(requests))
        self.proc.stdin.write(f"{src} {dst}\n")
        self.proc.stdin.flush()
        while (line := self.proc.stdout.readline()) and line.strip() != query_capture.READY:
            pass  # anything the app logged
        if not line:
            raise SystemExit(f"the capture process ended (exit status {self.proc.wait()})")
        captured: list[tuple[int, list[tuple[str, Any]]]] = pickle.loads(dst.read_bytes())
        return captured

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(60)


def _timed(items: list[Any], clients: int, open_conn: Any, send: Any) -> tuple[list[float], float]:
    """Each item sent once, by ``clients`` threads sharing the list, each over its own connection; the
    latency of each (ms) in the items' order, and the wall time (s)."""
    latencies = [0.0] * len(items)
    lock = threading.Lock()
    position = iter(range(len(items)))

    def client_loop() -> None:
        conn = open_conn()
        try:
            while True:
                with lock:
                    i = next(position, None)
                if i is None:
                    return
                started = time.perf_counter()
                send(conn, items[i])
                latencies[i] = (time.perf_counter() - started) * 1000
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def _run_service(base: str, requests: list[Request], clients: int) -> tuple[list[float], float, Counter[int]]:
    """Keep-alive clients on the standard library's ``http.client``: they share the cores with the service, and
    httpx would spend a millisecond of CPU per request the service would otherwise have."""
    host, port = urlsplit(base).hostname or "127.0.0.1", urlsplit(base).port or 80
    statuses: Counter[int] = Counter()

    def send(conn: http.client.HTTPConnection, req: Request) -> None:
        conn.request("GET", f"{req.path}?{urlencode(req.as_params())}")
        response = conn.getresponse()
        response.read()
        statuses[response.status] += 1

    latencies, wall = _timed(requests, clients, lambda: http.client.HTTPConnection(host, port, timeout=120), send)
    return latencies, wall, statuses


def _run_direct(dsn: str, statements: list[list[tuple[str, Any]]], clients: int) -> tuple[list[float], float]:
    """The recorded statements of each request, run in order on one psycopg connection per client, under the
    service's session settings, every row fetched (as the service fetches them)."""
    settings = get_query_settings()

    def open_conn() -> psycopg.Connection[Any]:
        conn = psycopg.connect(dsn, autocommit=True)
        for statement in session_statements(settings):
            conn.execute(statement)
        return conn

    def send(conn: psycopg.Connection[Any], request_statements: list[tuple[str, Any]]) -> None:
        with conn.cursor() as cur:
            for sql, params in request_statements:
                cur.execute(sql, params)
                if cur.description is not None:
                    cur.fetchall()

    return _timed(statements, clients, open_conn, send)


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))], 1)

    return {"count": len(ordered), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(ordered), 1), "max_ms": round(ordered[-1], 1)}  # fmt: skip


def _by_group(requests: list[Request], latencies: list[list[float]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = {}
    for req, ms in zip(requests, latencies, strict=True):
        for value in ms:
            groups.setdefault(GROUPS[req.kind], []).append(value)
            groups.setdefault(req.kind, []).append(value)
    return {name: _percentiles(values) for name, values in sorted(groups.items())}


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "rounds": len(values)}  # fmt: skip


def measure(url: str, redis_url: str, *, clients: int, rounds: int, size: int) -> dict[str, Any]:
    dsn = _libpq(url)
    capture = Capture(url, redis_url)  # imports the app while the service starts
    plat, base = _service(url, redis_url)
    per_clients: dict[int, dict[str, Any]] = {
        n: {"ratios": [], "service_rps": [], "direct_rps": [], "service_ms": [], "direct_ms": []} for n in (clients, 1)
    }
    all_requests: list[Request] = []
    statuses: Counter[int] = Counter()
    statements_per_request: list[int] = []
    try:
        for round_no in range(rounds):
            requests = build_round(1000 + round_no, size=size)
            captured = capture(requests)
            statements = [stmts for _, stmts in captured]
            statements_per_request += [len(s) for s in statements]
            all_requests += requests
            for n in (clients, 1):
                runs = {}
                order = ("service", "direct") if round_no % 2 == 0 else ("direct", "service")
                for side in order:
                    if side == "service":
                        ms, wall, codes = _run_service(base, requests, n)
                        statuses += codes
                    else:
                        ms, wall = _run_direct(dsn, statements, n)
                    runs[side] = (ms, wall)
                acc = per_clients[n]
                acc["service_ms"].append(runs["service"][0])
                acc["direct_ms"].append(runs["direct"][0])
                acc["service_rps"].append(len(requests) / runs["service"][1])
                acc["direct_rps"].append(len(requests) / runs["direct"][1])
                acc["ratios"].append(acc["service_rps"][-1] / acc["direct_rps"][-1])
                print(f"round {round_no + 1}/{rounds}, {n} client(s): service {acc['service_rps'][-1]:.1f} req/s, "
                      f"direct {acc['direct_rps'][-1]:.1f} req/s, ratio {acc['ratios'][-1]:.2f}", flush=True)  # fmt: skip
    finally:
        capture.close()
        plat.stop()
    out: dict[str, Any] = {"statuses": dict(statuses), "requests_per_round": size,
                           "statements_per_request": _percentiles([float(x) for x in statements_per_request]),
                           "mix": dict(Counter(r.kind for r in all_requests))}  # fmt: skip
    for n, acc in per_clients.items():
        flat_service = [ms for round_ms in acc["service_ms"] for ms in round_ms]
        flat_direct = [ms for round_ms in acc["direct_ms"] for ms in round_ms]
        out[f"clients_{n}"] = {
            "ratio": _spread(acc["ratios"]),
            "service_rps": _spread(acc["service_rps"]),
            "direct_rps": _spread(acc["direct_rps"]),
            "service": _by_group(all_requests, [[v] for v in flat_service]),
            "direct": _by_group(all_requests, [[v] for v in flat_direct]),
        }
    single = [ms for round_ms in per_clients[1]["service_ms"] for ms in round_ms]
    slowest = max(range(len(all_requests)), key=single.__getitem__)
    out["slowest_single_client"] = {"request": all_requests[slowest].as_params(), "path": all_requests[slowest].path,
                                    "kind": all_requests[slowest].kind}  # fmt: skip
    out["slowest_single_client"]["statements"] = explain(url, all_requests[slowest])
    return out


def explain(url: str, req: Request) -> list[dict[str, Any]]:
    """Run the request's service code on the benchmark database with every statement it issues preceded by
    its EXPLAIN (ANALYZE, BUFFERS), under the service's session settings."""
    return asyncio.run(_explain(url, req))


async def _explain(url: str, req: Request) -> list[dict[str, Any]]:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from services.query.facets import DEFAULT_FACETS, facet_counts
    from services.query.params import search_filters
    from services.query.search import resolve_sort, search_page
    from services.query.settings import session_statements
    from services.query.timeseries import time_series

    settings = get_query_settings()
    plans: list[dict[str, Any]] = []
    engine = create_async_engine(url)

    class Explaining:
        """Stands in for the request's session: explains, then runs, each statement."""

        def __init__(self, session: AsyncSession) -> None:
            self.session = session

        async def execute(self, stmt: Any, *args: Any, **kwargs: Any) -> Any:
            conn = await self.session.connection()
            compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            raw = (await conn.get_raw_connection()).driver_connection
            started = time.perf_counter()
            cur = await raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params)
            plan = [r[0] for r in await cur.fetchall()]
            plans.append({"sql": str(compiled), "explain_ms": round((time.perf_counter() - started) * 1000, 1),
                          "plan": plan})  # fmt: skip
            return await self.session.execute(stmt, *args, **kwargs)

        async def scalar(self, stmt: Any) -> Any:
            return (await self.execute(stmt)).scalar()

    multi = ("source", "language", "tag", "entity", "place", "topic")
    raw_params: dict[str, Any] = {}
    for key, value in req.params:
        if key in multi:
            raw_params.setdefault(key, []).append(value)
        else:
            raw_params[key] = value
    names = {"from": "date_from", "to": "date_to"}
    filters = search_filters(
        **{
            names.get(k, k): (datetime.fromisoformat(v) if k in ("from", "to") else v)
            for k, v in raw_params.items()
            if k in (*multi, "q", "from", "to", "cluster", "include_duplicates")
        }
    )
    try:
        async with AsyncSession(engine) as session:
            conn = await session.connection()
            for statement in session_statements(settings):
                await conn.exec_driver_sql(statement)
            s: Any = Explaining(session)
            if req.kind == "facets":
                await facet_counts(
                    s, filters, facets=DEFAULT_FACETS, size=10, sample_size=settings.facet_sample_size,
                    budget=settings.facet_scan_budget,
                )  # fmt: skip
            elif req.kind == "timeseries":
                await time_series(
                    s, filters, interval=raw_params["interval"], tz=raw_params["tz"],
                    max_buckets=settings.max_timeseries_buckets,
                )  # fmt: skip
            else:
                await search_page(
                    s, filters, resolve_sort(raw_params.get("sort"), filters), cursor=raw_params.get("cursor"),
                    limit=int(raw_params.get("limit", 20)), snippet_max_chars=settings.snippet_max_chars,
                    relevance_window=settings.relevance_window, scan_budget=settings.scan_budget,
                )  # fmt: skip
    finally:
        await engine.dispose()
    return plans


def _server_facts(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        facts = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("server_version", "shared_buffers", "effective_cache_size", "max_parallel_workers_per_gather")
        }
        facts["articles_size"] = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('articles'))").fetchone()[0]  # type: ignore[index]
        facts["article_tags_rows"] = conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'article_tags'"
        ).fetchone()[0]  # type: ignore[index]
    return facts


def _summary(m: dict[str, Any], load_avg: list[float]) -> list[dict[str, Any]]:
    clients = next(k for k in m if k.startswith("clients_") and k != "clients_1")
    ratio = m[clients]["ratio"]
    split = "fresh requests from written vocabularies, 1M synthetic articles"
    svc, direct = m["clients_1"]["service"], m["clients_1"]["direct"]
    overhead = {g: round(svc[g]["mean_ms"] - direct[g]["mean_ms"], 1) for g in TARGETS if g in svc and g in direct}
    rows = [{
        "measure": f"query service throughput / same SQL via psycopg, {clients.split('_')[1]} clients",
        "value": ratio["median"], "unit": f"ratio (range {ratio['min']}-{ratio['max']}, {ratio['rounds']} rounds)",
        "target": f">= {RATIO_TARGET}", "met": ratio["median"] >= RATIO_TARGET, "split": split,
        "limited_by": None if ratio["median"] >= RATIO_TARGET else
        f"the service's own time per request at 1 client (mean over direct, ms): {overhead}; load avg {load_avg}",
    }]  # fmt: skip
    for group, target in TARGETS.items():
        p95 = svc.get(group, {}).get("p95_ms")
        met = p95 is not None and p95 < target
        rows.append({
            "measure": f"query p95 at 1 client, {group}", "value": p95, "unit": "ms", "target": f"< {target:g} ms",
            "met": met, "split": split,
            "limited_by": None if met else
            f"PostgreSQL: the same statements direct p95 {direct.get(group, {}).get('p95_ms')} ms; load avg {load_avg}",
        })  # fmt: skip
    return rows


def main() -> int:
    require("bench-query", "seed-article.txt", "bbc", "reuters21578")  # before creating anything
    n_articles = int(os.environ.get("TIDINGS_BENCH_QUERY_ARTICLES", "1000000"))
    db_name = os.environ.get("TIDINGS_BENCH_QUERY_DB", "tidings_bench_query")
    clients = int(os.environ.get("TIDINGS_BENCH_QUERY_CLIENTS", "8"))
    rounds = int(os.environ.get("TIDINGS_BENCH_QUERY_ROUNDS", "5"))
    size = int(os.environ.get("TIDINGS_BENCH_QUERY_SIZE", "140"))
    infra = infra_mod.resolve(ROOT / ".data" / "bench")
    try:
        url = infra_mod.ensure_database(infra, db_name)
        started = time.perf_counter()
        load_info = prepare_database(url, n_articles)
        prepare_s = round(time.perf_counter() - started, 1)
        if "--load-only" in sys.argv:
            return 0
        load_before = os.getloadavg()
        started = time.perf_counter()
        measured = measure(url, infra.redis_url, clients=clients, rounds=rounds, size=size)
        measure_s = round(time.perf_counter() - started, 1)
        load_after = os.getloadavg()
        report: dict[str, Any] = {
            "command": "make bench-query",
            "summary": _summary(measured, [round(x, 2) for x in load_after]),
            **measured,
            "timings_s": {"prepare": prepare_s, "measure": measure_s},
            "load": {"articles": n_articles, **load_info},
            "machine": {
                "cpus": os.cpu_count(),
                "query_processes": PROCESSES,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
                "note": "2-core machine shared with other engineers' test runs while measuring; the clients, the "
                "service and PostgreSQL share the same cores.",
                **_server_facts(_libpq(url)),
            },
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n")
        for row in report["summary"]:
            print(f"{row['measure']}: {row['value']} {row['unit']} (target {row['target']}: "
                  f"{'met' if row['met'] else 'MISSED'})")  # fmt: skip
        print(f"written to {RESULTS}")
        return 0
    finally:
        infra.stop()


if __name__ == "__main__":
    sys.exit(main())
