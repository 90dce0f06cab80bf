"""``/v1/timeseries``: a search's matches counted per hour, day or week, zero-filled, in a time zone."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.query.deps import QuerySettingsDep, SessionDep
from services.query.params import FiltersDep
from services.query.responses import json_response
from services.query.schemas import TimeSeriesOut
from services.query.timeseries import Interval, time_series
from shared.api.errors import ApiError
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/timeseries", tags=["timeseries"])


def _zone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(400, f"unknown time zone {tz!r}: use an IANA name such as Europe/Paris", field="tz") from exc
    return tz


@router.get(
    "",
    response_model=TimeSeriesOut,
    summary="Counts of a search's matches per interval",
    description="Takes the same `q` and filters as `/v1/articles`. Buckets run from `from` to `to` when given, "
    "else from the first to the last match; empty buckets are included with a count of 0.",
    responses=error_responses(400),
)
async def get_timeseries(
    session: SessionDep,
    settings: QuerySettingsDep,
    filters: FiltersDep,
    interval: Annotated[Interval, Query(description="Bucket size.")] = "day",
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the buckets.")] = "UTC",
) -> Response:
    series = await time_series(
        session,
        filters,
        interval=interval,
        tz=_zone(tz),
        max_buckets=settings.max_timeseries_buckets,
        use_hour_counts=settings.use_hour_counts,
    )
    return json_response(series)
