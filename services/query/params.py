"""Query parameters shared by the search endpoints: the filters of a search, validated into ``SearchFilters``;
``include_withdrawn``, which the story and event listings take too; and the time window those listings read."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query
from pydantic import ValidationError

from shared.api.errors import ApiError, field_errors
from shared.dates import WindowedDatetime
from shared.search.filters import SearchFilters

_REPEAT = "Repeatable; all must hold."
IncludeWithdrawn = Annotated[bool, Query(description="Show killed and withdrawn articles too.")]


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start: datetime
    end: datetime


def time_window(default_span: timedelta) -> Callable[..., Awaitable[TimeWindow]]:
    """A dependency for ``from`` and ``to`` of a listing: ``to`` defaults to now and ``from`` to ``default_span``
    before it. Both are checked against the date window first, so the default's subtraction cannot overflow."""

    async def window(
        date_from: Annotated[
            WindowedDatetime | None, Query(alias="from", description="Window start (ISO 8601).")
        ] = None,
        date_to: Annotated[WindowedDatetime | None, Query(alias="to", description="Window end (ISO 8601).")] = None,
    ) -> TimeWindow:
        end = date_to or datetime.now(UTC)
        start = date_from or end - default_span
        if start >= end:
            raise ApiError(400, "`from` must be before `to`", field="from")
        return TimeWindow(start, end)

    return window


def search_filters(
    q: Annotated[
        str | None,
        Query(
            max_length=500,
            description='Web-search syntax: words, "phrases", OR, -term; `title:`, `summary:` or `body:` scope a '
            "word or phrase to one field.",
        ),
    ] = None,
    source: Annotated[list[str] | None, Query(description="Any of these sources; repeatable.")] = None,
    language: Annotated[list[str] | None, Query(description="ISO 639-1, any of these; repeatable.")] = None,
    date_from: Annotated[
        WindowedDatetime | None, Query(alias="from", description="Published at or after (ISO 8601).")
    ] = None,
    date_to: Annotated[WindowedDatetime | None, Query(alias="to", description="Published before (ISO 8601).")] = None,
    tag: Annotated[
        list[str] | None, Query(description=f"`kind:value` (e.g. `rule:breaking`) or a value of any kind. {_REPEAT}")
    ] = None,
    entity: Annotated[
        list[str] | None, Query(description=f"A person, organisation, place or other entity by name. {_REPEAT}")
    ] = None,
    place: Annotated[list[str] | None, Query(description=f"A place by canonical name. {_REPEAT}")] = None,
    topic: Annotated[
        list[str] | None,
        Query(description=f"An IPTC Media Topics code (e.g. 11000000) or subject (e.g. politics). {_REPEAT}"),
    ] = None,
    cluster: Annotated[uuid.UUID | None, Query(description="Only this story cluster's articles.")] = None,
    event: Annotated[uuid.UUID | None, Query(description="Only this event's articles (`/v1/events`).")] = None,
    include_duplicates: Annotated[bool, Query(description="Show non-canonical copies too.")] = False,
    include_withdrawn: IncludeWithdrawn = False,
    revised: Annotated[
        bool | None, Query(description="`true`: only articles revised after their first text; `false`: never revised.")
    ] = None,
    revised_since: Annotated[
        WindowedDatetime | None,
        Query(description="Only articles whose current revision replaced an earlier one since then."),
    ] = None,
) -> SearchFilters:
    if date_from and date_to and date_from >= date_to:
        raise ApiError(400, "`from` must be before `to`", field="from")
    raw = {
        "q": q,
        "source": source or [],
        "language": language or [],
        "from": date_from,
        "to": date_to,
        "tag": tag or [],
        "entity": entity or [],
        "place": place or [],
        "topic": topic or [],
        "cluster": cluster,
        "event": event,
        "include_duplicates": include_duplicates,
        "include_withdrawn": include_withdrawn,
        "revised": revised,
        "revised_since": revised_since,
    }
    try:
        return SearchFilters.model_validate(raw)
    except ValidationError as exc:
        details = field_errors(exc)
        first = details[0]
        raise ApiError(400, f"invalid request: {first['field']}: {first['message']}", details=details) from exc


FiltersDep = Annotated[SearchFilters, Depends(search_filters)]
