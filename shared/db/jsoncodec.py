"""JSON for the driver and the bulk statements: orjson where it gives the same values, the standard library
where it would not.

orjson parses and writes several times faster than ``json``, which matters on the worker's hot path (every
batch reads its payloads and its candidates' stored features as JSONB, and writes its rows as one JSON
parameter). It reads an integer past 64 bits as a float, though, and refuses numbers past a double's range;
such texts (any run of 19 digits, which a string can hold too) go to the standard parser, which reads them
exactly, as it refuses writing integers past 64 bits, which go to the standard writer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

_LONG_NUMBER = re.compile(rb"\d{19}")
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def loads(data: bytes | str) -> Any:
    """The value of a JSON text, as ``json.loads`` reads it."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


def dumps(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Compact JSON text of ``value``; UUIDs and datetimes in their ISO forms, ``default`` for other types."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=default, separators=(",", ":"))
