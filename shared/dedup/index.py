"""The shared, race-free dedup index in PostgreSQL.

Two tables, ``lsh_buckets`` (band, hash) and ``dedup_keys`` (kind, key), each row holding the newest
article ids (UUIDv7, newest first, at most ``bucket_cap``) that carry the key. A batch is indexed and
looked up with ONE statement per table: ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` over all the
batch's keys in key order. The upsert appends the batch's ids, drops ids older than the time window, and
returns every bucket's full content, which is the look-up.

Why it is race-free: the upsert takes each key's row lock (or waits on another transaction's uncommitted
insert of the same key) before it reads the row, and keeps it until commit. A worker whose batch shares a
key with another worker's uncommitted batch therefore waits for that commit and then sees its articles:
there is no window between "look" and "write". Keys are taken in one global order (buckets before keys,
each sorted), so two batches never wait on each other in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.dedup.engine import Method
from shared.dedup.keys import window_floor

# The batch's ids travel once (``:ids``, ascending); each entry names its id by position (``:items``), and
# only the buckets that hold more than one id come back: the others tell nothing.
_UPSERT_BUCKETS = text(
    """
    WITH up AS (
        INSERT INTO lsh_buckets AS b (band, hash, article_ids, updated_at)
        SELECT t.band, t.hash, array_agg((CAST(:ids AS uuid[]))[t.item] ORDER BY t.item DESC), now()
        FROM unnest(CAST(:bands AS smallint[]), CAST(:hashes AS bigint[]), CAST(:items AS int[]))
            AS t(band, hash, item)
        GROUP BY t.band, t.hash
        ORDER BY t.band, t.hash
        ON CONFLICT (band, hash) DO UPDATE SET
            article_ids = ARRAY(
                SELECT DISTINCT x FROM unnest(b.article_ids || excluded.article_ids) AS x
                WHERE x >= CAST(:floor AS uuid) ORDER BY x DESC LIMIT :cap
            ),
            updated_at = now()
        RETURNING band, hash, article_ids
    )
    SELECT band, hash, article_ids FROM up WHERE cardinality(article_ids) > 1
    """
)

_UPSERT_KEYS = text(
    """
    WITH up AS (
        INSERT INTO dedup_keys AS k (kind, key, article_ids, updated_at)
        SELECT t.kind, t.key, array_agg((CAST(:ids AS uuid[]))[t.item] ORDER BY t.item DESC), now()
        FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS bytea[]), CAST(:items AS int[])) AS t(kind, key, item)
        GROUP BY t.kind, t.key
        ORDER BY t.kind, t.key
        ON CONFLICT (kind, key) DO UPDATE SET
            article_ids = ARRAY(
                SELECT DISTINCT x FROM unnest(k.article_ids || excluded.article_ids) AS x
                WHERE x >= CAST(:floor AS uuid) ORDER BY x DESC LIMIT :cap
            ),
            updated_at = now()
        RETURNING kind, key, article_ids
    )
    SELECT kind, key, article_ids FROM up WHERE cardinality(article_ids) > 1
    """
)

# Expiry: rows untouched for a whole window hold only expired ids. SKIP LOCKED: never wait on a worker.
_EXPIRE_BUCKETS = text(
    """
    DELETE FROM lsh_buckets WHERE (band, hash) IN (
        SELECT band, hash FROM lsh_buckets WHERE updated_at < :cutoff
        ORDER BY updated_at LIMIT :limit FOR UPDATE SKIP LOCKED
    )
    """
)
_EXPIRE_KEYS = text(
    """
    DELETE FROM dedup_keys WHERE (kind, key) IN (
        SELECT kind, key FROM dedup_keys
        WHERE updated_at < :cutoff AND (kind = :title_kind) = :titles
        ORDER BY updated_at LIMIT :limit FOR UPDATE SKIP LOCKED
    )
    """
)


@dataclass
class IndexHits:
    """What the index held for each key after the batch was added (ids newest first, the batch's included);
    keys that hold the batch's one article alone are left out."""

    buckets: dict[tuple[int, int], list[uuid.UUID]] = field(default_factory=dict)
    keys: dict[tuple[str, bytes], list[uuid.UUID]] = field(default_factory=dict)


def index_batch(
    session: Session,
    *,
    bands: Sequence[tuple[int, int, uuid.UUID]],
    keys: Sequence[tuple[str, bytes, uuid.UUID]],
    now: datetime,
    window_days: float,
    cap: int,
) -> IndexHits:
    """Add the batch's (band, hash, id) and (kind, key, id) entries, locking their rows; return the rows.

    Two statements whatever the batch size. Does not commit: the locks are held until the caller does.
    """
    floor = window_floor(now, window_days)
    ids = sorted({i for _, _, i in bands} | {i for _, _, i in keys})
    position = {i: n for n, i in enumerate(ids, start=1)}  # PostgreSQL arrays count from 1
    hits = IndexHits()
    if bands:
        rows = session.execute(
            _UPSERT_BUCKETS,
            {
                "bands": _int_array([b for b, _, _ in bands]),
                "hashes": _int_array([h for _, h, _ in bands]),
                "items": _int_array([position[i] for _, _, i in bands]),
                "ids": ids,
                "floor": floor,
                "cap": cap,
            },
        )
        hits.buckets = {(r.band, r.hash): list(r.article_ids) for r in rows}
    if keys:
        rows = session.execute(
            _UPSERT_KEYS,
            {
                "kinds": [k for k, _, _ in keys],
                "keys": [key for _, key, _ in keys],
                "items": [position[i] for _, _, i in keys],
                "ids": ids,
                "floor": floor,
                "cap": cap,
            },
        )
        hits.keys = {(r.kind, bytes(r.key)): list(r.article_ids) for r in rows}
    return hits


def _int_array(values: list[int]) -> str:
    """A PostgreSQL array literal of integers, which the statement casts to its array type: a batch holds
    some 10,000 bucket entries, and the driver's own list adaptation checks every element for quoting, which
    integers never need (a third of the client's time in the upsert)."""
    return "{" + ",".join(map(str, values)) + "}"


@dataclass(frozen=True)
class Expired:
    buckets: int
    keys: int


def expire(session: Session, *, now: datetime, window_days: float, title_window_days: float, limit: int) -> Expired:
    """Delete up to ``limit`` index rows per table that hold nothing newer than their window. Does not commit."""
    cutoff = now - timedelta(days=window_days)
    buckets = session.execute(_EXPIRE_BUCKETS, {"cutoff": cutoff, "limit": limit})
    other = session.execute(
        _EXPIRE_KEYS, {"cutoff": cutoff, "limit": limit, "title_kind": Method.same_title.value, "titles": False}
    )
    titles = session.execute(
        _EXPIRE_KEYS,
        {
            "cutoff": now - timedelta(days=title_window_days),
            "limit": limit,
            "title_kind": Method.same_title.value,
            "titles": True,
        },
    )
    count = lambda r: int(getattr(r, "rowcount", 0) or 0)  # noqa: E731
    return Expired(buckets=count(buckets), keys=count(other) + count(titles))
