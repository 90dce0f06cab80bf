"""``make run``: the whole platform on one machine, from PostgreSQL and Redis to the two APIs.

Uses DATABASE_URL / REDIS_URL when set, else the local servers when they answer, else embedded servers
(data under ``.data/``). The processes are supervised (``devtools.supervisor``): one that exits is restarted
and the rest keep serving. Only Ctrl-C (SIGINT or SIGTERM to this process) stops the services, then the
embedded servers. ``tidings status`` (``make status``) shows what runs, from the status file under ``.data/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from devtools import infra as infra_mod
from devtools.processes import WORKER_NICE, alembic_upgrade, beat_argv, uvicorn_argv, worker_argv
from devtools.supervisor import Spec, Supervisor
from shared.api.keys import Scope
from shared.config import get_ingest_settings
from shared.metrics import MULTIPROC_ENV, get_metrics_settings

ROOT = Path(__file__).resolve().parent.parent
RUN_KEY_NAME = "make run"
STATUS_FILE_NAME = "run-status.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("TIDINGS_HOST", "127.0.0.1"))
    parser.add_argument("--ingest-port", type=int, default=int(os.environ.get("TIDINGS_INGEST_PORT", "8000")))
    parser.add_argument("--query-port", type=int, default=int(os.environ.get("TIDINGS_QUERY_PORT", "8001")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("TIDINGS_WORKERS", "2")))
    parser.add_argument("--worker-nice", type=int, default=int(os.environ.get("TIDINGS_WORKER_NICE", WORKER_NICE)),
                        help="the worker's CPU niceness (0: the APIs' priority)")  # fmt: skip
    parser.add_argument("--worker-metrics-port", type=int, default=get_metrics_settings().worker_port)
    parser.add_argument("--beat-metrics-port", type=int, default=get_metrics_settings().beat_port)
    parser.add_argument("--embedded", action="store_true", help="ignore local servers; use embedded ones")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".data", help="status file, logs, beat schedule")
    parser.add_argument("--max-restarts", type=int, default=5, help="per process within a minute, then give up")
    args = parser.parse_args()

    data: Path = args.data_dir
    data.mkdir(parents=True, exist_ok=True)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    infra = infra_mod.resolve(data, force_embedded=args.embedded)
    supervisor = Supervisor(status_file=data / STATUS_FILE_NAME, max_restarts=args.max_restarts)
    try:
        for line in infra.description:
            print(f"· {line}", flush=True)
        explicit_db = os.environ.get("TIDINGS_DATABASE_URL") or os.environ.get("DATABASE_URL")
        database_url = (
            infra.admin_database_url
            if explicit_db and not args.embedded
            else infra_mod.ensure_database(infra, "tidings")
        )
        env = {"DATABASE_URL": database_url, "REDIS_URL": infra.redis_url, "TIDINGS_ENV": "development"}
        print("· migrating the database", flush=True)
        alembic_upgrade(env, ROOT)
        api_key = _fresh_admin_key(database_url)

        ingest_url = f"http://{args.host}:{args.ingest_port}"
        query_url = f"http://{args.host}:{args.query_port}"
        env["TIDINGS_INGEST_PUBLIC_QUERY_URL"] = query_url
        env["TIDINGS_UI_INGEST_URL"] = ingest_url  # the web interface's operations pages call the ingest API
        env["TIDINGS_METRICS_HOST"] = args.host
        env["TIDINGS_METRICS_WORKER_PORT"] = str(args.worker_metrics_port)
        env["TIDINGS_METRICS_BEAT_PORT"] = str(args.beat_metrics_port)
        worker_metrics = data / "metrics" / "worker"
        ingest_metrics = data / "metrics" / "ingest"
        query_metrics = data / "metrics" / "query"

        def fresh_metrics(folder: Path) -> Callable[[], None]:
            # A restarted process starts counting afresh (Prometheus reads it as a counter reset); files of
            # the dead processes would otherwise be summed in for ever.
            def fresh() -> None:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)

            return fresh

        for spec in (
            # One ingest process per core, their counters merged from one multiprocess folder.
            Spec("ingest", uvicorn_argv("services.ingest.main:app", args.host, args.ingest_port,
                                        processes=get_ingest_settings().processes),
                 {**env, MULTIPROC_ENV: str(ingest_metrics)}, ROOT, url=ingest_url,
                 metrics_url=f"{ingest_url}/metrics/", before_start=fresh_metrics(ingest_metrics)),
            # As many query processes as cores: one Python process serialises its requests' CPU work.
            Spec("query", uvicorn_argv("services.query.main:app", args.host, args.query_port,
                                       processes=len(os.sched_getaffinity(0))),
                 {**env, MULTIPROC_ENV: str(query_metrics)}, ROOT, before_start=fresh_metrics(query_metrics),
                 url=query_url, metrics_url=f"{query_url}/metrics/"),
            Spec("worker", worker_argv(args.workers, nice=args.worker_nice), {**env, MULTIPROC_ENV: str(worker_metrics)}, ROOT,
                 metrics_url=_exporter_url(args.host, args.worker_metrics_port), before_start=fresh_metrics(worker_metrics)),
            Spec("beat", beat_argv(data / "celerybeat-schedule"), env, ROOT,
                 metrics_url=_exporter_url(args.host, args.beat_metrics_port)),
        ):  # fmt: skip
            supervisor.add(spec)
        supervisor.wait_healthy()
        for line in supervisor.status_lines():
            print(f"· {line}", flush=True)
        print(
            f"\nTidings is running:\n"
            f"  ingest API  {ingest_url}   (docs {ingest_url}/docs)\n"
            f"  query API   {query_url}   (docs {query_url}/docs)\n"
            f"  web UI      {query_url}/ui/   (sign in with the API key below)\n"
            f"  worker      {args.workers} processes on queues of {infra.redis_url} (nice {args.worker_nice})\n"
            f"  beat        sweeper and schedules\n"
            f"  API key     {api_key}   (admin; made for this run, revoked at the next)\n"
            f"Try:  curl -H 'Authorization: Bearer {api_key}' -H 'Content-Type: text/plain' "
            f"--data-binary @../shared/data/seed-article.txt {ingest_url}/v1/articles\n"
            f"A process that exits is restarted; `make status` shows them. Press Ctrl-C to stop.\n",
            flush=True,
        )
        supervisor.run(lambda: stopping)
        return 0
    finally:
        print("\n· stopping services", flush=True)
        supervisor.stop()
        if infra.embedded_pids:
            print(f"· stopping embedded servers (pids {', '.join(map(str, infra.embedded_pids))})", flush=True)
        infra.stop()


def _fresh_admin_key(database_url: str) -> str:
    """An admin key for this run, printed once; the previous run's key is revoked, so keys do not pile up."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from shared.api.keys import create_api_key

    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                text("UPDATE api_keys SET revoked_at = now() WHERE name = :name AND revoked_at IS NULL"),
                {"name": RUN_KEY_NAME},
            )
            # Unlimited: the key is the operator's own, and internal tools that use it must not meet 429s.
            return create_api_key(session, name=RUN_KEY_NAME, scopes=[Scope.admin, Scope.unlimited]).key
    finally:
        engine.dispose()


def _exporter_url(host: str, port: int) -> str | None:
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/metrics" if port > 0 else None


if __name__ == "__main__":
    sys.exit(main())
