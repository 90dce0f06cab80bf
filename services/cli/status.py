"""``tidings status``: what ``make run`` is running, from the status file its supervisor keeps, each process
probed (``/healthz`` of the APIs, the exporters' ``/metrics`` of worker and beat).

Exits 0 when the supervisor is alive and every process answers, 1 otherwise, so scripts can wait on it.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_STATUS_FILE = Path(".data") / "run-status.json"


def register(subparsers: Any) -> None:
    status = subparsers.add_parser("status", help="show the processes of `make run` and probe each")
    status.add_argument("--status-file", type=Path, default=DEFAULT_STATUS_FILE, help=f"default: {DEFAULT_STATUS_FILE}")
    status.set_defaults(func=_status)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but alive
        return True
    return True


def _probe(process: dict[str, Any]) -> str:
    import httpx

    url = f"{process['url']}/healthz" if process.get("url") else process.get("metrics_url")
    if not url:
        return "-"
    try:
        code = httpx.get(url, timeout=2).status_code
    except httpx.HTTPError as exc:
        return f"no answer ({type(exc).__name__})"
    return "healthy" if code == 200 else f"HTTP {code}"


def _status(args: argparse.Namespace) -> int:
    try:
        status = json.loads(args.status_file.read_text())
    except FileNotFoundError:
        print(f"no status file at {args.status_file}: `make run` has not run here")
        return 1
    supervisor = status.get("supervisor_pid")
    if not _alive(supervisor):
        print(f"make run is not running (supervisor pid {supervisor} gone; last update {status.get('updated_at')})")
        return 1
    print(f"make run: supervisor pid {supervisor}, updated {status.get('updated_at')}")
    ok = True
    for process in status.get("processes", []):
        health = _probe(process) if process.get("state") in ("running", "starting") else "-"
        ok = ok and process.get("state") == "running" and health == "healthy"
        exit_note = f" last exit {process['last_exit']}" if process.get("last_exit") is not None else ""
        print(
            f"  {process['name']:<7} {process['state']:<10} pid {process.get('pid') or '-':<8} "
            f"restarts {process.get('restarts', 0)}{exit_note}  {health}  "
            f"{process.get('url') or process.get('metrics_url') or ''}".rstrip()
        )
    return 0 if ok else 1
