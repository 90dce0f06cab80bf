"""Time series: matching articles counted per hour, day or week in a time zone, zero-filled.

PostgreSQL buckets with ``date_trunc(interval, published_at, tz)``, which follows the zone's daylight-saving
rules (a day in Europe/Paris is 23 or 25 hours twice a year). The empty buckets are filled here, walking the
zone's local calendar with ``zoneinfo``, between ``from`` and ``to`` when given, else between the first and
last non-empty bucket.

Counting is two steps: the matches are first counted per fixed UTC bin (``date_bin``, plain arithmetic),
then the bins, a few thousand at most, are truncated in the zone. A time-zone-aware ``date_trunc`` on each of
hundreds of thousands of rows costs twice the scan that finds them. A bin never straddles a local bucket:
bins are whole UTC hours, or quarter hours for the zones whose offset is not a whole number of hours (India,
Nepal, Newfoundland...). The hourly bins of a filter-only request are read from the counts kept per hour
(``services.query.hour_counts``) rather than counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.query import hour_counts
from services.query.schemas import TimeBucket, TimeSeriesOut
from shared.api.errors import ApiError
from shared.dates import get_date_settings
from shared.db.models import Article
from shared.search.filters import SearchFilters, conditions

Interval = Literal["hour", "day", "week"]
_BIN_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


def bin_width(zone: ZoneInfo, moments: list[datetime | None]) -> timedelta:
    """An hour when the zone's offset is a whole number of hours at these moments, else a quarter hour."""
    offsets = [m.astimezone(zone).utcoffset() for m in moments if m is not None]
    whole = all(o is not None and o % timedelta(hours=1) == timedelta(0) for o in offsets)
    return timedelta(hours=1) if whole else timedelta(minutes=15)


def truncate(moment: datetime, interval: Interval, zone: ZoneInfo) -> datetime:
    """The start of the bucket holding ``moment``, as an aware datetime in ``zone``."""
    local = moment.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval == "week":
        start -= timedelta(days=start.weekday())  # ISO weeks start on Monday, as date_trunc's do
    return start.replace(tzinfo=zone)


def bucket_starts(first: datetime, last: datetime, interval: Interval, zone: ZoneInfo) -> list[datetime]:
    """Every bucket start from ``first``'s bucket to ``last``'s, inclusive."""
    out = []
    current = truncate(first, interval, zone)
    end = truncate(last, interval, zone)
    while current <= end:
        out.append(current)
        if interval == "hour":
            # Step in absolute time, then re-truncate: a local hour can repeat or vanish at a DST change.
            current = truncate((current.astimezone(UTC) + _STEP["hour"]), interval, zone)
        else:
            naive = current.replace(tzinfo=None) + _STEP[interval]
            current = naive.replace(tzinfo=zone)
    return out


def estimated_buckets(first: datetime, last: datetime, interval: Interval) -> int:
    return int((last - first) / _STEP[interval]) + 1


async def time_series(
    session: AsyncSession,
    filters: SearchFilters,
    *,
    interval: Interval,
    tz: str,
    max_buckets: int,
    use_hour_counts: bool = True,
) -> TimeSeriesOut:
    zone = ZoneInfo(tz)
    if (
        filters.date_from
        and filters.date_to
        and estimated_buckets(filters.date_from, filters.date_to, interval) > max_buckets
    ):
        raise ApiError(
            400, f"more than {max_buckets} buckets: narrow from/to or use a coarser interval", field="interval"
        )
    width = bin_width(zone, [filters.date_from, filters.date_to, datetime.now(UTC)])
    utc_bin = func.date_bin(literal(width), Article.published_at, literal(_BIN_ORIGIN))
    # Unbounded, the series spans the date window at most: a stored date outside it (read as the edge of
    # what Python holds) would otherwise stretch the series over eight thousand years.
    window = get_date_settings()
    unbounded = [
        *([] if filters.date_from else [Article.published_at >= window.start]),
        *([] if filters.date_to else [Article.published_at < window.end]),
    ]
    # Hourly bins of a filter-only request are the counts kept per hour, whatever the number of matches.
    bins = hour_counts.series_bins(filters) if use_hour_counts and width == timedelta(hours=1) else None
    if bins is None:
        bins = (
            select(utc_bin.label("bin"), func.count().label("n"))
            .where(*conditions(filters), *unbounded)
            .group_by(utc_bin)
        ).subquery("bins")
    bucket = func.date_trunc(literal(interval), bins.c.bin, literal(tz)).label("bucket")
    rows = (await session.execute(select(bucket, func.sum(bins.c.n).label("n")).group_by(bucket))).all()
    counts = {r.bucket.astimezone(UTC): int(r.n) for r in rows}
    first = filters.date_from or (min(counts) if counts else None)
    last = (filters.date_to - timedelta(microseconds=1)) if filters.date_to else (max(counts) if counts else None)
    if first is None or last is None:
        return TimeSeriesOut(interval=interval, tz=tz, total=0, buckets=[])
    if estimated_buckets(first, last, interval) > max_buckets:
        raise ApiError(
            400, f"more than {max_buckets} buckets: narrow from/to or use a coarser interval", field="interval"
        )
    buckets = [
        TimeBucket(start=start, count=counts.get(start.astimezone(UTC), 0))
        for start in bucket_starts(first, last, interval, zone)
    ]
    return TimeSeriesOut(interval=interval, tz=tz, total=sum(counts.values()), buckets=buckets)
