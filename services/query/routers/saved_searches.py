"""``/v1/saved-searches``: named searches, optionally delivered to a subscriber as signed Standard Webhooks,
with their delivery log. The only rows the query service writes.

A ``webhook_url`` makes the platform send requests out on the key's behalf: setting one needs the ``deliver``
scope (or ``admin``), and the target is checked when it is saved (its form, and unless private targets are
allowed, that every address it resolves to is public) as well as before each send.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.deps import QuerySettingsDep, SessionDep, WriteSessionDep
from services.query.schemas import (
    ArticlePage,
    AttemptOut,
    DeliveryList,
    DeliveryOut,
    SavedSearchIn,
    SavedSearchList,
    SavedSearchOut,
    SavedSearchUpdate,
)
from services.query.search import Sort, resolve_sort, search_page
from shared.api.auth import Principal, authenticate
from shared.api.errors import ApiError
from shared.api.keys import Scope
from shared.channels.signing import new_secret
from shared.config import get_settings
from shared.dates import STORED
from shared.db.models import Delivery, DeliveryAttempt, SavedSearch
from shared.delivery.messages import message_id
from shared.delivery.settings import get_delivery_settings
from shared.delivery.targets import TargetRefused, check_target, private_targets_allowed
from shared.ids import uuid7
from shared.schemas.errors import error_responses
from shared.search.filters import SearchFilters

router = APIRouter(prefix="/v1/saved-searches", tags=["saved searches"])


def _out(s: SavedSearch, *, secret: str | None = None) -> SavedSearchOut:
    return SavedSearchOut(
        id=s.id,
        name=s.name,
        filters=SearchFilters.model_validate(s.filters, context=STORED),
        webhook_url=s.webhook_url,
        active=s.active,
        disabled_reason=s.disabled_reason,
        created_at=s.created_at,
        updated_at=s.updated_at,
        secret=secret,
    )


async def _target(url: Any, principal: Principal | None) -> str | None:
    if url is None:
        return None
    if principal is None or not principal.allows(Scope.deliver):
        raise ApiError(
            403,
            "a webhook_url makes the platform send requests: this API key lacks the 'deliver' scope",
            code="forbidden",
            field="webhook_url",
        )
    try:
        return await anyio.to_thread.run_sync(
            lambda: check_target(
                str(url), allow_private=private_targets_allowed(get_delivery_settings(), get_settings().env)
            )
        )
    except TargetRefused as exc:
        raise ApiError(422, f"webhook_url {exc}", code="validation_error", field="webhook_url") from exc


async def _get(session: AsyncSession, saved_search_id: uuid.UUID, *, lock: bool = False) -> SavedSearch:
    stmt = select(SavedSearch).where(SavedSearch.id == saved_search_id)
    found = (await session.scalars(stmt.with_for_update() if lock else stmt)).first()
    if found is None:
        raise ApiError(404, f"no saved search {saved_search_id}", field="saved_search_id")
    return found


@router.post(
    "",
    response_model=SavedSearchOut,
    status_code=201,
    summary="Save a search; with `webhook_url`, its new matches are delivered there",
    description="The answer carries the signing `secret` (Standard Webhooks, `whsec_…`) once; keep it to verify "
    "the `webhook-signature` of deliveries.",
    responses=error_responses(400, 403, 422),
)
async def create_saved_search(
    body: SavedSearchIn, session: WriteSessionDep, principal: Annotated[Principal | None, Depends(authenticate)]
) -> SavedSearchOut:
    secret = new_secret()
    target = await _target(body.webhook_url, principal)
    saved = SavedSearch(
        id=uuid7(),
        name=body.name,
        filters=body.filters.model_dump(mode="json", by_alias=True),
        webhook_url=target,
        secret=secret,
        active=body.active,
    )
    session.add(saved)
    await session.flush()
    await session.refresh(saved)
    return _out(saved, secret=secret)


@router.get("", response_model=SavedSearchList, summary="All saved searches, newest first")
async def list_saved_searches(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> SavedSearchList:
    rows = await session.scalars(select(SavedSearch).order_by(SavedSearch.id.desc()).limit(limit))
    return SavedSearchList(items=[_out(s) for s in rows])


@router.get(
    "/{saved_search_id}", response_model=SavedSearchOut, summary="One saved search", responses=error_responses(404)
)
async def get_saved_search(saved_search_id: uuid.UUID, session: SessionDep) -> SavedSearchOut:
    return _out(await _get(session, saved_search_id))


@router.patch(
    "/{saved_search_id}",
    response_model=SavedSearchOut,
    summary="Change a saved search; re-activating it clears the reason it was disabled",
    responses=error_responses(400, 403, 404, 422),
)
async def update_saved_search(
    saved_search_id: uuid.UUID,
    body: SavedSearchUpdate,
    session: WriteSessionDep,
    principal: Annotated[Principal | None, Depends(authenticate)],
) -> SavedSearchOut:
    target = await _target(body.webhook_url, principal) if "webhook_url" in body.model_fields_set else None
    saved = await _get(session, saved_search_id, lock=True)
    given = body.model_fields_set
    if "name" in given and body.name is not None:
        saved.name = body.name
    if "filters" in given and body.filters is not None:
        saved.filters = body.filters.model_dump(mode="json", by_alias=True)
    if "webhook_url" in given:
        saved.webhook_url = target
    if "active" in given and body.active is not None:
        saved.active = body.active
        if body.active:
            saved.disabled_reason = None
    saved.updated_at = func.now()
    await session.flush()
    await session.refresh(saved)
    return _out(saved)


@router.delete(
    "/{saved_search_id}",
    status_code=204,
    summary="Delete a saved search and its delivery log",
    responses=error_responses(404),
)
async def delete_saved_search(saved_search_id: uuid.UUID, session: WriteSessionDep) -> Response:
    await session.delete(await _get(session, saved_search_id, lock=True))
    return Response(status_code=204)


@router.post(
    "/{saved_search_id}/rotate-secret",
    response_model=SavedSearchOut,
    summary="Replace the signing secret; the answer shows the new one once",
    responses=error_responses(404),
)
async def rotate_secret(saved_search_id: uuid.UUID, session: WriteSessionDep) -> SavedSearchOut:
    saved = await _get(session, saved_search_id, lock=True)
    saved.secret = new_secret()
    saved.updated_at = func.now()
    await session.flush()
    await session.refresh(saved)
    return _out(saved, secret=saved.secret)


@router.get(
    "/{saved_search_id}/articles",
    response_model=ArticlePage,
    summary="Run the saved search now",
    responses=error_responses(400, 404),
)
async def run_saved_search(
    saved_search_id: uuid.UUID,
    session: SessionDep,
    settings: QuerySettingsDep,
    sort: Annotated[Sort | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ArticlePage:
    filters = SearchFilters.model_validate((await _get(session, saved_search_id)).filters, context=STORED)
    return await search_page(
        session,
        filters,
        resolve_sort(sort, filters),
        cursor=cursor,
        limit=limit,
        snippet_max_chars=settings.snippet_max_chars,
        relevance_window=settings.relevance_window,
        scan_budget=settings.scan_budget,
    )


@router.get(
    "/{saved_search_id}/deliveries",
    response_model=DeliveryList,
    summary="The delivery log: each webhook message with its attempts, newest first",
    responses=error_responses(404),
)
async def list_deliveries(
    saved_search_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryList:
    await _get(session, saved_search_id)
    deliveries = list(
        await session.scalars(
            select(Delivery)
            .where(Delivery.saved_search_id == saved_search_id)
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(limit)
        )
    )
    attempts: dict[uuid.UUID, list[AttemptOut]] = {}
    if deliveries:
        rows = await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_([d.id for d in deliveries]))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt)
        )
        for a in rows:
            attempts.setdefault(a.delivery_id, []).append(
                AttemptOut(
                    attempt=a.attempt,
                    attempted_at=a.attempted_at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
            )
    return DeliveryList(
        items=[
            DeliveryOut(
                id=d.id,
                webhook_id=message_id(d.id),
                status=d.status,
                attempts=d.attempts,
                article_ids=d.article_ids,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
                created_at=d.created_at,
                next_attempt_at=d.next_attempt_at,
                delivered_at=d.delivered_at,
                attempt_log=attempts.get(d.id, []),
            )
            for d in deliveries
        ]
    )
