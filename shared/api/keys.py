"""API key format and creation, without the web stack (the CLI and ``make run`` use it too).

A key looks like ``tdg_`` + 32 random base62 characters + a 6-character checksum, so secret scanners (and
``looks_like_key``) can tell a leaked Tidings key from noise without asking the server, as GitHub's
``ghp_`` tokens allow. Only the key's SHA-256 is stored: a key has ~190 random bits, so a slow password hash
would add nothing but latency. The key is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from shared.ids import uuid7

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KEY_PREFIX = "tdg_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_CHARS = 32
_CHECKSUM_CHARS = 6
_KEY_RE = re.compile(rf"^{KEY_PREFIX}[0-9A-Za-z]{{{_RANDOM_CHARS + _CHECKSUM_CHARS}}}$")
DISPLAY_PREFIX_CHARS = len(KEY_PREFIX) + 8


class Scope(StrEnum):
    ingest = "ingest"  # the write API
    query = "query"  # the read API
    # Saved searches that deliver to a webhook_url: requests the platform sends out on the key's behalf, so
    # more than reading. A query key without it may save searches, never give them a target.
    deliver = "deliver"
    admin = "admin"  # everything
    # Never rate limited: for the operator's own key and internal services, which must not meet a 429 while
    # reading back what they sent. It grants no access by itself; pair it with the scopes the key needs.
    unlimited = "unlimited"


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_ALPHABET[r])
    return "".join(reversed(chars))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode()), _CHECKSUM_CHARS)


def generate_key() -> str:
    """A new random key with its checksum."""
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_CHARS))
    return f"{KEY_PREFIX}{random_part}{_checksum(random_part)}"


def looks_like_key(value: str) -> bool:
    """Well-formed with a valid checksum: typos and foreign tokens are refused without a database look-up."""
    if not _KEY_RE.match(value):
        return False
    random_part = value[len(KEY_PREFIX) : len(KEY_PREFIX) + _RANDOM_CHARS]
    return secrets.compare_digest(value[-_CHECKSUM_CHARS:], _checksum(random_part))


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``key`` is the only time the secret exists outside its hash."""

    id: uuid.UUID
    key: str
    values: dict[str, Any]


def new_key(
    *,
    name: str,
    scopes: Iterable[Scope | str],
    rate_limit_per_minute: int | None = None,
    expires_at: datetime | None = None,
    sources: Iterable[str] | None = None,
) -> NewKey:
    """The row to insert for a new key, and the key to show once. ``sources``: the only sources a non-admin
    key may write to; None leaves it the sources nobody registered (``services/ingest/authority.py``)."""
    scope_list = sorted({Scope(s).value for s in scopes})
    if not scope_list:
        raise ValueError("a key needs at least one scope")
    key = generate_key()
    key_id = uuid7()
    return NewKey(
        id=key_id,
        key=key,
        values={
            "id": key_id,
            "name": name,
            "prefix": key[:DISPLAY_PREFIX_CHARS],
            "key_hash": hash_key(key),
            "scopes": scope_list,
            "rate_limit_per_minute": rate_limit_per_minute,
            "expires_at": expires_at,
            "sources": sorted(set(sources)) if sources is not None else None,
        },
    )


def create_api_key(
    session: Session,
    *,
    name: str,
    scopes: Iterable[Scope | str],
    rate_limit_per_minute: int | None = None,
    expires_at: datetime | None = None,
    sources: Iterable[str] | None = None,
) -> NewKey:
    """Insert a key with a synchronous session (CLI, ``make run``, tests). Does not commit."""
    from sqlalchemy import insert

    from shared.db.models import ApiKey

    made = new_key(
        name=name,
        scopes=scopes,
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=expires_at,
        sources=sources,
    )
    session.execute(insert(ApiKey).values(**made.values))
    return made
