"""The newcomer's path without any local server: embedded PostgreSQL and Redis, started and stopped by pid."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from devtools import infra as infra_mod
from devtools.processes import Platform, alembic_upgrade, uvicorn_argv, worker_argv
from tests.conftest import create_test_api_key
from tests.support import NEWSROOM_ARTICLE, ROOT, free_port, wait_for

pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_seed_article_through_embedded_servers(tmp_path: Path) -> None:
    infra = infra_mod.resolve(tmp_path / "data", force_embedded=True)
    platform = Platform()
    try:
        assert len(infra.embedded_pids) == 2, infra.description
        assert infra.redis_url.startswith("unix://")
        database_url = infra_mod.ensure_database(infra, "tidings")
        ingest_port, query_port = free_port(), free_port()
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": infra.redis_url,
            "TIDINGS_ENV": "test",
            "TIDINGS_INGEST_PUBLIC_QUERY_URL": f"http://127.0.0.1:{query_port}",
        }
        alembic_upgrade(env, ROOT)
        logs = tmp_path / "logs"
        logs.mkdir()
        ingest_url, query_url = f"http://127.0.0.1:{ingest_port}", f"http://127.0.0.1:{query_port}"
        platform.start(
            "ingest",
            uvicorn_argv("services.ingest.main:app", "127.0.0.1", ingest_port),
            env,
            ROOT,
            url=ingest_url,
            log=logs / "ingest.log",
        )
        platform.start(
            "query",
            uvicorn_argv("services.query.main:app", "127.0.0.1", query_port),
            env,
            ROOT,
            url=query_url,
            log=logs / "query.log",
        )
        platform.start("worker", worker_argv(1, hostname="embedded@%h"), env, ROOT, log=logs / "worker.log")
        platform.wait_healthy()

        headers = {"Authorization": f"Bearer {create_test_api_key(database_url, name='embedded')}"}
        with (
            httpx.Client(base_url=ingest_url, timeout=30, headers=headers) as ingest,
            httpx.Client(base_url=query_url, timeout=30, headers=headers) as query,
        ):
            ready = ingest.get("/readyz").json()
            assert ready["checks"] == {"postgres": "ok", "redis": "ok"}
            r = ingest.post(
                "/v1/articles",
                content=NEWSROOM_ARTICLE.read_bytes(),
                headers={"Content-Type": "text/plain"},
                params={"external_id": "seed"},
            )
            assert r.status_code == 202, r.text
            article_id = r.json()["id"]

            def processed() -> dict | None:
                got = query.get(f"/v1/articles/{article_id}")
                return got.json() if got.status_code == 200 else None

            article = wait_for(processed, timeout=60, what="the seed article through the embedded servers")
            assert article["title"] == "Sudanese army presses offensive on Omdurman as talks stall in Cairo"
            assert article["language"] == "en"
            hits = query.get("/v1/articles", params={"q": "Omdurman"}).json()["items"]
            assert [h["id"] for h in hits] == [article_id]
    finally:
        platform.stop()
        pids = list(infra.embedded_pids)
        infra.stop()
    assert not any(_alive(pid) for pid in pids), "embedded servers are stopped by process id"
