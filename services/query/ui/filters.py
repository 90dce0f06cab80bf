"""A search page's URL as the API's search filters, and the chips that add or remove one of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from services.query.params import search_filters
from services.query.search import Sort
from shared.api.errors import ApiError
from shared.search.filters import SearchFilters

LIST_PARAMS = ("source", "language", "topic", "entity", "place", "tag")
# A facet's buckets become this filter when clicked.
FACET_PARAM = {"source": "source", "language": "language", "topic": "topic", "entity": "entity", "place": "place"}
SORTS: tuple[str, ...] = get_args(Sort)


def _moment(params: QueryParams, name: str) -> datetime | None:
    value = params.get(name) or None
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, f"`{name}` must be a date or an ISO 8601 time", field=name) from exc


def filters_from(params: QueryParams) -> SearchFilters:
    """The filters the API would read from the same parameters, validated by the same function."""
    cluster = params.get("cluster") or None
    try:
        cluster_id = uuid.UUID(cluster) if cluster else None
    except ValueError as exc:
        raise ApiError(400, "`cluster` must be a story id", field="cluster") from exc
    lists = {name: [v for v in params.getlist(name) if v.strip()] or None for name in LIST_PARAMS}
    return search_filters(
        q=params.get("q") or None,
        source=lists["source"],
        language=lists["language"],
        date_from=_moment(params, "from"),
        date_to=_moment(params, "to"),
        tag=lists["tag"],
        entity=lists["entity"],
        place=lists["place"],
        topic=lists["topic"],
        cluster=cluster_id,
        include_duplicates=params.get("include_duplicates") in ("true", "on", "1"),
    )


def sort_from(params: QueryParams) -> Sort | None:
    value = params.get("sort") or None
    if value is not None and value not in SORTS:
        raise ApiError(400, f"`sort` must be one of {', '.join(SORTS)}", field="sort")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class Chip:
    param: str
    value: str
    label: str
    href: str


def active_chips(params: QueryParams, names: dict[tuple[str, str], str]) -> list[Chip]:
    """One chip per filter value in the URL; following its link removes that value (and the cursor)."""
    pairs = [(k, v) for k, v in params.multi_items() if k != "cursor"]
    chips = []
    for key, value in pairs:
        if key not in (*LIST_PARAMS, "from", "to", "cluster") or not value:
            continue
        rest = [(k, v) for k, v in pairs if (k, v) != (key, value)]
        chips.append(Chip(key, value, names.get((key, value), value), "?" + _encode(rest)))
    return chips


def facet_href(params: QueryParams, param: str, value: str) -> str:
    """The search with one more filter: ``param=value``, back on the first page."""
    pairs = [(k, v) for k, v in params.multi_items() if k != "cursor"]
    if (param, value) not in pairs:
        pairs.append((param, value))
    return "?" + _encode(pairs)


def _encode(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)
