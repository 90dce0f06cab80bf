"""Claim rows whose work stopped moving (its task was lost with Redis or with a worker), to queue them again.

One statement shape for every such sweep: pick the stale rows oldest first, at most ``limit``, skipping rows
another transaction holds (a worker still busy with them, or a second sweeper), and touch them in the same
statement, so the next sweep does not claim them twice. What "stale" means is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import CTE, BindParameter, ColumnElement, Table, TextClause, Update, func, select, update


def claim_statement(
    table: Table,
    *,
    stale: ColumnElement[bool] | TextClause,
    limit: int | BindParameter[int],
    values: Mapping[str, Any] | None = None,
    returning: Callable[[Table, CTE], Sequence[ColumnElement[Any]]] | None = None,
) -> Update:
    """``UPDATE table SET updated_at = now(), **values`` on the picked rows; returns their ids unless
    ``returning`` names other columns (of the table, or of the picked rows as they were before)."""
    picked = (
        select(table.c.id, table.c.state)
        .where(stale)
        .order_by(table.c.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("stalled")
    )
    columns = returning(table, picked) if returning is not None else [table.c.id]
    return (
        update(table)
        .where(table.c.id == picked.c.id)
        .values(updated_at=func.now(), **(values or {}))
        .returning(*columns)
    )
