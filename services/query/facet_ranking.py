"""The top values of each facet from a ``(facet, value, kind, n)`` subquery, whichever way it was counted (live
matches or the counts kept per hour): ranked within the facet, with display names for the values shown only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from shared.db.models import ArticleTag


def top_values(counted: Any, size: int) -> Select[Any]:
    """``(facet, value, kind, n, name)`` of each facet's ``size`` largest counts, ties broken by value."""
    ranked = select(
        counted,
        func.row_number()
        .over(partition_by=counted.c.facet, order_by=(counted.c.n.desc(), counted.c.value))
        .label("rn"),
    ).subquery("ranked")
    # Display names only for the values shown: one index probe each.
    name = (
        select(ArticleTag.name)
        .where(ArticleTag.kind == ranked.c.kind, ArticleTag.value == ranked.c.value)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            ranked.c.facet, ranked.c.value, ranked.c.kind, ranked.c.n, func.coalesce(name, ranked.c.value).label("name")
        )
        .where(ranked.c.rn <= size)
        .order_by(ranked.c.facet, ranked.c.rn)
    )
