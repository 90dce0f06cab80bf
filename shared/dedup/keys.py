"""Exact keys and time windows of the index.

An exact key is the SHA-256 of a kind-tagged value, so the index never holds URLs or titles in the clear and
a key collision is as unlikely as a SHA-256 one. The index's time window is read from the article ids: they
are UUIDv7 (``shared.ids``), whose leading 48 bits are the receipt time in milliseconds, so "received after
T" is "id ≥ the smallest UUID of T".
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from shared.dedup.engine import Method
from shared.text.normalise import words

THIN_CONTENT = "thin"  # namespace of content keys of texts with too few words to stand alone


def key_of(kind: Method, *parts: str | bytes) -> bytes:
    h = hashlib.sha256(kind.value.encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def exact_keys(
    *,
    content_hash: bytes,
    body: str,
    title: str,
    canonical_url: str | None,
    source: str,
    external_id: str | None,
    title_hash: bytes,
    thin: bool,
    min_title_words: int,
) -> dict[Method, bytes]:
    """The exact keys of one article.

    A thin body (a word or two, only numbers or punctuation) says too little on its own: its content key
    includes the title, so "Developing story." under two different headlines is not a duplicate, and a
    body of punctuation alone has no words to compare, so it hashes its characters.
    """
    keys: dict[Method, bytes] = {}
    if not thin:
        keys[Method.exact_hash] = key_of(Method.exact_hash, content_hash)
    else:
        body_words = " ".join(words(body)) or "".join(body.split())
        keys[Method.exact_hash] = key_of(Method.exact_hash, THIN_CONTENT, " ".join(words(title)), body_words)
    if canonical_url:
        keys[Method.canonical_url] = key_of(Method.canonical_url, canonical_url)
    if external_id:
        keys[Method.external_id] = key_of(Method.external_id, source, external_id)
    if len(words(title)) >= min_title_words:
        keys[Method.same_title] = key_of(Method.same_title, source, title_hash)
    return keys


def uuid7_floor(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of a moment: ids at or above it were made at or after it."""
    ms = int(moment.timestamp() * 1000)
    return uuid.UUID(int=(ms & ((1 << 48) - 1)) << 80)


def window_floor(now: datetime, days: float) -> uuid.UUID:
    return uuid7_floor(now - timedelta(days=days))


def uuid7_time(value: uuid.UUID) -> datetime:
    """When a UUIDv7 was made (UTC)."""
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
