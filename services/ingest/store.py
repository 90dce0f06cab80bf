"""The ingest service's side of ``shared.revision_store``: its sync functions on the request's
``AsyncSession``, through SQLAlchemy's ``run_sync``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared import revision_store
from shared.revision_store import Stored
from shared.schemas.articles import ArticleIn

__all__ = ["Stored", "store_articles", "withdraw"]


async def store_articles(
    session: AsyncSession,
    *,
    articles: Sequence[ArticleIn],
    channel: str,
    request_id: str | None,
    if_match: int | None = None,
) -> list[Stored]:
    """See :func:`shared.revision_store.store_articles`. Does not commit."""
    return await session.run_sync(
        lambda s: revision_store.store_articles(
            s, articles=articles, channel=channel, request_id=request_id, if_match=if_match
        )
    )


async def withdraw(
    session: AsyncSession, *, article_id: uuid.UUID, reason: str | None, if_match: int | None, request_id: str | None
) -> Stored | None:
    """See :func:`shared.revision_store.withdraw`. Does not commit."""
    return await session.run_sync(
        lambda s: revision_store.withdraw(
            s, article_id=article_id, reason=reason, if_match=if_match, request_id=request_id
        )
    )
