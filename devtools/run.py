"""``make run``: the whole platform on one machine, from PostgreSQL and Redis to the two APIs.

Uses DATABASE_URL / REDIS_URL when set, else the local servers when they answer, else embedded servers
(data under ``.data/``). Ctrl-C stops the services, then the embedded servers.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from devtools import infra as infra_mod
from devtools.processes import Platform, alembic_upgrade, beat_argv, uvicorn_argv, worker_argv

ROOT = Path(__file__).resolve().parent.parent
RUN_KEY_NAME = "make run"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("TIDINGS_HOST", "127.0.0.1"))
    parser.add_argument("--ingest-port", type=int, default=int(os.environ.get("TIDINGS_INGEST_PORT", "8000")))
    parser.add_argument("--query-port", type=int, default=int(os.environ.get("TIDINGS_QUERY_PORT", "8001")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("TIDINGS_WORKERS", "2")))
    parser.add_argument("--embedded", action="store_true", help="ignore local servers; use embedded ones")
    args = parser.parse_args()

    data = ROOT / ".data"
    data.mkdir(exist_ok=True)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    infra = infra_mod.resolve(data, force_embedded=args.embedded)
    platform = Platform()
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
        platform.start(
            "ingest", uvicorn_argv("services.ingest.main:app", args.host, args.ingest_port), env, ROOT, url=ingest_url
        )
        platform.start(
            "query", uvicorn_argv("services.query.main:app", args.host, args.query_port), env, ROOT, url=query_url
        )
        platform.start("worker", worker_argv(args.workers), env, ROOT)
        platform.start("beat", beat_argv(data / "celerybeat-schedule"), env, ROOT)
        platform.wait_healthy()
        print(
            f"\nTidings is running:\n"
            f"  ingest API  {ingest_url}   (docs {ingest_url}/docs)\n"
            f"  query API   {query_url}   (docs {query_url}/docs)\n"
            f"  web UI      {query_url}/ui/   (sign in with the API key below)\n"
            f"  worker      {args.workers} processes on queues of {infra.redis_url}\n"
            f"  beat        sweeper and schedules\n"
            f"  API key     {api_key}   (admin; made for this run, revoked at the next)\n"
            f"Try:  curl -H 'Authorization: Bearer {api_key}' -H 'Content-Type: text/plain' "
            f"--data-binary @../shared/data/seed-article.txt {ingest_url}/v1/articles\n"
            f"Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping:
            exited = platform.first_exited()
            if exited:
                print(f"{exited.name} exited with {exited.proc.returncode}; stopping", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\n· stopping services", flush=True)
        platform.stop()
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
            return create_api_key(session, name=RUN_KEY_NAME, scopes=["admin"]).key
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
