"""Start the platform's processes (ingest, query, worker, beat) as children, and stop them cleanly.

Used by ``make run`` and by the end-to-end tests, so the newcomer's path is the tested path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.api.http import PROTOCOL as HTTP_PROTOCOL
from shared.tasks import QueueName

PYTHON = sys.executable


def alembic_upgrade(env: Mapping[str, str], root: Path) -> None:
    subprocess.run(
        [PYTHON, "-m", "alembic", "-c", str(root / "alembic.ini"), "upgrade", "head"],
        env={**os.environ, **env},
        cwd=root,
        check=True,
    )


def spawn(argv: list[str], env: Mapping[str, str], cwd: Path, *, log: Path | None = None) -> subprocess.Popen:
    """Start one process in its own session, its output appended to ``log`` (or the terminal's)."""
    out = open(log, "ab") if log else None  # noqa: SIM115 - the child holds it; ours is closed below
    try:
        return subprocess.Popen(
            argv,
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: Ctrl-C reaches the supervisor, which stops it in order
        )
    finally:
        if out is not None:
            out.close()


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    url: str | None = None


@dataclass
class Platform:
    children: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        cwd: Path,
        *,
        url: str | None = None,
        log: Path | None = None,
    ) -> Child:
        child = Child(name=name, proc=spawn(argv, env, cwd, log=log), url=url)
        self.children.append(child)
        return child

    def wait_healthy(self, deadline_s: float = 60.0) -> None:
        deadline = time.monotonic() + deadline_s
        for child in self.children:
            if not child.url:
                continue
            while True:
                if child.proc.poll() is not None:
                    raise RuntimeError(f"{child.name} exited with {child.proc.returncode}")
                with suppress(httpx.HTTPError):
                    if httpx.get(f"{child.url}/healthz", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{child.name} did not answer on {child.url}")
                time.sleep(0.1)

    def first_exited(self) -> Child | None:
        return next((c for c in self.children if c.proc.poll() is not None), None)

    def stop(self, timeout_s: float = 20.0) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for child in self.children:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.proc.wait(remaining)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
        self.children.clear()


# httptools with the request head bounded (64 KiB): h11 bounds it too, parsing in Python.
UVICORN_HTTP_FLAGS = ("--http", HTTP_PROTOCOL)


def uvicorn_argv(app: str, host: str, port: int, *, processes: int = 1) -> list[str]:
    """uvicorn serving ``app``; ``processes`` > 1 starts that many workers sharing the port."""
    workers = ("--workers", str(processes)) if processes > 1 else ()
    return [PYTHON, "-m", "uvicorn", app, "--host", host, "--port", str(port), "--no-access-log",
            *UVICORN_HTTP_FLAGS, *workers]  # fmt: skip


# `make run` puts the APIs, the worker, PostgreSQL and Redis on one machine: the worker, whose work can wait,
# yields the cores to the requests a client is waiting on (it still has every cycle they leave idle).
WORKER_NICE = 10


def worker_argv(
    concurrency: int, hostname: str = "worker@%h", queues: tuple[str, ...] = QueueName.ALL, *, nice: int = 0
) -> list[str]:
    """The Celery worker; ``nice`` > 0 starts it (and so its pool) at that lower CPU priority."""
    argv = [
        PYTHON, "-m", "celery", "-A", "services.worker.app", "worker",
        "-Q", ",".join(queues), "-c", str(concurrency), "-n", hostname, "--loglevel", "INFO",
    ]  # fmt: skip
    return ["nice", "-n", str(nice), *argv] if nice > 0 else argv


def beat_argv(schedule_file: Path) -> list[str]:
    return [PYTHON, "-m", "celery", "-A", "services.worker.app", "beat", "-s", str(schedule_file), "--loglevel", "INFO"]
