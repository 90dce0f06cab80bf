"""Typed FastAPI dependencies of the ingest service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.api.auth import Principal
from shared.api.errors import ApiError
from shared.config import Settings


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; rolled back if the handler fails. Handlers commit explicitly, because the
    commit must precede both the queueing of the work and the 2xx."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


# The dependencies below are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency
# in its thread pool, a thread hand-off per dependency per request.


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


def request_id_of(request: Request) -> str | None:
    """The id the request-id middleware gave this request; carried onto its rows and tasks."""
    return request.scope.get("state", {}).get("request_id")


async def _principal(request: Request) -> Principal:
    """The caller, as the app-level key check found it: that dependency runs before every route's own and
    leaves the principal on the request (read here rather than depended on again, which FastAPI would
    resolve a second time, sub-dependencies and all)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise ApiError(401, "an API key is required", code="unauthorized")
    return principal


SessionDep = Annotated[AsyncSession, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
