"""The shared, race-free candidate index of events in PostgreSQL (``event_keys``).

A row per (publication day, key) holds the newest article ids of that day carrying the key (a salient term
of the title and lead, or a named entity or place). An article published on day ``d`` is written into row
``d`` and *touches* (locks without adding to) rows ``d+1 .. d+W`` of each key, W being the window in days;
it reads rows ``d-W .. d+W``. Any two articles at most W days apart therefore lock one common row of every
key they share (the later day of the two), so the second waits on the first's commit and then sees it, as
in the dedup index: no moment between "look" and "write". The upsert runs in one global (day, key) order,
one statement for the whole batch, then one plain read of the earlier days' rows (after the locks, so it
sees what the waited-on transactions committed).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

_UPSERT = text(
    """
    WITH up AS (
        INSERT INTO event_keys AS k (day, key, article_ids, updated_at)
        SELECT t.day, t.key,
               coalesce(
                   array_agg((CAST(:ids AS uuid[]))[t.item] ORDER BY t.item DESC) FILTER (WHERE t.item > 0),
                   CAST('{}' AS uuid[])
               ),
               now()
        FROM unnest(CAST(:days AS int[]), CAST(:keys AS bigint[]), CAST(:items AS int[])) AS t(day, key, item)
        GROUP BY t.day, t.key
        ORDER BY t.day, t.key
        ON CONFLICT (day, key) DO UPDATE SET
            article_ids = ARRAY(
                SELECT DISTINCT x FROM unnest(k.article_ids || excluded.article_ids) AS x ORDER BY x DESC LIMIT :cap
            ),
            updated_at = now()
        RETURNING day, key, article_ids
    )
    SELECT day, key, article_ids FROM up WHERE cardinality(article_ids) > 0
    """
)

_READ = text(
    """
    SELECT k.day, k.key, k.article_ids
    FROM event_keys k
    JOIN unnest(CAST(:days AS int[]), CAST(:keys AS bigint[])) AS t(day, key) ON (k.day, k.key) = (t.day, t.key)
    """
)

_EXPIRE = text(
    """
    DELETE FROM event_keys WHERE (day, key) IN (
        SELECT day, key FROM event_keys WHERE updated_at < :cutoff
        ORDER BY updated_at LIMIT :limit FOR UPDATE SKIP LOCKED
    )
    """
)

Rows = dict[tuple[int, int], list[uuid.UUID]]


def index_batch(
    session: Session, entries: Sequence[tuple[int, tuple[int, ...], uuid.UUID]], *, window_days: int, cap: int
) -> Rows:
    """Add each (day, keys, article id) and lock the rows the window needs; return every row in the window.

    Two statements whatever the batch size. Does not commit: the row locks are held until the caller does.
    """
    if not entries:
        return {}
    ids = sorted({i for _, _, i in entries})
    position = {i: n for n, i in enumerate(ids, start=1)}  # PostgreSQL arrays count from 1
    written: dict[tuple[int, int], int] = {}  # (day, key) → an id's position, or 0 for a lock-only touch
    earlier: set[tuple[int, int]] = set()
    for day, keys, article_id in entries:
        for key in keys:
            written[(day, key)] = position[article_id] if (day, key) not in written else written[(day, key)]
            for later in range(day + 1, day + window_days + 1):
                written.setdefault((later, key), 0)
            earlier.update((before, key) for before in range(day - window_days, day))
    items = [(d, k, i) for (d, k), i in written.items()]
    # Several articles of the batch may share a (day, key): one entry each.
    items += [(day, key, position[a]) for day, keys, a in entries for key in keys if written[(day, key)] != position[a]]
    items.sort()
    rows: Rows = {}
    for r in session.execute(
        _UPSERT,
        {
            "days": [d for d, _, _ in items],
            "keys": [k for _, k, _ in items],
            "items": [i for _, _, i in items],
            "ids": ids,
            "cap": cap,
        },
    ):
        rows[(r.day, r.key)] = list(r.article_ids)
    to_read = sorted(earlier - set(written))
    if to_read:
        for r in session.execute(_READ, {"days": [d for d, _ in to_read], "keys": [k for _, k in to_read]}):
            rows[(r.day, r.key)] = list(r.article_ids)
    return rows


def expire(session: Session, *, now: datetime, retention_days: int, limit: int) -> int:
    """Delete up to ``limit`` rows untouched for ``retention_days``; never waits on a worker. Does not commit."""
    result = session.execute(_EXPIRE, {"cutoff": now - timedelta(days=retention_days), "limit": limit})
    return int(getattr(result, "rowcount", 0) or 0)
