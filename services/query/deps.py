"""Typed FastAPI dependencies of the query service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.settings import QuerySettings


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session per request, in autocommit (see ``services.query.main``)."""
    async with request.app.state.read_sessionmaker() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session that commits when the handler succeeds and rolls back when it raises."""
    async with request.app.state.sessionmaker.begin() as session:
        yield session


# Plain lookups declared async: FastAPI runs a sync dependency in its thread pool, a hand-off per request.
async def _settings(request: Request) -> QuerySettings:
    settings: QuerySettings = request.app.state.query_settings
    return settings


async def _redis(request: Request) -> aioredis.Redis:
    client: aioredis.Redis = request.app.state.redis
    return client


SessionDep = Annotated[AsyncSession, Depends(_session)]
# scope="function": the commit runs before the answer is sent, so a client that reads after a 2xx sees the
# change (with the default scope it runs after the response, and a GET right after a DELETE could still find it).
WriteSessionDep = Annotated[AsyncSession, Depends(_write_session, scope="function")]
QuerySettingsDep = Annotated[QuerySettings, Depends(_settings)]
RedisDep = Annotated[aioredis.Redis, Depends(_redis)]
