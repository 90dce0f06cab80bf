"""Engine and session factories. Services create them in their lifespan; workers once per process."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from shared.config import DatabaseSettings
from shared.db import jsoncodec, safe_dates


def _connect_args(settings: DatabaseSettings, application_name: str) -> dict[str, object]:
    return {
        "connect_timeout": settings.connect_timeout_s,
        "application_name": application_name,
        "options": f"-c statement_timeout={settings.statement_timeout_ms}",
    }


def make_engine(settings: DatabaseSettings, *, application_name: str = "tidings") -> Engine:
    safe_dates.install()
    return create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,
        connect_args=_connect_args(settings, application_name),
        # The worker reads every payload and its candidates' stored features as JSONB: orjson's speed.
        json_serializer=jsoncodec.dumps,
        json_deserializer=jsoncodec.loads,
    )


def make_async_engine(settings: DatabaseSettings, *, application_name: str = "tidings") -> AsyncEngine:
    safe_dates.install()
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,
        connect_args=_connect_args(settings, application_name),
    )


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def make_async_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
