"""Keep the platform's processes running on one box: what exits is restarted, with backoff, until Ctrl-C.

``make run`` is the whole platform for a developer or a small deployment, so one process that dies (the OOM
killer's SIGKILL, a crash) must not take the others with it: the supervisor notices the exit, kills what the
process left behind in its process group (a Celery worker's pool children), logs one line and starts it again
after a delay that doubles with each exit in the recent window. A process that keeps exiting (more than
``max_restarts`` times in ``window_s``) is given up on and reported as failed, while the rest keep serving.

The supervisor keeps a status file (JSON: each process's pid, state, restarts, last exit, URLs) that
``tidings status`` reads, so "what is running" has an answer from another terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx

from devtools.processes import spawn


@dataclass(frozen=True)
class Spec:
    """How to start one process, and where to see that it is alive."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    cwd: Path
    url: str | None = None  # an HTTP service: healthy when GET {url}/healthz answers 200
    metrics_url: str | None = None  # its Prometheus endpoint (also the liveness probe of worker and beat)
    log: Path | None = None
    before_start: Callable[[], None] | None = None  # run before every start, restarts included

    @property
    def probe(self) -> str | None:
        """The URL that answers 200 while the process is alive."""
        return f"{self.url}/healthz" if self.url else self.metrics_url


@dataclass
class Supervised:
    spec: Spec
    proc: subprocess.Popen | None = None
    state: str = "starting"  # starting | running | restarting | failed | stopped
    restarts: int = 0
    last_exit: int | None = None
    started_at: float = 0.0  # unix time of the current (or last) start
    restart_at: float | None = None  # monotonic time the next start is due
    exits: deque[float] = field(default_factory=deque)  # monotonic times of the recent exits

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


def _stop_group(proc: subprocess.Popen, sig: int) -> None:
    # Each process leads its own group, so this reaches what it started (a Celery worker's pool) too.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


class Supervisor:
    """Starts the processes, restarts the ones that exit, writes the status file, stops all on request."""

    def __init__(
        self,
        *,
        status_file: Path | None = None,
        max_restarts: int = 5,
        window_s: float = 60.0,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        out: TextIO = sys.stderr,
    ) -> None:
        self.status_file = status_file
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.out = out
        self.processes: list[Supervised] = []

    def add(self, spec: Spec) -> Supervised:
        """Register ``spec`` and start it now."""
        sup = Supervised(spec=spec)
        self.processes.append(sup)
        self._start(sup)
        self._write_status()
        return sup

    def get(self, name: str) -> Supervised:
        return next(p for p in self.processes if p.spec.name == name)

    def _say(self, message: str) -> None:
        print(f"· {message}", file=self.out, flush=True)

    def _start(self, sup: Supervised) -> None:
        if sup.spec.before_start is not None:
            sup.spec.before_start()
        sup.proc = spawn(sup.spec.argv, sup.spec.env, sup.spec.cwd, log=sup.spec.log)
        sup.started_at = time.time()
        sup.restart_at = None
        sup.state = "starting" if sup.spec.probe else "running"

    def wait_healthy(self, deadline_s: float = 90.0) -> None:
        """Wait until each process answers its probe; fail if one exits before it does."""
        deadline = time.monotonic() + deadline_s
        for sup in self.processes:
            while not self._healthy(sup):
                if sup.proc is None or sup.proc.poll() is not None:
                    raise RuntimeError(f"{sup.spec.name} exited with {sup.proc.returncode if sup.proc else None}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{sup.spec.name} did not answer on {sup.spec.probe}")
                time.sleep(0.1)
            sup.state = "running"
        self._write_status()

    @staticmethod
    def _healthy(sup: Supervised) -> bool:
        if sup.spec.probe is None:
            return True
        with suppress(httpx.HTTPError):
            return httpx.get(sup.spec.probe, timeout=1).status_code == 200
        return False

    def status_lines(self) -> list[str]:
        lines = []
        for sup in self.processes:
            where = " ".join(u for u in (sup.spec.url, sup.spec.metrics_url and f"metrics {sup.spec.metrics_url}") if u)
            lines.append(f"{sup.spec.name:<7} pid {sup.pid or '-':<8} {sup.state:<10} {where}".rstrip())
        return lines

    def tick(self) -> None:
        """One round: notice exits, schedule or refuse restarts, start what is due, refresh health."""
        now = time.monotonic()
        changed = False
        for sup in self.processes:
            if sup.state in ("failed", "stopped"):
                continue
            if sup.proc is not None and sup.state != "restarting" and sup.proc.poll() is not None:
                self._exited(sup, now)
                changed = True
            elif sup.state == "restarting" and sup.restart_at is not None and now >= sup.restart_at:
                sup.restarts += 1
                self._start(sup)
                self._say(
                    f"{sup.spec.name} restarted (pid {sup.proc.pid if sup.proc else '-'}, restart {sup.restarts})"
                )
                changed = True
            elif sup.state == "starting" and self._healthy(sup):
                sup.state = "running"
                changed = True
        if changed:
            self._write_status()

    def _exited(self, sup: Supervised, now: float) -> None:
        assert sup.proc is not None
        code = sup.proc.returncode
        sup.last_exit = code
        _stop_group(sup.proc, signal.SIGKILL)  # what it left behind, e.g. orphaned pool children
        sup.exits.append(now)
        while sup.exits and sup.exits[0] < now - self.window_s:
            sup.exits.popleft()
        if len(sup.exits) > self.max_restarts:
            sup.state = "failed"
            log = f"; see {sup.spec.log}" if sup.spec.log else ""
            self._say(
                f"{sup.spec.name} exited with {code} {len(sup.exits)} times in {self.window_s:.0f} s: "
                f"not restarting it{log}. The other processes keep running; Ctrl-C stops them."
            )
            return
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** (len(sup.exits) - 1))
        sup.state = "restarting"
        sup.restart_at = now + delay
        self._say(f"{sup.spec.name} exited with {code}; restarting in {delay:.1f} s")

    def run(self, stopping: Callable[[], bool], interval_s: float = 0.2) -> None:
        while not stopping():
            self.tick()
            time.sleep(interval_s)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM every group in reverse start order, SIGKILL what is still there after ``timeout_s``."""
        running = [p for p in reversed(self.processes) if p.proc is not None and p.proc.poll() is None]
        for sup in running:
            assert sup.proc is not None
            _stop_group(sup.proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for sup in running:
            assert sup.proc is not None
            try:
                sup.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _stop_group(sup.proc, signal.SIGKILL)
                sup.proc.wait()
        for sup in self.processes:
            sup.state = "stopped"
        self._write_status()

    def _write_status(self) -> None:
        if self.status_file is None:
            return
        body = {
            "supervisor_pid": os.getpid(),
            "updated_at": datetime.now(UTC).isoformat(),
            "processes": [
                {
                    "name": p.spec.name,
                    "pid": p.pid,
                    "state": p.state,
                    "restarts": p.restarts,
                    "last_exit": p.last_exit,
                    "since": datetime.fromtimestamp(p.started_at, UTC).isoformat() if p.started_at else None,
                    "url": p.spec.url,
                    "metrics_url": p.spec.metrics_url,
                    "log": str(p.spec.log) if p.spec.log else None,
                }
                for p in self.processes
            ],
        }
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2))
        os.replace(tmp, self.status_file)  # readers never see half a file
