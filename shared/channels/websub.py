"""WebSub deliveries already received: the replay check that outlives the idempotency record.

A WebSub hub signs the body alone (``X-Hub-Signature-256``), with no timestamp and no delivery id, so a
captured delivery verifies for as long as the secret that signed it is valid. Its SHA-256 is therefore kept
until no secret that could have signed it is valid any more (:func:`prune`): a replay is refused however late
it comes, and rotating a source's secret bounds how long the digests are kept. Used by the ingest service's
webhook endpoint and the worker's purge task.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Delete, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import WebhookSecret, WebSubDelivery


async def already_received(session: AsyncSession, *, source_id: uuid.UUID, digest: bytes) -> bool:
    """Whether this source accepted a delivery with this body's digest before."""
    found = await session.scalar(
        select(exists().where(WebSubDelivery.source_id == source_id, WebSubDelivery.digest == digest))
    )
    return bool(found)


async def remember_delivery(session: AsyncSession, *, source_id: uuid.UUID, digest: bytes) -> None:
    """Record the delivery in the transaction that stores its articles."""
    await session.execute(insert(WebSubDelivery).values(source_id=source_id, digest=digest).on_conflict_do_nothing())


def prune() -> Delete:
    """The digests no valid secret can sign any more: received before the oldest secret of their source that
    is still valid was issued (all of them, when the source has no valid secret). Run by the purge task."""
    oldest_valid = (
        select(func.min(WebhookSecret.created_at))
        .where(
            WebhookSecret.source_id == WebSubDelivery.source_id,
            (WebhookSecret.expires_at.is_(None)) | (WebhookSecret.expires_at > func.now()),
        )
        .scalar_subquery()
    )
    return delete(WebSubDelivery).where(WebSubDelivery.received_at < func.coalesce(oldest_valid, func.now()))
