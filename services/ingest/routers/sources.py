"""``/v1/sources``: who sends articles, and the webhook signing secrets of those that send webhooks.

A secret is answered once, when it is issued (on creation with ``webhooks: true``, when webhooks are turned
on, or on rotation); afterwards only its id and validity are shown. Rotation keeps the previous secrets
valid for a grace period, so a partner can switch without a failed delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingest.deps import SessionDep
from services.ingest.secrets import secret_is_valid
from shared.api.errors import ApiError
from shared.channels.settings import get_channel_settings
from shared.channels.signing import new_secret
from shared.db.models import Source, WebhookSecret
from shared.ids import uuid7
from shared.schemas.errors import error_responses
from shared.schemas.sources import SOURCE_NAME_PATTERN, SourceIn, SourceOut, SourcePatch, SourceWithSecret
from shared.schemas.webhook_secrets import RotateIn, SecretInfo, SecretRotated

router = APIRouter(prefix="/v1/sources", tags=["sources"])

NamePath = Annotated[str, Path(pattern=SOURCE_NAME_PATTERN, description="The source's name.")]


async def _secrets(session: AsyncSession, source_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SecretInfo]]:
    """The valid secrets of many sources in one query."""
    out: dict[uuid.UUID, list[SecretInfo]] = {i: [] for i in source_ids}
    if not source_ids:
        return out
    rows = await session.execute(
        select(WebhookSecret.source_id, WebhookSecret.id, WebhookSecret.created_at, WebhookSecret.expires_at)
        .where(WebhookSecret.source_id.in_(source_ids), secret_is_valid())
        .order_by(WebhookSecret.created_at)
    )
    for r in rows:
        out[r.source_id].append(SecretInfo(id=r.id, created_at=r.created_at, expires_at=r.expires_at))
    return out


def _out(source: Source, secrets: list[SecretInfo], secret: str | None = None) -> SourceWithSecret:
    return SourceWithSecret(
        name=source.name,
        description=source.description,
        webhooks=source.webhooks,
        active=source.active,
        created_at=source.created_at,
        updated_at=source.updated_at,
        secrets=secrets,
        secret=secret,
    )


async def _issue_secret(session: AsyncSession, source_id: uuid.UUID) -> str:
    secret = new_secret()
    session.add(WebhookSecret(id=uuid7(), source_id=source_id, secret=secret))
    await session.flush()
    return secret


async def _get(session: AsyncSession, name: str, *, lock: bool = False) -> Source:
    stmt = select(Source).where(Source.name == name)
    if lock:
        stmt = stmt.with_for_update()
    source = await session.scalar(stmt)
    if source is None:
        raise ApiError(404, f"no source {name!r}", field="name")
    return source


@router.post(
    "",
    status_code=201,
    response_model=SourceWithSecret,
    summary="Register a source; with webhooks, its signing secret is answered this once",
    responses=error_responses(409, 422),
)
async def create_source(body: SourceIn, session: SessionDep) -> SourceWithSecret:
    source_id = await session.scalar(
        insert(Source)
        .values(id=uuid7(), name=body.name, description=body.description, webhooks=body.webhooks)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(Source.id)
    )
    if source_id is None:
        raise ApiError(409, f"a source named {body.name!r} exists", code="source_exists", field="name")
    secret = await _issue_secret(session, source_id) if body.webhooks else None
    source = await _get(session, body.name)
    secrets = (await _secrets(session, [source_id]))[source_id]
    await session.commit()
    return _out(source, secrets, secret)


@router.get("", response_model=list[SourceOut], summary="All sources, by name")
async def list_sources(session: SessionDep) -> list[SourceOut]:
    sources = list(await session.scalars(select(Source).order_by(Source.name)))
    secrets = await _secrets(session, [s.id for s in sources])
    return [SourceOut.model_validate(_out(s, secrets[s.id]).model_dump(exclude={"secret"})) for s in sources]


@router.get("/{name}", response_model=SourceOut, summary="One source", responses=error_responses(400, 404))
async def get_source(name: NamePath, session: SessionDep) -> SourceOut:
    source = await _get(session, name)
    secrets = (await _secrets(session, [source.id]))[source.id]
    return SourceOut.model_validate(_out(source, secrets).model_dump(exclude={"secret"}))


@router.patch(
    "/{name}",
    response_model=SourceWithSecret,
    summary="Change a source; turning webhooks on issues a secret, answered this once",
    responses=error_responses(400, 404, 422),
)
async def patch_source(name: NamePath, body: SourcePatch, session: SessionDep) -> SourceWithSecret:
    source = await _get(session, name, lock=True)
    changes = body.model_dump(exclude_unset=True)
    for field in ("webhooks", "active"):
        if field in changes and changes[field] is None:
            raise ApiError(422, f"{field} must be true or false", field=field)
    for field, value in changes.items():
        setattr(source, field, value)
    source.updated_at = await session.scalar(select(func.now()))  # type: ignore[assignment]
    secret = None
    if source.webhooks and not (await _secrets(session, [source.id]))[source.id]:
        secret = await _issue_secret(session, source.id)
    await session.flush()
    secrets = (await _secrets(session, [source.id]))[source.id]
    await session.commit()
    return _out(source, secrets, secret)


@router.post(
    "/{name}/rotate-secret",
    status_code=201,
    response_model=SecretRotated,
    summary="Issue a new signing secret; the previous ones stay valid for the grace period",
    responses=error_responses(400, 404, 409, 422),
)
async def rotate_secret(
    name: NamePath, session: SessionDep, body: Annotated[RotateIn | None, Body()] = None
) -> SecretRotated:
    source = await _get(session, name, lock=True)  # serialises concurrent rotations of one source
    if not source.webhooks:
        raise ApiError(409, f"webhooks are not enabled for {name!r}; PATCH it with webhooks: true", field="name")
    grace_s = body.grace_period_s if body and body.grace_period_s is not None else get_channel_settings().secret_grace_s
    now: datetime = await session.scalar(select(func.now()))  # type: ignore[assignment]
    until = now + timedelta(seconds=grace_s)
    await session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.source_id == source.id,
            or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > until),
        )
        .values(expires_at=until)
    )
    secret = await _issue_secret(session, source.id)
    await session.commit()
    return SecretRotated(source=name, secret=secret, previous_valid_until=until)
