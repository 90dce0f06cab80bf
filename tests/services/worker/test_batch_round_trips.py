"""Database round trips per batch stay constant in the batch's size: one statement per table, not per article."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from services.worker.pipeline import build_stages, process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from tests.factories import article_payload, insert_ingestions


@contextmanager
def _statements(engine: Engine) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen[" ".join(statement.split()[:3])] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _batch(db: Engine, size: int, tag: str) -> Counter[str]:
    payloads = [
        article_payload(
            title=f"{tag} story {n}: talks resume in Geneva",
            body=f"Negotiators from {n} delegations met in Geneva on Tuesday, officials in Switzerland said. "
            f"The {tag} round {n} is expected to last a week, with sanctions and aid on the agenda.",
            external_id=f"{tag}-{n}",
        )
        for n in range(size)
    ]
    # Half the batch are exact copies of the other half: the copies take the tag path that inherits.
    payloads += [p | {"external_id": f"{p['external_id']}-copy"} for p in payloads[: size // 2]]
    ids = insert_ingestions(db, payloads)
    settings = get_settings()
    stages = build_stages(settings)
    sessions = make_sessionmaker(db)
    with _statements(db) as seen:
        outcome = process_batch(sessions, settings, stages, ids)
    assert sorted(outcome.processed) == sorted(ids)
    return seen


def test_statements_per_batch_do_not_grow_with_the_batch(db: Engine) -> None:
    _batch(db, 2, "warm")  # the first batch of a process reads what later batches have cached
    small = _batch(db, 2, "small")
    large = _batch(db, 24, "large")
    assert sum(large.values()) == sum(small.values()), (small, large)
    assert sum(small.values()) <= 30, small
