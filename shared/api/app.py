"""The common shape of a Tidings FastAPI app: lifespan-held engine and Redis, middleware, error envelope, and
the API-key check every route goes through (``shared.api.auth``)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.api.auth import AuthPolicy, KeyCache, Scope, authenticate, get_auth_settings
from shared.api.errors import install_error_handlers
from shared.api.health import router as health_router
from shared.api.health import watch_dependencies
from shared.api.middleware import (
    BodySizeLimitMiddleware,
    HttpMetricsMiddleware,
    RequestContextMiddleware,
    RequestDeadlineMiddleware,
    RequestSanityMiddleware,
)
from shared.api.ratelimit import RateLimiter, get_rate_limit_settings
from shared.config import Settings, settings_getter
from shared.db.engine import make_async_engine, make_async_sessionmaker
from shared.logging import configure_logging
from shared.metrics import get_metrics_settings
from shared.schemas.errors import error_responses

Hook = Callable[[FastAPI], Any]


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_API_", extra="ignore")

    # Above the database statement timeout (30 s), so a slow query fails as itself before this fires.
    request_timeout_s: float = 45.0


get_api_settings = settings_getter(ApiSettings)


def create_service_app(
    settings: Settings,
    *,
    service: str,
    title: str,
    description: str,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
    public_prefixes: tuple[str, ...] = (),
    max_body_bytes: int,
) -> FastAPI:
    """A FastAPI app where every route but ``/healthz``, ``/readyz`` and ``public_prefixes`` needs an API key
    with the service's scope (``ingest`` or ``query``); routers may demand more with ``require_scope``.

    ``max_body_bytes`` is the service's own request body limit (413 above it): article-sized on the ingest
    service, whatever the query service's settings say on the query service."""
    configure_logging(settings.observability, service=service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = make_async_engine(settings.database, application_name=f"tidings-{service}")
        app.state.sessionmaker = make_async_sessionmaker(app.state.engine)
        app.state.redis = aioredis.Redis.from_url(
            settings.redis.url,
            socket_timeout=settings.redis.socket_timeout_s,
            socket_connect_timeout=settings.redis.socket_timeout_s,
        )
        app.state.rate_limiter = RateLimiter(app.state.redis, get_rate_limit_settings())
        app.state.key_cache = KeyCache(get_auth_settings().key_cache_ttl_s)
        if on_startup:
            await on_startup(app)
        watcher = asyncio.create_task(watch_dependencies(app, get_metrics_settings().collect_interval_s))
        # What exists now (modules, the app, its routes and schemas: ~175k objects) lives as long as the
        # process. Frozen, it is out of the collector's walk: a full collection, which stops every request of
        # the process while it runs, otherwise walks it all (40 ms on a quiet core, over a second at load 10).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            watcher.cancel()
            if on_shutdown:
                await on_shutdown(app)
            await app.state.redis.aclose()
            await app.state.engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        # The one place keys are enforced: an app-level dependency runs before every route's own.
        dependencies=[Depends(authenticate)],
        # Every route can answer these, from the key check, the middleware or an outage.
        responses=error_responses(400, 401, 403, 413, 422, 429, 503),
        # The services report through Prometheus and structlog. FastAPI's own OpenTelemetry hooks, left on,
        # look up three global providers on every request to find that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    service_scope = {"ingest": Scope.ingest, "query": Scope.query}.get(service)
    app.state.auth_policy = AuthPolicy(
        service_scope=service_scope,
        public_prefixes=public_prefixes,
        open=service_scope is Scope.query and get_auth_settings().open_query,
    )
    app.add_middleware(RequestDeadlineMiddleware, timeout_s=get_api_settings().request_timeout_s)
    app.add_middleware(RequestSanityMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, limit=max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(HttpMetricsMiddleware, service=service)
    install_error_handlers(app)
    app.include_router(health_router)
    return app
