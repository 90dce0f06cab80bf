"""Write accepted articles as ingestion rows: one multi-row INSERT per request, replays resolved by the
``(source, external_id)`` unique index rather than by a look-up first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Ingestion
from shared.ids import uuid7
from shared.schemas.articles import ArticleIn

# One index probe per replayed key (a row-value IN list would scan every row of the source instead).
_FIRST_BY_NATURAL_KEY = text(
    "SELECT i.source, i.external_id, i.id, i.state FROM ingestions AS i"
    " JOIN unnest(CAST(:sources AS text[]), CAST(:external_ids AS text[])) AS k(source, external_id)"
    " ON i.source = k.source AND i.external_id = k.external_id"
    " WHERE i.external_id IS NOT NULL"
)


@dataclass(frozen=True)
class Stored:
    id: uuid.UUID
    state: str
    duplicate: bool


async def store_articles(
    session: AsyncSession, *, articles: Sequence[ArticleIn], channel: str, request_id: str | None
) -> list[Stored]:
    """Insert the articles; a replay of ``(source, external_id)`` gets the first article's id back.

    Returns one result per input, in order. Does not commit.
    """
    if not articles:
        return []
    ids = [uuid7() for _ in articles]
    rows = [
        {
            "id": new_id,
            "source": a.source,
            "external_id": a.external_id,
            "channel": channel,
            "payload": a.payload(),
            "request_id": request_id,
        }
        for new_id, a in zip(ids, articles, strict=True)
    ]
    stmt = (
        insert(Ingestion)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["source", "external_id"], index_where=Ingestion.external_id.isnot(None))
        .returning(Ingestion.id)
    )
    inserted = set((await session.scalars(stmt)).all())

    keys = list({(a.source, a.external_id) for a, i in zip(articles, ids, strict=True) if i not in inserted})
    existing: dict[tuple[str, str | None], tuple[uuid.UUID, str]] = {}
    if keys:
        found = await session.execute(
            _FIRST_BY_NATURAL_KEY, {"sources": [s for s, _ in keys], "external_ids": [e for _, e in keys]}
        )
        existing = {(s, e): (i, st) for s, e, i, st in found}

    results = []
    for article, new_id in zip(articles, ids, strict=True):
        if new_id in inserted:
            results.append(Stored(id=new_id, state="accepted", duplicate=False))
        else:
            first_id, state = existing[(article.source, article.external_id)]
            results.append(Stored(id=first_id, state=state, duplicate=True))
    return results
