"""Query benchmark (``make bench-query``): latency percentiles of the query API over 1M articles.

Steps: find PostgreSQL as ``make run`` does; create (or reuse) the benchmark database; load it with COPY when
its row count or loader version differ (``benchmarks/query_load.py``); start the query service under uvicorn
on it; run a fixed mix of requests from 8 concurrent clients; write p50/p95/p99 per kind, and the plan of the
slowest query, to ``benchmarks/results/query.json``.

Settings (environment): ``TIDINGS_BENCH_QUERY_ARTICLES`` (1,000,000), ``TIDINGS_BENCH_QUERY_DB``
(``tidings_bench_query``), ``TIDINGS_BENCH_QUERY_CLIENTS`` (8), ``TIDINGS_BENCH_QUERY_ROUNDS`` (rounds of the
mix per client), ``--load-only`` to load and stop.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import math
import os
import random
import socket
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import psycopg

from benchmarks import query_load
from benchmarks.data import require
from benchmarks.query_corpus import load_base_docs
from benchmarks.query_mix import Request, build_mix
from devtools import infra as infra_mod
from devtools.processes import Platform, alembic_upgrade, uvicorn_argv
from services.query.settings import get_query_settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "query.json"
LOADER_VERSION = "2"  # 2: tag rows carry their article's date and canonical flag
OWN_MIGRATION = ROOT / "shared" / "db" / "migrations" / "versions" / "0004_query.py"


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
        return {"reused": True, **meta.get("load_timings", {})}
    print(f"loading {n_articles:,} articles (this takes a while)")
    _set_meta(dsn, articles=0)
    timings = query_load.load(dsn, n_articles)
    _set_meta(dsn, articles=n_articles, loader=LOADER_VERSION, load_timings=timings)
    return {"reused": False, **timings}


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


TARGETS_MS = {"search_and_filters": 50.0, "facets": 150.0, "timeseries": 100.0}
SEARCH_KINDS = ("search", "filters", "deep_page")


def _service(url: str, redis_url: str) -> tuple[Platform, str]:
    """The query service under uvicorn with two worker processes (one per core), on the benchmark database."""
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "TIDINGS_ENV": "development",
        "TIDINGS_AUTH_OPEN_QUERY": "true",  # no key look-up and no per-key rate limit in the measurement
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    plat = Platform()
    argv = [*uvicorn_argv("services.query.main:app", "127.0.0.1", port), "--workers", "2"]
    log = ROOT / ".data" / "bench" / "query-service.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    plat.start("query", argv, env, ROOT, url=f"http://127.0.0.1:{port}", log=log)
    plat.wait_healthy(120)
    return plat, f"http://127.0.0.1:{port}"


def _deep_cursors(base: str, seeds: list[Request], pages: int) -> list[Request]:
    """Walk each deep-pagination seed to its last page before ``pages`` and keep that cursor."""
    out = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for seed in seeds:
            cursor = None
            for _ in range(pages):
                params = seed.as_params() + ([("cursor", cursor)] if cursor else [])
                page = client.get(seed.path, params=params).json()
                if not page.get("next_cursor"):
                    break
                cursor = page["next_cursor"]
            if cursor:
                out.append(Request(seed.kind, seed.path, (*seed.params, ("cursor", cursor))))
    return out


def _run(base: str, mix: list[Request], *, clients: int, rounds: int, seed: int) -> list[dict[str, Any]]:
    """Each client sends the whole mix in its own order over one keep-alive connection.

    The clients use the standard library's ``http.client``: they share the service's two cores, and httpx
    spends about a millisecond of CPU per request that the service would otherwise have (a load generator
    normally runs on another machine).
    """
    host, port = urlsplit(base).hostname or "127.0.0.1", urlsplit(base).port or 80

    def client_loop(n: int) -> list[dict[str, Any]]:
        order = list(mix)
        random.Random(seed + n).shuffle(order)
        results = []
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            for _ in range(rounds):
                for req in order:
                    started = time.perf_counter()
                    conn.request("GET", f"{req.path}?{urlencode(req.as_params())}")
                    response = conn.getresponse()
                    response.read()
                    elapsed = (time.perf_counter() - started) * 1000
                    results.append({"kind": req.kind, "ms": elapsed, "status": response.status, "request": req})
        finally:
            conn.close()
        return results

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [r for batch in pool.map(client_loop, range(clients)) for r in batch]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))], 1)

    return {
        "count": len(ordered),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(ordered), 1),
        "max_ms": round(ordered[-1], 1),
    }


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


def main() -> int:
    require("bench-query", "seed-article.txt", "bbc", "reuters21578")  # before creating anything
    n_articles = int(os.environ.get("TIDINGS_BENCH_QUERY_ARTICLES", "1000000"))
    db_name = os.environ.get("TIDINGS_BENCH_QUERY_DB", "tidings_bench_query")
    clients = int(os.environ.get("TIDINGS_BENCH_QUERY_CLIENTS", "8"))
    rounds = int(os.environ.get("TIDINGS_BENCH_QUERY_ROUNDS", "1"))
    infra = infra_mod.resolve(ROOT / ".data" / "bench")
    try:
        url = infra_mod.ensure_database(infra, db_name)
        load_info = prepare_database(url, n_articles)
        if "--load-only" in sys.argv:
            return 0
        docs = load_base_docs()
        mix, deep_seeds = build_mix(docs)
        plat, base = _service(url, infra.redis_url)
        try:
            print("seeding deep pagination cursors (page 50 of each listing)")
            deep = _deep_cursors(base, deep_seeds, pages=50)
            mix = mix + deep
            print(f"warming up: {len(mix)} requests")
            _run(base, mix, clients=2, rounds=1, seed=1)
            load_before = os.getloadavg()
            started, client_cpu = time.perf_counter(), time.process_time()
            print(f"measuring: {clients} clients x {rounds} round(s) x {len(mix)} requests")
            results = _run(base, mix, clients=clients, rounds=rounds, seed=2)
            wall_s = time.perf_counter() - started
            client_cpu_ms = (time.process_time() - client_cpu) * 1000 / max(1, len(results))
            load_after = os.getloadavg()
            print("measuring again with one client, for the service time without queueing")
            single = _run(base, mix, clients=1, rounds=1, seed=3)
        finally:
            plat.stop()
        report = _report(
            url, results, mix, clients=clients, rounds=rounds, wall_s=round(wall_s, 1),
            client_cpu_ms_per_request=round(client_cpu_ms, 2),
        )  # fmt: skip
        report["single_client"] = {
            kind: _percentiles([r["ms"] for r in single if r["kind"] == kind and r["status"] == 200])
            for kind in sorted({r["kind"] for r in single})
        }
        report["load"] = {"articles": n_articles, **load_info}
        report["machine"] = {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "note": "2-core machine shared with other engineers' test runs while measuring; the client, the "
            "service (2 uvicorn workers) and PostgreSQL share the same cores.",
            **_server_facts(_libpq(url)),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n")
        _print(report)
        return 0
    finally:
        infra.stop()


def _report(url: str, results: list[dict[str, Any]], mix: list[Request], **run: Any) -> dict[str, Any]:
    ok = [r for r in results if r["status"] == 200]
    errors = Counter(f"{r['kind']}:{r['status']}" for r in results if r["status"] != 200)
    by_kind = {
        kind: _percentiles([r["ms"] for r in ok if r["kind"] == kind]) for kind in sorted({r["kind"] for r in ok})
    }
    combined = _percentiles([r["ms"] for r in ok if r["kind"] in SEARCH_KINDS])
    groups = {"search_and_filters": combined, "facets": by_kind.get("facets"), "timeseries": by_kind.get("timeseries")}
    targets = {
        name: {"p95_target_ms": target, "p95_ms": (groups[name] or {}).get("p95_ms"),
               "met": bool(groups[name]) and groups[name]["p95_ms"] < target}  # type: ignore[index]
        for name, target in TARGETS_MS.items()
    }  # fmt: skip
    slowest = max(ok, key=lambda r: r["ms"])
    plans = explain(url, slowest["request"])
    return {
        "command": "make bench-query",
        "run": {**run, "requests": len(results), "mix_size": len(mix), "mix": dict(Counter(r.kind for r in mix))},
        "by_kind": by_kind,
        "search_and_filters": combined,
        "targets": targets,
        "errors": dict(errors),
        "slowest": {
            "kind": slowest["kind"],
            "path": slowest["request"].path,
            "params": slowest["request"].as_params(),
            "ms": round(slowest["ms"], 1),
            "statements": plans,
        },
    }


def _print(report: dict[str, Any]) -> None:
    print(f"{'kind':<20}{'n':>6}{'p50':>9}{'p95':>9}{'p99':>9}")
    for kind, st in [*report["by_kind"].items(), ("search_and_filters", report["search_and_filters"])]:
        print(f"{kind:<20}{st['count']:>6}{st['p50_ms']:>9}{st['p95_ms']:>9}{st['p99_ms']:>9}")
    for name, t in report["targets"].items():
        print(f"target {name}: p95 {t['p95_ms']} ms < {t['p95_target_ms']} ms: {'met' if t['met'] else 'MISSED'}")
    print(f"errors: {report['errors'] or 'none'}; slowest: {report['slowest']['kind']} {report['slowest']['ms']} ms")
    print("one client (service time): " + ", ".join(
        f"{kind} p50 {st['p50_ms']} p95 {st['p95_ms']}" for kind, st in report["single_client"].items()
    ))  # fmt: skip
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
