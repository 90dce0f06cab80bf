"""``/v1/clusters``: the largest stories of a time window, and one story with its members."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.query.deps import SessionDep
from services.query.params import IncludeWithdrawn, TimeWindow, time_window
from services.query.responses import json_response
from services.query.schemas import ClusterDetail, ClusterPage
from services.query.stories import cluster_detail, largest_clusters
from shared.api.errors import ApiError
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])


@router.get(
    "",
    response_model=ClusterPage,
    summary="The largest stories active in a time window",
    description="Stories whose first-to-last publication span overlaps [`from`, `to`), largest first, with "
    "their canonical article. The window defaults to the last 24 hours.",
    responses=error_responses(400),
)
async def list_clusters(
    session: SessionDep,
    window: Annotated[TimeWindow, Depends(time_window(timedelta(days=1)))],
    min_size: Annotated[
        # The column is a 32-bit integer: a larger bound would be refused by PostgreSQL, not answered.
        int, Query(ge=1, le=2**31 - 1, description="Only stories with at least this many articles.")
    ] = 1,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    include_withdrawn: IncludeWithdrawn = False,
) -> Response:
    page = await largest_clusters(
        session,
        date_from=window.start,
        date_to=window.end,
        min_size=min_size,
        cursor=cursor,
        limit=limit,
        include_withdrawn=include_withdrawn,
    )
    return json_response(page)


@router.get(
    "/{cluster_id}",
    response_model=ClusterDetail,
    summary="One story: its canonical article and its members with the similarity that put each there",
    responses=error_responses(400, 404),
)
async def get_cluster(
    cluster_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Members to list.")] = 100,
    include_withdrawn: IncludeWithdrawn = False,
) -> Response:
    detail = await cluster_detail(session, cluster_id, limit=limit, include_withdrawn=include_withdrawn)
    if detail is None:
        raise ApiError(404, f"no cluster {cluster_id}", field="cluster_id")
    return json_response(detail)
