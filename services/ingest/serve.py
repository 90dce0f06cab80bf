"""``python -m services.ingest.serve [uvicorn options]``: the ingest app under uvicorn with one process per
core (``TIDINGS_INGEST_PROCESSES``, default: the cores this process may use), how the image and compose
start it. Options are uvicorn's own (``--host``, ``--port``, ...); ``--workers`` given there wins."""

from __future__ import annotations

import sys

from uvicorn.main import main as uvicorn_main

from shared.config import get_ingest_settings

APP = "services.ingest.main:app"


def argv(options: list[str]) -> list[str]:
    """uvicorn's arguments: the app, the options, and the process count unless the options name one."""
    processes = get_ingest_settings().processes
    workers = [] if "--workers" in options or processes <= 1 else ["--workers", str(processes)]
    return [APP, *options, *workers]


if __name__ == "__main__":
    uvicorn_main.main(args=argv(sys.argv[1:]), prog_name="services.ingest.serve")
