"""Small helpers the format mappers share: clipping to the article limits, stable ids, language codes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.config import get_ingest_settings
from shared.text.normalise import clean_inline

# Clipping limits: the ingest settings' article limits, fixed when imported, as ``ArticleIn``'s are.
MAX_TITLE_CHARS = get_ingest_settings().max_title_chars
MAX_FIELD_CHARS = get_ingest_settings().max_field_chars
MAX_EXTERNAL_ID_CHARS = 500
_LANGUAGE = re.compile(r"^([a-zA-Z]{2})(?:[-_].*)?$")


@dataclass(frozen=True)
class Item:
    """One item of a document or delivery: its article payload, or why it could not be read."""

    index: int
    data: dict[str, Any] | None = None
    error: str | None = None
    field: str | None = None
    ref: str | None = None  # the item's own id or link, to name it when it could not be read


def clip(text: object, limit: int) -> str | None:
    """One-line text cut to ``limit`` characters (with an ellipsis); None when empty or not a string (a
    sender's JSON may carry anything where a name belongs)."""
    if not isinstance(text, str) or not text:
        return None
    text = clean_inline(text)
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stable_id(*parts: str | None) -> str:
    """A deterministic id for items that carry none, so a replay of the same item finds the first one."""
    h = hashlib.sha256("\x1f".join(p or "" for p in parts).encode())
    return "sha256:" + h.hexdigest()


def external_id(value: str | None, *fallback: str | None) -> str:
    """The sender's id when usable, else a hash of ``fallback``; long ids are hashed to fit the limit."""
    value = (value or "").strip()
    if value and len(value) <= MAX_EXTERNAL_ID_CHARS:
        return value
    if value:
        return stable_id(value)
    return stable_id(*fallback)


def language_code(tag: object) -> str | None:
    """``en-GB`` → ``en``; None for what is not an ISO 639-1 tag (or not a string at all: senders' JSON)."""
    if not isinstance(tag, str):
        return None
    match = _LANGUAGE.match(tag.strip())
    return match.group(1).lower() if match else None


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an offset (UTC when the value has none)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out the fields a format did not fill, so the schema's defaults apply."""
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}
