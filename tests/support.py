"""Helpers for tests: polling with a deadline (never a bare sleep), free ports, the project's own fixtures
(``tests/fixtures/``), emptying the database."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples"
# The article in the plain newsroom format: headline, standfirst, caption, body with a sub-heading, credit.
NEWSROOM_ARTICLE = FIXTURES / "plain" / "omdurman-offensive.txt"


def fixture_path(name: str) -> Path:
    """A file under ``tests/fixtures/`` by its relative name (``"wire/cup-final.txt"``); it must exist."""
    path = FIXTURES / name
    if not path.is_file():
        raise FileNotFoundError(f"no fixture {name!r} under {FIXTURES}")
    return path


def fixture_text(name: str) -> str:
    return fixture_path(name).read_text(encoding="utf-8")


def fixture_bytes(name: str) -> bytes:
    return fixture_path(name).read_bytes()


def wire_story(name: str) -> tuple[str, str]:
    """(headline, body) of a wire story under ``tests/fixtures/wire/``: the headline, a blank line, paragraphs."""
    title, _, body = fixture_text(f"wire/{name}.txt").strip().partition("\n\n")
    return title, body


def wait_for(
    check: Callable[[], T | None], *, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TABLES_KEPT = frozenset({"alembic_version", "api_keys"})  # the session's key outlives each test's truncation


def empty_tables(engine: Engine, *, timeout: float = 60.0) -> None:
    """Truncate every table but the kept ones, giving way to the worker instead of deadlocking with it.

    The worker (or beat's sweeper) may still be finishing the previous test's articles. Waiting for its locks
    less long than PostgreSQL's deadlock check (1 s) means this side backs off and retries, rather than one
    side being killed as a deadlock victim.
    """

    def emptied() -> bool:
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '300ms'"))
                tables = [
                    r[0]
                    for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                    if r[0] not in TABLES_KEPT
                ]
                if tables:
                    conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            return True
        except DBAPIError:
            return False

    wait_for(emptied, timeout=timeout, interval=0.1, what="the tables to be emptied")


def with_async_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run service code that takes an ``AsyncSession`` against the test database, from a synchronous test."""
    import asyncio

    from shared.config import get_settings
    from shared.db.engine import make_async_engine, make_async_sessionmaker

    async def run() -> T:
        engine = make_async_engine(get_settings().database)
        try:
            async with make_async_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The `tidings` command line in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
