"""Read a stored date Python cannot hold as the nearest date it can, instead of failing the whole read.

PostgreSQL keeps ``timestamptz`` values from 4713 BC to 294276 AD and ``infinity``; psycopg raises
``DataError`` for any of them outside Python's years 1 to 9999, which fails every statement whose rows include
one: a listing, a search, an export, the saved-search matcher. The window checks at ingest and the CHECK
constraint on article dates keep such values out; these loaders are the last line, for a value written by
hand, restored from an old dump, or in a column no constraint covers. A value too late reads as
``STORABLE_UNTIL``, too early as ``STORABLE_FROM`` (a day inside Python's range, so a time-zone conversion of
it still works), and the row stays listed, in the right order relative to every readable date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import abc, postgres
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format

from shared.dates import STORABLE_FROM, STORABLE_UNTIL

_EDGES: dict[str, tuple[Any, Any]] = {
    "timestamptz": (STORABLE_FROM, STORABLE_UNTIL),
    "timestamp": (STORABLE_FROM.replace(tzinfo=None), STORABLE_UNTIL.replace(tzinfo=None)),
    "date": (STORABLE_FROM.date(), STORABLE_UNTIL.date()),
}


def _too_early(data: Buffer, fmt: Format) -> bool:
    raw = bytes(data)
    if fmt == Format.BINARY:  # a signed count of microseconds (days for a date) since 2000-01-01
        return raw[0] & 0x80 != 0
    return raw.startswith(b"-") or raw.rstrip().endswith(b"BC")  # "-infinity", "0001-12-31 ... BC"


def _clamping(name: str, fmt: Format) -> type[Loader]:
    found = psycopg.adapters.get_loader(postgres.types[name].oid, fmt)
    if found is None:
        raise LookupError(f"psycopg has no {name} loader")
    inner_class: type[abc.Loader] = found
    low, high = _EDGES[name]

    class ClampingLoader(Loader):
        format = fmt

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._inner = inner_class(oid, context)

        def load(self, data: Buffer) -> datetime | date:
            try:
                value: datetime | date = self._inner.load(data)
            except psycopg.DataError:
                return low if _too_early(data, fmt) else high
            return value

    ClampingLoader.__name__ = ClampingLoader.__qualname__ = f"Clamping{inner_class.__name__}"
    return ClampingLoader


_installed = False


def install() -> None:
    """Register the clamping loaders on psycopg's global adapters, which every new connection copies."""
    global _installed
    if _installed:
        return
    for name in _EDGES:
        for fmt in (Format.TEXT, Format.BINARY):
            psycopg.adapters.register_loader(name, _clamping(name, fmt))
    _installed = True
