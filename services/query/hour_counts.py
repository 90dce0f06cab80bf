"""Facets and time series of filter-only requests, summed from the counts kept per hour (migration 0014).

``article_hour_counts`` holds the live canonical articles per UTC hour, source and language;
``tag_hour_counts`` the same articles per hour and tag. A request they can answer costs the cells of its date
range, however many articles match; its counts are exact (no sample). They answer a request that has no
full-text term and asks only for what the cells hold (tag facets: over a short range only, see
``facets_answerable``): the default canonical, non-withdrawn articles, no
cluster, event or revision filter, ``from``/``to`` on whole UTC hours; then either source and language
filters, or one tag filter of a single kind (an article tagged with the value under two kinds would be
counted twice). Tag facets need no source, language or tag filter. Anything else is counted live.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.facet_ranking import top_values
from services.query.schemas import FacetBucket, FacetsOut
from shared.dates import get_date_settings
from shared.search.filters import SearchFilters, split_tag
from shared.tagging.vocabulary import PLACE, TOPIC

_metadata = MetaData()
article_hours = Table(
    "article_hour_counts",
    _metadata,
    Column("hour", DateTime(timezone=True)),
    Column("source", Text),
    Column("language", Text),
    Column("n", Integer),
)
tag_hours = Table(
    "tag_hour_counts",
    _metadata,
    Column("hour", DateTime(timezone=True)),
    Column("kind", Text),
    Column("value", Text),
    Column("n", Integer),
)


def _on_hour(moment: datetime | None) -> bool:
    return moment is None or (moment.utcoffset() is not None and moment.timestamp() % 3600 == 0)


def _plain(f: SearchFilters) -> bool:
    """No condition the cells do not hold."""
    return (
        not f.q
        and not f.include_duplicates
        and not f.include_withdrawn
        and f.cluster is None
        and f.event is None
        and f.revised is None
        and f.revised_since is None
        and _on_hour(f.date_from)
        and _on_hour(f.date_to)
    )


def single_tag(f: SearchFilters) -> tuple[str, str] | bool | None:
    """The one single-kind tag filter as (kind, value); None when there is none; False when the tag filters
    are more than the cells answer."""
    tags: list[tuple[str | None, str]] = [split_tag(t) for t in f.tag]
    tags += [(PLACE.name, v) for v in f.place] + [(TOPIC.name, v) for v in f.topic]
    if f.entity or len(tags) > 1:
        return False
    if not tags:
        return None
    kind, value = tags[0]
    return (kind, value) if kind is not None else False


def _hours(column: Any, f: SearchFilters, *, within_window: bool = False) -> list[Any]:
    """The hours of the request's date range; ``within_window`` bounds an open side by the date window, as the
    live time series does (a stored date past it would stretch the series over thousands of years)."""
    window = get_date_settings()
    out = []
    if f.date_from:
        out.append(column >= f.date_from)
    elif within_window:
        out.append(column >= window.start)
    if f.date_to:
        out.append(column < f.date_to)
    elif within_window:
        out.append(column < window.end)
    return out


def series_bins(f: SearchFilters) -> Any | None:
    """``(bin, n)`` per UTC hour for the time series, or None when the request needs the live count. Cells
    emptied by a withdrawal or a duplicate stay, at 0: they are left out, as an hour with no match is."""
    if not _plain(f):
        return None
    tag = single_tag(f)
    if tag is False or (tag is not None and (f.source or f.language)):
        return None
    if isinstance(tag, tuple):
        t = tag_hours.c
        return (
            select(t.hour.label("bin"), t.n.label("n"))
            .where(t.kind == tag[0], t.value == tag[1], t.n > 0, *_hours(t.hour, f, within_window=True))
            .subquery("bins")
        )
    a = article_hours.c
    cond = _hours(a.hour, f, within_window=True)
    if f.source:
        cond.append(a.source.in_(f.source))
    if f.language:
        cond.append(a.language.in_(f.language))
    return (
        select(a.hour.label("bin"), func.sum(a.n).label("n"))
        .where(*cond)
        .group_by(a.hour)
        .having(func.sum(a.n) > 0)
        .subquery("bins")
    )


def facets_answerable(f: SearchFilters, facets: tuple[str, ...], facet_kinds: dict[str, Any], *, max_days: int) -> bool:
    """Whether the cells answer these facets. Tag facets sum one cell per hour and value, and the long tail of
    entities makes that thousands of cells a day: beyond ``max_days`` (or with no date range) the
    newest matches are sampled instead."""
    if not _plain(f) or single_tag(f) is not None:
        return False
    tags_asked = any(facet_kinds[facet] is not None for facet in facets)
    bounded = f.date_from is not None and f.date_to is not None and f.date_to - f.date_from <= timedelta(days=max_days)
    if tags_asked and not bounded:
        return False
    only_columns = all(facet_kinds[facet] is None for facet in facets)
    return only_columns or not (f.source or f.language)


async def facet_counts(
    session: AsyncSession, f: SearchFilters, *, facets: tuple[str, ...], size: int, facet_kinds: dict[str, Any]
) -> FacetsOut:
    """Exact facets from the cells (``facets_answerable`` must hold): one statement, the top ``size`` per facet."""
    a, t = article_hours.c, tag_hours.c
    article_cond = _hours(a.hour, f)
    if f.source:
        article_cond.append(a.source.in_(f.source))
    if f.language:
        article_cond.append(a.language.in_(f.language))
    language = func.coalesce(func.nullif(a.language, ""), "und")
    parts: list[Any] = [
        select(literal("_considered").label("facet"), literal("").label("value"), literal("").label("kind"),
               func.coalesce(func.sum(a.n), 0).label("n")).where(*article_cond)
    ]  # fmt: skip
    for facet in facets:
        kinds = facet_kinds[facet]
        if kinds is None:
            column = a.source if facet == "source" else language
            parts.append(
                select(literal(facet), column, literal(""), func.sum(a.n))
                .where(*article_cond)
                .group_by(column)
                .having(func.sum(a.n) > 0)
            )
        else:
            parts.append(
                select(literal(facet), t.value, t.kind, func.sum(t.n))
                .where(t.kind.in_(kinds), *_hours(t.hour, f))
                .group_by(t.kind, t.value)
                .having(func.sum(t.n) > 0)
            )
    counted = parts[0].union_all(*parts[1:]).subquery("counted")
    stmt = top_values(counted, size)
    out: dict[str, list[FacetBucket]] = {facet: [] for facet in facets}
    considered = 0  # cells emptied by a withdrawal or a duplicate stay, at 0, and are not shown
    for r in (await session.execute(stmt)).all():
        if r.facet == "_considered":
            considered = int(r.n)
            continue
        kinds = facet_kinds[r.facet]
        entity_kind = r.kind if kinds is not None and len(kinds) > 1 else None
        out[r.facet].append(FacetBucket(value=r.value, name=r.name, count=int(r.n), kind=entity_kind))
    return FacetsOut(facets=out, considered=considered, sampled=False)
