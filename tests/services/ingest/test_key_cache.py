"""API keys are cached per process for a short TTL: a key changed behind the API's back stops working within
the TTL; one revoked through the API (or the CLI) stops at once, in every process, through the key epoch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from sqlalchemy import Engine, text

from devtools.processes import Platform, uvicorn_argv
from tests import conftest
from tests.conftest import LOG_DIR, create_test_api_key
from tests.factories import article_payload
from tests.support import ROOT, free_port, wait_for

TTL_S = 2.0
PROCESSES = 2


@pytest.fixture(scope="module")
def two_processes(test_infra: conftest.TestInfra) -> Iterator[str]:
    """The ingest service as `make run` starts it on two cores: two uvicorn processes on one port."""
    port = free_port()
    env = {**test_infra.env, "TIDINGS_AUTH_KEY_CACHE_TTL_S": str(TTL_S)}
    plat = Platform()
    try:
        child = plat.start(
            "ingest-multi",
            uvicorn_argv("services.ingest.main:app", "127.0.0.1", port, processes=PROCESSES),
            env,
            ROOT,
            url=f"http://127.0.0.1:{port}",
            log=LOG_DIR / "ingest-multi.log",
        )
        plat.wait_healthy()
        wait_for(
            lambda: len(psutil.Process(child.proc.pid).children()) >= PROCESSES,
            timeout=60,
            what="both ingest processes",
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        plat.stop()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _statuses(base: str, key: str, n: int = 8) -> list[int]:
    """One request per fresh connection, so they spread over the processes."""
    return [httpx.get(f"{base}/v1/api-keys", headers=_bearer(key), timeout=30).status_code for _ in range(n)]


def test_a_key_revoked_behind_the_apis_back_stops_within_the_ttl(
    two_processes: str, db: Engine, test_infra: conftest.TestInfra
) -> None:
    key = create_test_api_key(test_infra.database_url, name="cached")
    assert set(_statuses(two_processes, key)) == {200}  # now cached in the processes that served it
    with db.begin() as conn:
        conn.execute(text("UPDATE api_keys SET revoked_at = now() WHERE name = 'cached'"))
    revoked_at = time.monotonic()
    wait_for(lambda: set(_statuses(two_processes, key)) == {401}, timeout=30, what="the revoked key to be refused")
    assert time.monotonic() - revoked_at < TTL_S + 3.0, "refused within the TTL (plus the requests' own time)"


def test_a_key_revoked_through_the_api_stops_at_once_in_every_process(
    two_processes: str, db: Engine, test_infra: conftest.TestInfra
) -> None:
    admin = create_test_api_key(test_infra.database_url, name="admin")
    victim = create_test_api_key(test_infra.database_url, name="victim")
    assert set(_statuses(two_processes, victim)) == {200}
    with db.connect() as conn:
        victim_id = conn.execute(text("SELECT id FROM api_keys WHERE name = 'victim'")).scalar_one()
    revoked = httpx.delete(f"{two_processes}/v1/api-keys/{victim_id}", headers=_bearer(admin), timeout=30)
    assert revoked.status_code == 200
    assert set(_statuses(two_processes, victim)) == {401}


def test_two_processes_take_concurrent_articles_each_once(
    two_processes: str, db: Engine, test_infra: conftest.TestInfra
) -> None:
    key = create_test_api_key(test_infra.database_url, name="producer")
    bodies = [article_payload(source="multi", external_id=f"m-{n}", title=f"Story {n}") for n in range(30)]

    def post(body: dict) -> httpx.Response:
        return httpx.post(f"{two_processes}/v1/articles", json=body, headers=_bearer(key), timeout=30)

    with ThreadPoolExecutor(max_workers=12) as pool:
        first = list(pool.map(post, bodies))
        again = list(pool.map(post, bodies))
    assert [r.status_code for r in first + again] == [202] * 60
    assert [r.json()["id"] for r in again] == [r.json()["id"] for r in first]
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ingestions WHERE source = 'multi'")).scalar_one() == 30
