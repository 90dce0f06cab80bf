"""Opaque keyset cursors: the sort key of the last row, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared.api.errors import ApiError

_INT64 = 2**63


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, required: tuple[str, ...]) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid cursor: pass back the next_cursor of a previous page", field="cursor") from exc
    if not isinstance(values, dict) or any(k not in values for k in required):
        raise ApiError(400, "invalid cursor: it belongs to another kind of query", field="cursor")
    return values


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 <= value < _INT64:
        raise ValueError("not a 64-bit integer")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)


def _moment(value: Any) -> datetime:
    # Not held to the date window: a page may end on a stored date read as the edge of what Python holds.
    if not isinstance(value, str):
        raise ValueError("not an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a UUID string")
    return uuid.UUID(value)


# How each part of a sort key is read back: strictly, since the cursor is client input like any other.
KEY_PARTS: dict[str, Callable[[Any], Any]] = {"int": _int, "float": _float, "moment": _moment, "uuid": _uuid}


def decode_key(key: Any, *parts: str) -> tuple[Any, ...]:
    """The sort key a cursor carries, each part checked against its kind (``int``, ``float``, ``moment``,
    ``uuid``), or a 400 naming the cursor."""
    if not isinstance(key, list) or len(key) != len(parts):
        raise ApiError(400, "invalid cursor: pass back the next_cursor of a previous page", field="cursor")
    try:
        return tuple(KEY_PARTS[kind](value) for kind, value in zip(parts, key, strict=True))
    except ValueError as exc:
        raise ApiError(400, "invalid cursor: pass back the next_cursor of a previous page", field="cursor") from exc
