"""Many rows as one statement parameter: a JSON array unpacked by ``jsonb_to_recordset``.

A multi-row ``VALUES`` of a batch's rows has a placeholder per cell, which SQLAlchemy compiles and the driver
adapts cell by cell on every batch (too long for either's statement cache); one JSON parameter costs one
encode, and the server reads it in one pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import Insert, insert

from shared.db import jsoncodec


def _cell(value: object) -> str:
    if isinstance(value, bytes):
        return "\\x" + value.hex()  # bytea's hex input format
    if isinstance(value, uuid.UUID | datetime):  # orjson writes these itself; the standard writer does not
        return value.isoformat() if isinstance(value, datetime) else str(value)
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _table_of(target: Table | type[Any]) -> Table:
    return target if isinstance(target, Table) else cast(Table, target.__table__)


def recordset(target: Table | type[Any], rows: Sequence[dict[str, Any]], *, extra: Sequence[Any] = ()) -> Select[Any]:
    """``SELECT`` of ``rows`` (dicts with the same keys, each a column of ``target``, a table or a model) typed as the table's
    columns, in the order of the first row's keys, then the ``extra`` columns."""
    table = _table_of(target)
    names = list(rows[0])
    dialect = postgresql.dialect()
    columns = ", ".join(f"{n} {table.c[n].type.compile(dialect=dialect)}" for n in names)
    source = text(f"jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({columns})").bindparams(
        rows=jsoncodec.dumps(list(rows), default=_cell)
    )
    selected: list[Any] = [literal_column(f"r.{n}") for n in names]
    return select(*selected, *extra).select_from(source)


def upsert(target: Table | type[Any], rows: Sequence[dict[str, Any]], *, keys: Sequence[str]) -> Insert:
    """Insert ``rows`` (as ``recordset``), or on a conflict over ``keys`` rewrite the other columns given and
    date the decision now (``decided_at``)."""
    stmt = insert(_table_of(target)).from_select(list(rows[0]), recordset(target, rows))
    changed = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=changed | {"decided_at": func.now()})
