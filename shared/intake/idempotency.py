"""``Idempotency-Key`` as the IETF draft describes it (draft-ietf-httpapi-idempotency-key-header), and the
webhook delivery id, which is the same mechanism under another header.

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
from sqlalchemy.orm import Session

from shared.api.errors import ApiError
from shared.db.models import IdempotencyKey

MAX_KEY_CHARS = 255

# Webhook deliveries belong to no API key: their scope names the source whose signature they carry.
NO_OWNER = ""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class IdempotencyKeyRef:
    """One caller's key for one kind of request, and the header the caller sent it in.

    ``header`` and ``what`` only word the errors, so a webhook sender reads about its ``webhook-id`` and
    "delivery" rather than about a header it never sent."""

    owner: str
    scope: str
    key: str
    fingerprint: bytes
    header: str = "Idempotency-Key"
    what: str = "request"
    reused_code: str = "idempotency_key_reused"


def request_fingerprint(method: str, path: str, content_type: str | None, body: bytes) -> bytes:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), (content_type or "").encode()):
        h.update(part + b"\x00")
    h.update(body)
    return h.digest()


def owner_of(key_id: object) -> str:
    """The ``owner`` of a caller's keys: its API key's id."""
    return str(key_id) if key_id is not None else NO_OWNER


def check_key(key: str, header: str = "Idempotency-Key") -> None:
    """Refuse a key that cannot be stored or logged safely (400 naming the header)."""
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise ApiError(400, f"{header} must be 1-{MAX_KEY_CHARS} printable characters", field=header)


def claim(session: Session, ref: IdempotencyKeyRef) -> StoredResponse | None:
    """Take the key for this transaction. Returns the stored first response when the same owner used it
    before for the same request; raises 409 while the first is still running, 422 for another request."""
    check_key(ref.key, ref.header)
    locked = session.scalar(
        select(
            func.pg_try_advisory_xact_lock(func.hashtextextended(f"idempotency:{ref.owner}:{ref.scope}:{ref.key}", 0))
        )
    )
    if not locked:
        raise ApiError(
            409,
            f"a {ref.what} with this {ref.header} is still being processed; retry later",
            field=ref.header,
            headers={"Retry-After": "1"},
        )
    row = session.execute(
        select(IdempotencyKey.request_hash, IdempotencyKey.response_status, IdempotencyKey.response_body).where(
            IdempotencyKey.owner == ref.owner, IdempotencyKey.scope == ref.scope, IdempotencyKey.key == ref.key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != ref.fingerprint:
        raise ApiError(
            422, f"this {ref.header} was used with a different {ref.what}", code=ref.reused_code, field=ref.header
        )
    return StoredResponse(status=row.response_status, body=row.response_body)


def remember(session: Session, ref: IdempotencyKeyRef, *, status: int, body: dict[str, Any]) -> None:
    """Record the answer under the key (first writer wins). Does not commit."""
    session.execute(
        insert(IdempotencyKey)
        .values(
            owner=ref.owner,
            scope=ref.scope,
            key=ref.key,
            request_hash=ref.fingerprint,
            response_status=status,
            response_body=body,
        )
        .on_conflict_do_nothing()
    )
