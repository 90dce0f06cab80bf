"""The common shape of a Tidings FastAPI app: lifespan-held engine and Redis, middleware, error envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI

from shared.api.errors import install_error_handlers
from shared.api.health import router as health_router
from shared.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from shared.config import Settings
from shared.db.engine import make_async_engine, make_async_sessionmaker
from shared.logging import configure_logging

Hook = Callable[[FastAPI], Any]


def create_service_app(
    settings: Settings,
    *,
    service: str,
    title: str,
    description: str,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
) -> FastAPI:
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
        if on_startup:
            await on_startup(app)
        try:
            yield
        finally:
            if on_shutdown:
                await on_shutdown(app)
            await app.state.redis.aclose()
            await app.state.engine.dispose()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.ingest.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    app.include_router(health_router)
    return app
