"""``/v1/api-keys``: create (the key is shown once), list, inspect, grant sources to and revoke API keys
(admin scope). What a key may write: ``services/ingest/authority.py``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, insert, select, update

from services.ingest.deps import SessionDep
from shared.api.auth import require_scope
from shared.api.errors import ApiError
from shared.api.keys import Scope, new_key
from shared.api.ratelimit import keys_changed
from shared.db.models import ApiKey
from shared.schemas.api_keys import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPatch
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], dependencies=[Depends(require_scope(Scope.admin))])

_COLUMNS = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.scopes,
    ApiKey.rate_limit_per_minute,
    ApiKey.created_at,
    ApiKey.expires_at,
    ApiKey.last_used_at,
    ApiKey.revoked_at,
    ApiKey.sources,
)


def _out(row: Any) -> ApiKeyOut:
    return ApiKeyOut.model_validate(dict(row._mapping))


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create a key; the answer holds the key itself, shown this once",
)
async def create_key(body: ApiKeyIn, session: SessionDep) -> JSONResponse:
    made = new_key(
        name=body.name,
        scopes=body.scopes,
        rate_limit_per_minute=body.rate_limit_per_minute,
        expires_at=body.expires_at,
        sources=body.sources,
    )
    row = (await session.execute(insert(ApiKey).values(**made.values).returning(*_COLUMNS))).one()
    await session.commit()
    created = ApiKeyCreated(**_out(row).model_dump(), key=made.key)
    # The secret must not linger in caches or proxies.
    return JSONResponse(
        created.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/api-keys/{made.id}", "Cache-Control": "no-store"},
    )


@router.get("", response_model=list[ApiKeyOut], summary="The keys, newest first (never the secrets)")
async def list_keys(
    session: SessionDep,
    include_revoked: Annotated[bool, Query(description="Also list revoked keys.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ApiKeyOut]:
    stmt = select(*_COLUMNS).order_by(ApiKey.id.desc()).limit(limit)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return [_out(r) for r in (await session.execute(stmt)).all()]


@router.get("/{key_id}", response_model=ApiKeyOut, summary="One key", responses=error_responses(404))
async def get_key(key_id: uuid.UUID, session: SessionDep) -> ApiKeyOut:
    row = (await session.execute(select(*_COLUMNS).where(ApiKey.id == key_id))).first()
    if row is None:
        raise ApiError(404, f"no API key {key_id}", field="key_id")
    return _out(row)


@router.patch(
    "/{key_id}",
    response_model=ApiKeyOut,
    summary="Grant a key its sources: the list replaces the previous one; null lifts the list",
    responses=error_responses(404, 422),
)
async def patch_key(key_id: uuid.UUID, body: ApiKeyPatch, session: SessionDep, request: Request) -> ApiKeyOut:
    sources = sorted(set(body.sources)) if body.sources is not None else None
    row = (
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(sources=sources).returning(*_COLUMNS))
    ).first()
    if row is None:
        raise ApiError(404, f"no API key {key_id}", field="key_id")
    await session.commit()
    await keys_changed(request.app.state.redis)
    return _out(row)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke a key: refused from the next request on; revoking twice is harmless",
    responses=error_responses(404),
)
async def revoke_key(key_id: uuid.UUID, session: SessionDep, request: Request) -> ApiKeyOut:
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=func.now())
    )
    row = (await session.execute(select(*_COLUMNS).where(ApiKey.id == key_id))).first()
    if row is None:
        raise ApiError(404, f"no API key {key_id}", field="key_id")
    await session.commit()
    await keys_changed(request.app.state.redis)
    return _out(row)
