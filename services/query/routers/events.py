"""``/v1/events``: events (different stories about one happening) of a time window, and one event."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.query.deps import SessionDep
from services.query.events import EventSort, event_detail, list_events
from services.query.params import IncludeWithdrawn, TimeWindow, time_window
from services.query.responses import json_response
from services.query.schemas import EventDetail, EventPage
from shared.api.errors import ApiError
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get(
    "",
    response_model=EventPage,
    summary="Events active in a time window, newest or largest first",
    description="Events whose first-to-last publication span overlaps [`from`, `to`) (default: the last 7 "
    "days), each with its copy clusters, sources, first and last seen, size and top entities and places. "
    "Articles of one event: `/v1/articles?event={id}`; its facets and volume: the same `event=` filter on "
    "`/v1/facets` and `/v1/timeseries`.",
    responses=error_responses(400),
)
async def get_events(
    session: SessionDep,
    window: Annotated[TimeWindow, Depends(time_window(timedelta(days=7)))],
    sort: Annotated[EventSort, Query(description="`newest` (latest article first) or `largest`.")] = "newest",
    min_size: Annotated[
        # The column is a 32-bit integer: a larger bound would be refused by PostgreSQL, not answered.
        int, Query(ge=1, le=2**31 - 1, description="Only events with at least this many articles.")
    ] = 1,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    include_withdrawn: IncludeWithdrawn = False,
) -> Response:
    page = await list_events(
        session,
        date_from=window.start,
        date_to=window.end,
        sort=sort,
        min_size=min_size,
        cursor=cursor,
        limit=limit,
        include_withdrawn=include_withdrawn,
    )
    return json_response(page)


@router.get(
    "/{event_id}",
    response_model=EventDetail,
    summary="One event: its clusters, sources, top entities and places, and its members with the evidence",
    responses=error_responses(400, 404),
)
async def get_event(
    event_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Members to list.")] = 100,
    include_withdrawn: IncludeWithdrawn = False,
) -> Response:
    detail = await event_detail(session, event_id, limit=limit, include_withdrawn=include_withdrawn)
    if detail is None:
        raise ApiError(404, f"no event {event_id}", field="event_id")
    return json_response(detail)
