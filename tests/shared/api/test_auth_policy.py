"""The key check's policy without the services: what is public, what the open query setting opens, and
the rate limiter's behaviour when Redis is away."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from shared.api.app import create_service_app
from shared.api.ratelimit import RateLimiter, RateLimitSettings
from shared.config import get_settings, reset_settings
from tests.support import free_port

if TYPE_CHECKING:
    from tests.conftest import TestInfra


def _app(service: str) -> FastAPI:
    app = create_service_app(
        get_settings(), service=service, title="t", description="t", max_body_bytes=get_settings().ingest.max_body_bytes
    )

    @app.get("/v1/things")
    async def things() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def _get(app: FastAPI, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_the_open_query_setting_opens_the_query_api_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _get(_app("query"), "/v1/things").status_code == 401
    monkeypatch.setenv("TIDINGS_AUTH_OPEN_QUERY", "true")
    reset_settings()
    assert _get(_app("query"), "/v1/things").json() == {"ok": "yes"}
    refused = _get(_app("ingest"), "/v1/things")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def test_health_is_public_and_documented_as_needing_no_key_elsewhere() -> None:
    app = _app("ingest")
    assert _get(app, "/healthz").json() == {"status": "ok"}
    schema = app.openapi()
    assert set(schema["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    assert {"401", "403", "429", "503"} <= set(schema["paths"]["/v1/things"]["get"]["responses"])


def test_the_rate_limiter_lets_requests_through_when_redis_is_away() -> None:
    async def go() -> bool:
        client = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
        try:
            decision = await RateLimiter(client, RateLimitSettings(redis_timeout_s=1.0)).hit("k", 1)
        finally:
            await client.aclose()
        return decision.allowed

    assert asyncio.run(go())


def test_the_limit_allows_a_burst_then_spaces_requests(test_infra: TestInfra) -> None:
    async def go() -> list[tuple[bool, int]]:
        client = aioredis.Redis.from_url(test_infra.redis_url)
        limiter = RateLimiter(client, RateLimitSettings(burst_seconds=10))
        try:
            key = f"unit-{free_port()}"
            return [((d := await limiter.hit(key, 60)).allowed, d.retry_after_s) for _ in range(12)]
        finally:
            await client.aclose()

    decisions = asyncio.run(go())
    # 60 a minute with 10 seconds of burst: ten at once, then one a second.
    assert [allowed for allowed, _ in decisions] == [True] * 10 + [False] * 2
    assert all(retry == 1 for allowed, retry in decisions if not allowed)
