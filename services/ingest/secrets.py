"""Look-ups of sources and their currently valid webhook secrets, shared by the sources and webhook routers."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Source, WebhookSecret


def secret_is_valid() -> ColumnElement[bool]:
    """A secret is valid until its expiry; NULL means until the next rotation. Judged on the database clock."""
    return or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > func.now())


async def webhook_secrets(session: AsyncSession, source_name: str) -> tuple[Source | None, list[str]]:
    """The source and its valid secrets' values, in one query."""
    rows = (
        await session.execute(
            select(Source, WebhookSecret.secret)
            .outerjoin(WebhookSecret, (WebhookSecret.source_id == Source.id) & secret_is_valid())
            .where(Source.name == source_name)
        )
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [secret for _, secret in rows if secret is not None]
