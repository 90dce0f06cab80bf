"""The shared, race-free candidate index of events in PostgreSQL (``event_keys``).

A row per (period, key) holds the newest article ids carrying the key (a salient term of the title and lead,
or a named entity or place) among the articles published in that period, a period being ``W`` days (the
window; days since 1970 divided by W). An article of period ``p`` is written into row ``p`` and *touches*
(locks without adding to) row ``p+1`` of each of its keys; it reads rows ``p-1 .. p+1``. Two articles at
most W days apart are in the same or in neighbouring periods, so they both lock one common row of every key
they share (the later period's), and the second waits on the first's commit and then sees it, as in the
dedup index: no moment between "look" and "write". The exact window is checked when the candidates are
scored. The upsert runs in one global (period, key) order, one statement for the whole batch, then one
plain read of the earlier periods' rows (after the locks, so it sees what the waited-on transactions
committed).
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
        INSERT INTO event_keys AS k (period, key, article_ids, updated_at)
        SELECT t.period, t.key,
               coalesce(
                   array_agg((CAST(:ids AS uuid[]))[t.item] ORDER BY t.item DESC) FILTER (WHERE t.item > 0),
                   CAST('{}' AS uuid[])
               ),
               now()
        FROM unnest(CAST(:periods AS int[]), CAST(:keys AS bigint[]), CAST(:items AS int[])) AS t(period, key, item)
        GROUP BY t.period, t.key
        ORDER BY t.period, t.key
        ON CONFLICT (period, key) DO UPDATE SET
            article_ids = ARRAY(
                SELECT DISTINCT x FROM unnest(k.article_ids || excluded.article_ids) AS x ORDER BY x DESC LIMIT :cap
            ),
            updated_at = now()
        RETURNING period, key, article_ids
    )
    SELECT period, key, article_ids FROM up WHERE cardinality(article_ids) > 0
    """
)

_READ = text(
    """
    SELECT k.period, k.key, k.article_ids
    FROM event_keys k
    JOIN unnest(CAST(:periods AS int[]), CAST(:keys AS bigint[])) AS t(period, key)
        ON (k.period, k.key) = (t.period, t.key)
    """
)

_EXPIRE = text(
    """
    DELETE FROM event_keys WHERE (period, key) IN (
        SELECT period, key FROM event_keys WHERE updated_at < :cutoff
        ORDER BY updated_at LIMIT :limit FOR UPDATE SKIP LOCKED
    )
    """
)

Rows = dict[tuple[int, int], list[uuid.UUID]]


def period_of(day: int, window_days: int) -> int:
    return day // max(window_days, 1)


def index_batch(
    session: Session, entries: Sequence[tuple[int, tuple[int, ...], uuid.UUID]], *, window_days: int, cap: int
) -> Rows:
    """Add each (day, keys, article id) and lock the rows the window needs; return the rows of the periods
    around each article, keyed by (period, key).

    Two statements whatever the batch size. Does not commit: the row locks are held until the caller does.
    """
    if not entries:
        return {}
    ids = sorted({i for _, _, i in entries})
    position = {i: n for n, i in enumerate(ids, start=1)}  # PostgreSQL arrays count from 1
    items: set[tuple[int, int, int]] = set()  # (period, key, an id's position or 0 for a lock-only touch)
    earlier: set[tuple[int, int]] = set()
    for day, keys, article_id in entries:
        p = period_of(day, window_days)
        for key in keys:
            items.add((p, key, position[article_id]))
            items.add((p + 1, key, 0))
            earlier.add((p - 1, key))
    ordered = sorted(items)
    rows: Rows = {}
    for r in session.execute(
        _UPSERT,
        {
            "periods": [p for p, _, _ in ordered],
            "keys": [k for _, k, _ in ordered],
            "items": [i for _, _, i in ordered],
            "ids": ids,
            "cap": cap,
        },
    ):
        rows[(r.period, r.key)] = list(r.article_ids)
    to_read = sorted(earlier - {(p, k) for p, k, _ in ordered})
    if to_read:
        for r in session.execute(_READ, {"periods": [p for p, _ in to_read], "keys": [k for _, k in to_read]}):
            rows[(r.period, r.key)] = list(r.article_ids)
    return rows


def expire(session: Session, *, now: datetime, retention_days: int, limit: int) -> int:
    """Delete up to ``limit`` rows untouched for ``retention_days``; never waits on a worker. Does not commit."""
    result = session.execute(_EXPIRE, {"cutoff": now - timedelta(days=retention_days), "limit": limit})
    return int(getattr(result, "rowcount", 0) or 0)
