"""The reading pages: search (results, facets, volume), an article, stories. Each calls the same service
functions as the API's routers (``search_page``, ``facet_counts``, ``time_series``, ``load_article``...)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.deps import QuerySettingsDep, SessionDep
from services.query.facets import DEFAULT_FACETS, facet_counts
from services.query.schemas import FacetsOut, TimeSeriesOut
from services.query.search import resolve_sort, search_page
from services.query.settings import QuerySettings
from services.query.similar import similar_articles
from services.query.stories import cluster_detail, cluster_members, largest_clusters, load_article
from services.query.timeseries import time_series
from services.query.ui import data
from services.query.ui.charts import volume_chart, world_map
from services.query.ui.filters import FACET_PARAM, SORTS, active_chips, facet_href, filters_from, sort_from
from services.query.ui.render import render
from services.query.ui.session import PageError, UserDep
from services.query.ui.settings import get_ui_settings
from services.query.ui.text import highlight, mention_spans
from shared.api.errors import ApiError
from shared.search.filters import SearchFilters

router = APIRouter(prefix="/ui", include_in_schema=False)

FACET_TITLES = {
    "source": "Sources",
    "language": "Languages",
    "topic": "Topics",
    "entity": "Entities",
    "place": "Places",
}
COPIES_SHOWN = 5
# Who and where first, then what it is about, then the machine's notes.
KIND_ORDER = ("person", "organisation", "place", "misc", "topic", "rule", "keyword", "tone", "language")
TIMELINE_WIDTH = 240


@router.get("/", response_class=HTMLResponse)
async def home(user: UserDep) -> RedirectResponse:
    return RedirectResponse("/ui/search", status_code=303)


async def _series(session: AsyncSession, filters: SearchFilters, settings: QuerySettings) -> TimeSeriesOut:
    """Daily volume, or weekly when a day per bar would be too many bars."""
    try:
        return await time_series(session, filters, interval="day", tz="UTC", max_buckets=400)
    except ApiError as exc:
        if exc.status != 400:
            raise
        return await time_series(
            session, filters, interval="week", tz="UTC", max_buckets=settings.max_timeseries_buckets
        )


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, session: SessionDep, settings: QuerySettingsDep, user: UserDep) -> HTMLResponse:
    params = request.query_params
    ui = get_ui_settings()
    context: dict[str, Any] = {"params": params, "sorts": SORTS, "facet_titles": FACET_TITLES, "error": None}
    try:
        filters = filters_from(params)
        sort = resolve_sort(sort_from(params), filters)
        page = await search_page(
            session,
            filters,
            sort,
            cursor=params.get("cursor") or None,
            limit=ui.page_size,
            snippet_max_chars=settings.snippet_max_chars,
            relevance_window=settings.relevance_window,
            scan_budget=settings.scan_budget,
        )
        facets = await facet_counts(
            session,
            filters,
            facets=DEFAULT_FACETS,
            size=10,
            sample_size=settings.facet_sample_size,
            budget=settings.facet_scan_budget,
        )
        series = await _series(session, filters, settings)
    except ApiError as exc:
        context["error"] = exc.message
        return render(request, "search.html", {**context, "page": None, "chips": []}, user=user, status_code=exc.status)
    copies = {}
    if not filters.include_duplicates:
        copies = await data.copies_of(session, [i.cluster_id for i in page.items], per_cluster=COPIES_SHOWN)
    names = _facet_names(facets)
    context.update(
        filters=filters,
        sort=sort,
        page=page,
        copies=copies,
        facets=facets,
        facet_link=lambda name, value: facet_href(params, FACET_PARAM[name], value),
        chips=active_chips(params, names),
        chart=volume_chart(series),
    )
    return render(request, "search.html", context, user=user)


def _facet_names(facets: FacetsOut) -> dict[tuple[str, str], str]:
    return {(FACET_PARAM[f], b.value): b.name for f, buckets in facets.facets.items() for b in buckets}


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def article(
    request: Request, article_id: str, session: SessionDep, settings: QuerySettingsDep, user: UserDep
) -> HTMLResponse:
    found = await load_article(session, _uuid(article_id, "article"))
    if found is None:
        raise PageError(404, f"No processed article {article_id}.")
    members, truncated = await cluster_members(session, found.dedup.cluster_id, article_id=found.id, limit=50)
    evidence = await data.dedup_evidence(session, found.id)
    similar = await similar_articles(session, found, limit=8, per_tag=settings.similar_candidates_per_tag)
    places = [
        (t.name, float(t.attrs["lat"]), float(t.attrs["lon"]))
        for t in found.tags.get("place", [])
        if isinstance(t.attrs, dict) and _number(t.attrs.get("lat")) and _number(t.attrs.get("lon"))
    ]
    text = {
        name: highlight(getattr(found, name), mention_spans(found.tags, name, getattr(found, name) or ""))
        for name in ("title", "summary", "body")
    }
    context = {
        "article": found,
        "tag_groups": sorted(
            found.tags.items(), key=lambda kv: (KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99, kv[0])
        ),
        "text": text,
        "copies": [m for m in members if m.id != found.id],
        "members_truncated": truncated,
        "evidence": evidence,
        "similar": similar,
        "map": world_map(places) if places else None,
    }
    return render(request, "article.html", context, user=user)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise PageError(404, f"No {what} {value}.") from exc


@router.get("/stories", response_class=HTMLResponse)
async def stories(request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    ui = get_ui_settings()
    now = datetime.now(UTC)
    largest = await largest_clusters(
        session, date_from=now - timedelta(days=ui.stories_window_days), date_to=now, min_size=2, cursor=None, limit=10
    )
    newest = await data.newest_clusters(session, limit=10)
    lines = await data.timelines(session, [c.id for c in (*largest.items, *newest)], per_cluster=50)

    def points(cluster: Any) -> list[tuple[float, str, datetime]]:
        return data.timeline_points(
            lines[cluster.id], cluster.first_published_at, cluster.last_published_at, width=TIMELINE_WIDTH
        )

    context = {
        "largest": largest.items,
        "newest": newest,
        "lines": lines,
        "points": points,
        "timeline_width": TIMELINE_WIDTH,
        "window_days": ui.stories_window_days,
    }
    return render(request, "stories.html", context, user=user)


@router.get("/stories/{cluster_id}", response_class=HTMLResponse)
async def story(request: Request, cluster_id: str, session: SessionDep, user: UserDep) -> HTMLResponse:
    detail = await cluster_detail(session, _uuid(cluster_id, "story"), limit=200)
    if detail is None:
        raise PageError(404, f"No story {cluster_id}.")
    lines = await data.timelines(session, [detail.id], per_cluster=200)
    context = {
        "story": detail,
        "points": data.timeline_points(
            lines[detail.id], detail.first_published_at, detail.last_published_at, width=600
        ),
        "sources": lines[detail.id].sources,
    }
    return render(request, "story.html", context, user=user)
