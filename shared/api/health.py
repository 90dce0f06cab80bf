"""``/healthz`` (the process is alive) and ``/readyz`` (PostgreSQL and Redis answer) for every service, and
the same checks run periodically for the ``tidings_dependency_up`` gauge."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shared.metrics import DEPENDENCY_UP

router = APIRouter(tags=["health"])


async def check_dependencies(app: FastAPI, *, broker: bool = False) -> dict[str, str]:
    """``{dependency: "ok" | "unavailable: <error>"}`` for PostgreSQL, Redis and, if ``broker`` and the app
    sends tasks, the Celery broker. Readiness leaves the broker out: articles are accepted without it (they
    are durable in PostgreSQL and the sweeper queues them later), so it must not take ingest out of service."""
    checks: dict[str, str] = {}
    try:
        async with app.state.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=3)
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"unavailable: {type(exc).__name__}"
    try:
        await asyncio.wait_for(app.state.redis.ping(), timeout=3)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
    celery = getattr(app.state, "celery", None)
    if broker and celery is not None:
        checks["broker"] = await anyio.to_thread.run_sync(_broker_check, celery)
    return checks


def _broker_check(celery: Any) -> str:
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
        return "ok"
    except Exception as exc:  # kombu raises the transport's own errors
        return f"unavailable: {type(exc).__name__}"


async def watch_dependencies(app: FastAPI, interval_s: float) -> None:
    """Publish ``check_dependencies`` as ``tidings_dependency_up`` every ``interval_s``, until cancelled."""
    while True:
        with suppress(Exception):  # a failed round leaves the last values; the next one retries
            for name, result in (await check_dependencies(app, broker=True)).items():
                DEPENDENCY_UP.labels(dependency=name).set(1 if result == "ok" else 0)
        await asyncio.sleep(interval_s)


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: PostgreSQL and Redis reachable",
    responses={503: {"description": "A dependency does not answer"}},
)
async def readyz(request: Request) -> JSONResponse:
    checks = await check_dependencies(request.app)
    ready = all(v == "ok" for v in checks.values())
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        {"error": {"code": "unavailable", "message": "not ready", "details": checks}},
        status_code=503,
        headers={"Retry-After": "5"},
    )
