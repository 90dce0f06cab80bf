"""Typed FastAPI dependencies of the ingest service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.api.auth import Principal, authenticate
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


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _celery(request: Request) -> Celery:
    return request.app.state.celery


def _request_id(request: Request) -> str | None:
    """The id the request-id middleware gave this request; carried onto its rows and tasks."""
    return request.scope.get("state", {}).get("request_id")


def _principal(principal: Principal | None = Depends(authenticate)) -> Principal:
    """The caller, as the app-level key check found it (cached per request: one look-up)."""
    if principal is None:
        raise ApiError(401, "an API key is required", code="unauthorized")
    return principal


SessionDep = Annotated[AsyncSession, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CeleryDep = Annotated[Celery, Depends(_celery)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
RequestIdDep = Annotated[str | None, Depends(_request_id)]
