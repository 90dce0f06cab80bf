"""``/v1/facets``: top values per source, language, topic, entity and place for a search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.query.deps import QuerySettingsDep, SessionDep
from services.query.facets import DEFAULT_FACETS, FACETS, facet_counts
from services.query.params import FiltersDep
from services.query.responses import json_response
from services.query.schemas import FacetsOut
from shared.api.errors import ApiError
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/facets", tags=["facets"])

# The facets the tag vocabulary defines, as an enumeration FastAPI validates and documents (a plug-in
# tagger's kinds included); mypy sees a plain string, the values being known only at run time.
if TYPE_CHECKING:
    FacetName = str
else:
    FacetName = Literal[tuple(FACETS)]


@router.get(
    "",
    response_model=FacetsOut,
    summary="Top counts per source, language, topic, entity and place among a search's matches",
    description="Takes the same `q` and filters as `/v1/articles`. Counts are of articles. When more articles "
    "match than the sample size, the counts are over the most recent matches and `sampled` is true.",
    responses=error_responses(400),
)
async def get_facets(
    session: SessionDep,
    settings: QuerySettingsDep,
    filters: FiltersDep,
    facet: Annotated[
        list[FacetName] | None, Query(description="Facets to count; repeatable. Default: " + ", ".join(DEFAULT_FACETS))
    ] = None,
    size: Annotated[int, Query(ge=1, description="Top values per facet.")] = 10,
) -> Response:
    if size > settings.max_facet_size:
        raise ApiError(400, f"size must be at most {settings.max_facet_size}", field="size")
    chosen = tuple(dict.fromkeys(facet)) if facet else DEFAULT_FACETS
    counts = await facet_counts(
        session,
        filters,
        facets=chosen,
        size=size,
        sample_size=settings.facet_sample_size,
        budget=settings.facet_scan_budget,
        use_hour_counts=settings.use_hour_counts,
        hour_counts_max_days=settings.hour_counts_facet_max_days,
    )
    return json_response(counts)
