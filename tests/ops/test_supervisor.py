"""The supervisor on its own, with small processes of its own: a process that dies is restarted with a new
pid; one that keeps exiting is given up on, said so, and left stopped while the others keep running."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from devtools.supervisor import Spec, Supervisor
from tests.support import ROOT, wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


def _ticking(sup: Supervisor, check: Callable[[], bool]) -> Callable[[], bool]:
    """The supervisor's loop, one round per poll."""

    def tick_then_check() -> bool:
        sup.tick()
        return check()

    return tick_then_check


def test_a_killed_process_is_restarted_and_a_crash_loop_is_capped(tmp_path: Path) -> None:
    out = io.StringIO()
    status_file = tmp_path / "status.json"
    sup = Supervisor(status_file=status_file, max_restarts=2, window_s=60, backoff_base_s=0.05, out=out)
    try:
        steady = sup.add(Spec("steady", SLEEPER, {}, ROOT))
        crashing = sup.add(Spec("crashing", CRASHER, {}, ROOT))
        first_pid = steady.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        wait_for(_ticking(sup, lambda: steady.restarts == 1 and steady.pid not in (None, first_pid)), timeout=30)
        assert steady.state == "running" and steady.last_exit == -signal.SIGKILL

        wait_for(_ticking(sup, lambda: crashing.state == "failed"), timeout=30, what="the crash loop to be capped")
        assert crashing.restarts == 2 and crashing.last_exit == 3
        said = out.getvalue()
        assert "steady exited with -9; restarting in" in said
        assert "crashing exited with 3 3 times in 60 s: not restarting it" in said

        status = {p["name"]: p for p in json.loads(status_file.read_text())["processes"]}
        assert status["crashing"]["state"] == "failed"
        assert status["steady"] == {**status["steady"], "state": "running", "pid": steady.pid, "restarts": 1}
        # The rest keep running.
        sup.tick()
        assert steady.proc is not None and steady.proc.poll() is None
    finally:
        sup.stop()
    assert all(p["state"] == "stopped" for p in json.loads(status_file.read_text())["processes"])
