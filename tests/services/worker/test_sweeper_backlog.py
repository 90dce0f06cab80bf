"""The sweeper is backlog-aware: rows still waiting in a long queue are not re-enqueued."""

from __future__ import annotations

import time
import uuid

import redis
from sqlalchemy import Engine, text

from services.worker.sweeper import claim_stalled, queue_head_enqueued_at
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.tasks import TaskName, make_celery
from tests.factories import article_payload, insert_ingestions


def test_the_queue_head_is_the_oldest_waiting_task(redis_client: redis.Redis, side_queue: str) -> None:
    assert queue_head_enqueued_at(redis_client, side_queue) is None
    app = make_celery(get_settings(), "tidings-test")
    try:
        before = time.time()
        app.send_task(TaskName.PROCESS_BATCH, args=[[]], queue=side_queue)
        first = queue_head_enqueued_at(redis_client, side_queue)
        app.send_task(TaskName.PROCESS_BATCH, args=[[]], queue=side_queue)
    finally:
        app.close()
    assert first is not None and before <= first <= time.time()
    assert redis_client.llen(side_queue) == 2
    assert queue_head_enqueued_at(redis_client, side_queue) == first
    redis_client.lpush(side_queue, b"not a kombu message")  # newest; the head is unchanged
    assert queue_head_enqueued_at(redis_client, side_queue) == first
    redis_client.rpush(side_queue, b"{}")  # an unstamped head: no backlog known, sweep as before
    assert queue_head_enqueued_at(redis_client, side_queue) is None


def _age(db: Engine, ids: list[uuid.UUID], seconds: int) -> None:
    with db.begin() as conn:
        conn.execute(
            text("UPDATE ingestions SET updated_at = now() - make_interval(secs => :s) WHERE id = ANY(:ids)"),
            {"s": seconds, "ids": ids},
        )


def test_rows_behind_the_queue_head_wait_their_turn(db: Engine) -> None:
    old = insert_ingestions(db, [article_payload(title=f"old {n}") for n in range(3)])
    queued = insert_ingestions(db, [article_payload(title=f"queued {n}") for n in range(3)])
    claimed = insert_ingestions(db, [article_payload(title="claimed")], state="processing", attempts=1)
    _age(db, old, 600)
    _age(db, queued + claimed, 30)
    sessions = make_sessionmaker(db)
    # The oldest task still in the queue was enqueued 60 s ago: rows queued after it are behind it.
    head = time.time() - 60
    with sessions.begin() as session:
        stalled = claim_stalled(session, stalled_after_s=3, batch=100, max_attempts=6, queue_head=head)
    assert sorted(stalled.retry) == sorted(old + claimed)  # a stale claimed row lost its worker
    with db.connect() as conn:
        states = dict(conn.execute(text("SELECT id, state FROM ingestions")).all())
    assert all(states[i] == "accepted" for i in old + claimed)

    # With an empty queue the plain staleness rule applies: the queued rows were lost too.
    _age(db, old + claimed, 600)
    with sessions.begin() as session:
        stalled = claim_stalled(session, stalled_after_s=3, batch=100, max_attempts=6, queue_head=None)
    assert sorted(stalled.retry) == sorted(old + queued + claimed)


def test_rows_a_worker_holds_are_never_swept(db: Engine) -> None:
    [busy] = insert_ingestions(db, [article_payload(title="busy")], state="processing", attempts=1)
    _age(db, [busy], 600)
    sessions = make_sessionmaker(db)
    with sessions.begin() as holder:  # a worker's batch transaction holds the row lock
        holder.execute(text("SELECT 1 FROM ingestions WHERE id = :id FOR UPDATE"), {"id": busy})
        with sessions.begin() as session:
            assert claim_stalled(session, stalled_after_s=3, batch=100, max_attempts=6, queue_head=None).retry == []
