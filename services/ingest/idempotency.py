"""``Idempotency-Key`` as the IETF draft describes it (draft-ietf-httpapi-idempotency-key-header).

Same key and same request: the first response again. Same key, another request: 422. The first request still
in progress: 409. The key is held by a transaction-scoped advisory lock while the first request runs, and its
answer is stored in the same transaction as the articles, so a key never outlives or precedes its effect.

Keys belong to their caller (``owner``: the API key's id): another client sending the same key string, even
with the same body, gets its own processing and never sees the first client's answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.api.errors import ApiError
from shared.db.models import IdempotencyKey

MAX_KEY_CHARS = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def request_fingerprint(method: str, path: str, content_type: str | None, body: bytes) -> bytes:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), (content_type or "").encode()):
        h.update(part + b"\x00")
    h.update(body)
    return h.digest()


# Webhook deliveries belong to no API key: their scope names the source whose signature they carry.
NO_OWNER = ""


def owner_of(key_id: object) -> str:
    """The ``owner`` of a caller's keys: its API key's id."""
    return str(key_id) if key_id is not None else NO_OWNER


async def claim(
    session: AsyncSession, *, owner: str, scope: str, key: str, fingerprint: bytes
) -> StoredResponse | None:
    """Take ``owner``'s key for this transaction. Returns the stored first response when the key was used
    before by the same owner."""
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise ApiError(400, f"Idempotency-Key must be 1-{MAX_KEY_CHARS} printable characters", field="Idempotency-Key")
    locked = await session.scalar(
        select(func.pg_try_advisory_xact_lock(func.hashtextextended(f"idempotency:{owner}:{scope}:{key}", 0)))
    )
    if not locked:
        raise ApiError(
            409,
            "a request with this Idempotency-Key is still being processed; retry later",
            field="Idempotency-Key",
            headers={"Retry-After": "1"},
        )
    row = (
        await session.execute(
            select(IdempotencyKey.request_hash, IdempotencyKey.response_status, IdempotencyKey.response_body).where(
                IdempotencyKey.owner == owner, IdempotencyKey.scope == scope, IdempotencyKey.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ApiError(
            422,
            "this Idempotency-Key was used with a different request",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return StoredResponse(status=row.response_status, body=row.response_body)


async def remember(
    session: AsyncSession,
    *,
    owner: str,
    scope: str,
    key: str,
    fingerprint: bytes,
    status: int,
    body: dict[str, Any],
) -> None:
    await session.execute(
        insert(IdempotencyKey)
        .values(owner=owner, scope=scope, key=key, request_hash=fingerprint, response_status=status, response_body=body)
        .on_conflict_do_nothing()
    )
