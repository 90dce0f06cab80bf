"""``/v1/export``: a search's results streamed as CSV or JSON Lines, however many there are.

The export walks the results with the same keyset pagination as ``/v1/articles``, one chunk per short
transaction, writing each chunk out before reading the next: memory stays at one chunk, no transaction stays
open for the length of a download, and no connection is held while the client is slow to read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.query.deps import QuerySettingsDep
from services.query.params import FiltersDep
from services.query.schemas import ArticleItem
from services.query.search import Sort, resolve_sort, search_page
from services.query.settings import QuerySettings
from shared.api.errors import ApiError
from shared.schemas.errors import error_responses
from shared.search.filters import SearchFilters

router = APIRouter(prefix="/v1/export", tags=["export"])

CSV_COLUMNS = (
    "id", "published_at", "source", "language", "title", "summary", "url", "cluster_id", "is_canonical",
    "topics", "places", "people", "organisations",
)  # fmt: skip
_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}


def _tag_fields(item: ArticleItem, kind: str, field: str) -> str:
    # List items carry their tags as PostgreSQL built them: {kind: [{value, name, score}]}.
    tags = cast(dict[str, list[dict[str, Any]]], item.tags)
    return "; ".join(str(t[field]) for t in tags.get(kind, []))


def _csv_row(item: ArticleItem) -> list[Any]:
    return [
        item.id, item.published_at.isoformat(), item.source, item.language or "", item.title, item.summary or "",
        item.url or "", item.cluster_id or "", "true" if item.is_canonical else "false",
        _tag_fields(item, "topic", "value"), _tag_fields(item, "place", "name"), _tag_fields(item, "person", "name"),
        _tag_fields(item, "organisation", "name"),
    ]  # fmt: skip


async def _chunks(
    request: Request, filters: SearchFilters, sort: Sort, *, chunk: int, limit: int, settings: QuerySettings
) -> AsyncIterator[list[ArticleItem]]:
    cursor: str | None = None
    sent = 0
    sessions = request.app.state.sessionmaker
    while sent < limit:
        async with sessions() as session:
            page = await search_page(
                session,
                filters,
                sort,
                cursor=cursor,
                limit=min(chunk, limit - sent),
                snippet_max_chars=0,
                relevance_window=settings.relevance_window,
                scan_budget=settings.scan_budget,
            )
        if page.items:
            yield page.items
        sent += len(page.items)
        cursor = page.next_cursor
        if cursor is None or await request.is_disconnected():
            return


@router.get(
    "",
    summary="Stream a search's results as CSV or JSON Lines",
    description="Takes the same `q`, filters and `sort` as `/v1/articles`. JSON Lines carries each article as "
    "in search results (tags included); CSV flattens the tags into topic codes and place, people and "
    "organisation names.",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/jsonl": {"schema": {"type": "string"}}}
        },
        **error_responses(400),
    },
)
async def export(
    request: Request,
    settings: QuerySettingsDep,
    filters: FiltersDep,
    format: Annotated[Literal["csv", "jsonl"], Query(description="Output format.")] = "jsonl",
    sort: Annotated[Sort | None, Query(description="As for `/v1/articles`.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Stop after this many articles.")] = None,
) -> StreamingResponse:
    if limit is not None and limit > settings.export_max_rows:
        raise ApiError(400, f"limit must be at most {settings.export_max_rows}", field="limit")
    resolved = resolve_sort(sort, filters)
    total = limit or settings.export_max_rows

    async def body() -> AsyncIterator[bytes]:
        if format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            yield buffer.getvalue().encode()
        chunks = _chunks(request, filters, resolved, chunk=settings.export_chunk_rows, limit=total, settings=settings)
        async for items in chunks:
            if format == "csv":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerows(_csv_row(i) for i in items)
                yield buffer.getvalue().encode()
            else:
                yield "".join(i.model_dump_json(warnings=False) + "\n" for i in items).encode()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        body(),
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="tidings-export-{stamp}.{format}"'},
    )
