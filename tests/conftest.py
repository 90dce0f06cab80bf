"""Test fixtures on real parts: a fresh PostgreSQL database built by the migrations, a real Redis database,
a real Celery worker process and the two services under uvicorn.

The servers are found as ``make run`` finds them (DATABASE_URL / REDIS_URL, else local, else embedded).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
from celery import Celery
from sqlalchemy import Engine

from devtools import infra as infra_mod
from devtools.processes import Platform, alembic_upgrade, uvicorn_argv, worker_argv
from shared.config import reset_settings
from tests.brokers import broker_env, session_vhost
from tests.support import ROOT, empty_tables, free_port, wait_for

TEST_REDIS_DB = int(os.environ.get("TIDINGS_TEST_REDIS_DB", "9"))
LOG_DIR = ROOT / ".data" / "test-logs" / f"session-{os.getpid()}"


def _redis_db_url(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return urlunsplit((parts.scheme, parts.netloc, parts.path, f"db={db}", ""))
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


class TestInfra:
    def __init__(self) -> None:
        self.infra = infra_mod.resolve(ROOT / ".data" / "test")
        self.db_name = f"tidings_test_{os.getpid()}"
        self.database_url = infra_mod.ensure_database(self.infra, self.db_name, fresh=True)
        self.redis_url = _redis_db_url(self.infra.redis_url, TEST_REDIS_DB)
        self.rabbit = session_vhost("test")

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "TIDINGS_ENV": "test",
            # Sweep quickly so lost-work tests finish fast; the value is a setting, not a sleep.
            "TIDINGS_PIPELINE_STALLED_AFTER_S": "3",
            "TIDINGS_PIPELINE_SWEEP_INTERVAL_S": "1",
            # Feed tests serve their feeds from a local HTTP server: allow loopback feed URLs.
            "TIDINGS_CHANNELS_FEED_ALLOWED_NETWORKS": "127.0.0.0/8:*",
            # Articles whose metadata asks for a fault fail on purpose (dead-letter tests); short backoffs.
            "TIDINGS_RELIABILITY_FAULT_INJECTION": "true",
            "TIDINGS_RELIABILITY_RETRY_BASE_S": "0.2",
            **broker_env(self.rabbit),
            # Workers and beat export no metrics unless a test gives them free ports: no clashes on 9101.
            "TIDINGS_METRICS_WORKER_PORT": "0",
            "TIDINGS_METRICS_BEAT_PORT": "0",
            # A tagger added from outside the package, as docs/architecture.md's recipe says
            # (tests/e2e/test_tagger_plugin.py); it tags only "(NYSE: X)"-style tickers, which no other test writes.
            "TIDINGS_TAGGING_PLUGINS": '["tests.ticker_tagger"]',
        }

    def close(self) -> None:
        if self.rabbit is not None:
            self.rabbit.delete()
        infra_mod.drop_database(self.infra, self.db_name)
        self.infra.stop()


_infra: TestInfra | None = None


# The admin key every test client sends (``ingest``, ``query`` and ``api_key_headers``), made once per session.
SESSION_API_KEY: str = ""
# High enough that no test but the rate-limit tests ever meets the limit.
SESSION_KEY_RATE_LIMIT = 1_000_000


def create_test_api_key(
    database_url: str,
    *,
    scopes: tuple[str, ...] = ("admin",),
    name: str = "tests",
    sources: list[str] | None = None,
) -> str:
    """Make a key in the database at ``database_url`` (for tests that start their own platform)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from shared.api.keys import create_api_key

    eng = create_engine(database_url)
    try:
        with Session(eng) as session, session.begin():
            made = create_api_key(
                session, name=name, scopes=scopes, rate_limit_per_minute=SESSION_KEY_RATE_LIMIT, sources=sources
            )
    finally:
        eng.dispose()
    return made.key


def pytest_configure(config: pytest.Config) -> None:
    global _infra, SESSION_API_KEY
    _infra = TestInfra()
    os.environ.update(_infra.env)
    reset_settings()  # whatever read the environment before this point read the wrong database
    alembic_upgrade(_infra.env, ROOT)
    redis.Redis.from_url(_infra.redis_url).flushdb()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    SESSION_API_KEY = create_test_api_key(_infra.database_url, name="test session")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _infra is not None:
        _infra.close()


@pytest.fixture(autouse=True)
def _settings_reread_after_each_test() -> Iterator[None]:
    """Settings are read once per process and cached (``shared.config``). A test that changes the environment
    calls ``reset_settings()`` after ``monkeypatch.setenv``; this makes sure the next test never sees it."""
    yield
    reset_settings()


@pytest.fixture(scope="session")
def test_infra() -> TestInfra:
    assert _infra is not None
    return _infra


@pytest.fixture(scope="session")
def engine(test_infra: TestInfra) -> Iterator[Engine]:
    from shared.config import get_settings
    from shared.db.engine import make_engine

    eng = make_engine(get_settings().database, application_name="tidings-tests")
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """A database emptied before the test: each test sees only its own rows."""
    empty_tables(engine)
    yield engine


@pytest.fixture
def redis_client(test_infra: TestInfra) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(test_infra.redis_url)
    yield client
    client.close()


@pytest.fixture
def side_queue(redis_client: redis.Redis) -> Iterator[str]:
    """A queue no worker consumes, so a test can read the real task messages sent to it."""
    name = f"side-queue-{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(name)


def _start_worker(platform: Platform, env: dict[str, str], name: str) -> None:
    log = LOG_DIR / f"{name}.log"
    platform.start(name, worker_argv(2, hostname=f"{name}-{uuid.uuid4().hex[:6]}@%h"), env, ROOT, log=log)


def _ping_workers(expected: int) -> bool:
    from celery import Celery

    from shared.config import get_settings
    from shared.tasks import celery_config

    app = Celery("tidings-test-ping")
    app.conf.update(celery_config(get_settings()))
    try:
        return len(app.control.ping(timeout=0.5) or []) >= expected
    finally:
        app.close()


@pytest.fixture(scope="session")
def platform(test_infra: TestInfra) -> Iterator[dict[str, str]]:
    """Ingest and query under uvicorn, one Celery worker process (two children), for the whole session."""
    ingest_port, query_port = free_port(), free_port()
    env = {**test_infra.env, "TIDINGS_INGEST_PUBLIC_QUERY_URL": f"http://127.0.0.1:{query_port}"}
    plat = Platform()
    try:
        plat.start(
            "ingest",
            uvicorn_argv("services.ingest.main:app", "127.0.0.1", ingest_port),
            env,
            ROOT,
            url=f"http://127.0.0.1:{ingest_port}",
            log=LOG_DIR / "ingest.log",
        )
        plat.start(
            "query",
            uvicorn_argv("services.query.main:app", "127.0.0.1", query_port),
            env,
            ROOT,
            url=f"http://127.0.0.1:{query_port}",
            log=LOG_DIR / "query.log",
        )
        _start_worker(plat, env, "worker")
        plat.wait_healthy()
        wait_for(lambda: _ping_workers(1), timeout=60, what="the Celery worker to answer a ping")
        yield {"ingest": f"http://127.0.0.1:{ingest_port}", "query": f"http://127.0.0.1:{query_port}"}
    finally:
        plat.stop()


@pytest.fixture(scope="session")
def api_key_headers() -> dict[str, str]:
    """Headers carrying the session's admin API key, for tests that build their own clients."""
    return {"Authorization": f"Bearer {SESSION_API_KEY}"}


@pytest.fixture
def ingest(platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform["ingest"], timeout=30, headers=api_key_headers) as client:
        yield client


@pytest.fixture
def query(platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform["query"], timeout=30, headers=api_key_headers) as client:
        yield client


@pytest.fixture(scope="session")
def producer(test_infra: TestInfra) -> Iterator[Celery]:
    """A Celery client that sends tasks by name to the session's worker, as the services do."""
    from shared.config import get_settings
    from shared.tasks import celery_config

    app = Celery("tidings-tests")
    app.conf.update(celery_config(get_settings()))
    yield app
    app.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Fast unit tests first, the end-to-end ones last.
    slow = ("/e2e/", "/chaos/", "/ops/")
    items.sort(key=lambda item: (any(part in str(item.fspath) for part in slow), str(Path(item.fspath))))
