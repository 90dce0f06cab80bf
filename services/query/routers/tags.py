"""``/v1/tags``: the tags in use, with the number of articles carrying each.

Counts come from ``tag_stats``, a materialised view the worker refreshes periodically (counting every tag row
per request would take seconds on a large archive); ``counted_at`` says how fresh they are. For exact,
current counts among a search's matches, use ``/v1/facets``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import DateTime, Integer, Text, column, func, select, table

from services.query.deps import SessionDep
from services.query.schemas import TagCount, TagList
from shared.schemas.errors import error_responses
from shared.tagging.vocabulary import vocabulary

router = APIRouter(prefix="/v1/tags", tags=["tags"])

# The kinds of the tag vocabulary (a plug-in tagger's included); mypy sees a plain string.
if TYPE_CHECKING:
    Kind = str
else:
    Kind = Literal[vocabulary().kind_names]

tag_stats = table(
    "tag_stats",
    column("kind", Text),
    column("value", Text),
    column("name", Text),
    column("articles", Integer),
    column("counted_at", DateTime(timezone=True)),
)


@router.get(
    "",
    response_model=TagList,
    summary="Tags with their article counts, most used first",
    responses=error_responses(400),
)
async def list_tags(
    session: SessionDep,
    kind: Annotated[Kind | None, Query(description="Only this kind.")] = None,
    prefix: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Names starting with this, any case.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TagList:
    stmt = select(tag_stats)
    if kind:
        stmt = stmt.where(tag_stats.c.kind == kind)
    if prefix:
        stmt = stmt.where(func.lower(tag_stats.c.name).startswith(prefix.lower(), autoescape=True))
    rows = (
        await session.execute(
            stmt.order_by(tag_stats.c.articles.desc(), tag_stats.c.kind, tag_stats.c.value).limit(limit)
        )
    ).all()
    counted_at: datetime | None = rows[0].counted_at if rows else None
    return TagList(
        items=[TagCount(kind=r.kind, value=r.value, name=r.name, count=int(r.articles)) for r in rows],
        counted_at=counted_at,
    )
