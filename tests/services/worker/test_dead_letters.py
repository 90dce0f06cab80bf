"""The pipeline's failure path as plain functions on a real database: backoff, then a dead letter."""

from __future__ import annotations

from sqlalchemy import Engine, text

from services.worker.dead_letters import ReliabilitySettings, retry_delay_s
from services.worker.pipeline import build_stages, process_batch
from services.worker.sweeper import claim_stalled
from services.worker.tasks import sweep_stalled_task
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from tests.factories import article_payload, insert_ingestions

FAST = ReliabilitySettings(retry_base_s=0.1, retry_max_s=1.0)


def _row(db: Engine, article_id: object) -> dict:
    with db.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM ingestions WHERE id = :id"), {"id": article_id}).one()._mapping)


def _dead_letters(db: Engine) -> list[dict]:
    with db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM dead_letters ORDER BY id"))]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    settings = ReliabilitySettings(retry_base_s=1.0, retry_max_s=10.0)
    for attempts, full in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 10.0)):
        delays = [retry_delay_s(attempts, settings) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > 0  # jittered


def test_a_poison_article_is_retried_with_backoff_then_parked_with_its_stack(db: Engine) -> None:
    settings = get_settings()
    max_attempts = settings.pipeline.max_retries + 1
    stages, sessions = build_stages(settings), make_sessionmaker(db)
    poison = article_payload(title="Poison")
    poison["published_at"] = "not a date"  # cannot come through the API; a corrupt row
    good, bad, other = insert_ingestions(
        db, [article_payload(title="Good"), poison, article_payload(title="Also good")]
    )

    first = process_batch(sessions, settings, stages, [good, bad, other], FAST)
    assert sorted(first.processed) == sorted([good, other])
    assert first.retry == [bad] and 0.05 <= first.retry_in_s <= 0.1 and first.failed == {}
    row = _row(db, bad)
    assert row["state"] == "processing" and row["error"].startswith("normalise: ValueError")
    assert row["next_attempt_at"] > row["updated_at"]
    with sessions.begin() as session:  # the sweeper waits for the backoff instead of re-enqueueing at once
        waiting = claim_stalled(session, stalled_after_s=0, batch=100, max_attempts=max_attempts, queue_head=None)
    assert waiting.retry == []
    with db.begin() as conn:  # the backoff is over: the next sweep re-enqueues it, stalled or not
        conn.execute(text("UPDATE ingestions SET next_attempt_at = now() - interval '1 second'"))
    with sessions.begin() as session:
        due = claim_stalled(session, stalled_after_s=3600, batch=100, max_attempts=max_attempts, queue_head=None)
    assert due.retry == [bad] and due.were_claimed == 1
    assert _row(db, bad)["state"] == "accepted" and _row(db, bad)["next_attempt_at"] is None

    for _ in range(max_attempts - 2):
        assert process_batch(sessions, settings, stages, [bad], FAST).retry == [bad]
    last = process_batch(sessions, settings, stages, [bad], FAST)
    assert list(last.failed) == [bad] and last.retry == []

    [letter] = _dead_letters(db)
    assert letter["ingestion_id"] == bad and letter["stage"] == "normalise" and letter["error_type"] == "ValueError"
    assert "not a date" in letter["error"] and "Traceback" in letter["stack"] and "fromisoformat" in letter["stack"]
    assert letter["attempts"] == max_attempts and letter["times_parked"] == 1 and letter["replayed_at"] is None
    assert _row(db, bad)["state"] == "failed"

    # A late duplicate of its task leaves a parked article alone.
    again = process_batch(sessions, settings, stages, [bad], FAST)
    assert again.skipped == [bad] and _row(db, bad)["attempts"] == max_attempts
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM articles")) == 2


def test_an_article_whose_attempts_never_finished_is_parked_without_running(db: Engine) -> None:
    settings = get_settings()
    max_attempts = settings.pipeline.max_retries + 1
    [stuck] = insert_ingestions(db, [article_payload()], state="processing", attempts=max_attempts)
    outcome = process_batch(make_sessionmaker(db), settings, build_stages(settings), [stuck], FAST)
    assert list(outcome.failed) == [stuck] and outcome.processed == []
    [letter] = _dead_letters(db)
    assert letter["stage"] == "worker" and letter["error_type"] == "AttemptsExhausted"
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM articles")) == 0


def test_the_sweeper_parks_stalled_rows_out_of_attempts_and_requeues_the_rest(db: Engine) -> None:
    max_attempts = get_settings().pipeline.max_retries + 1
    [exhausted] = insert_ingestions(
        db, [article_payload(title="Kills its worker")], state="processing", attempts=max_attempts
    )
    [lost] = insert_ingestions(db, [article_payload(title="Lost task")], state="processing", attempts=1)
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET updated_at = now() - interval '10 minutes'"))

    swept = sweep_stalled_task()

    assert swept == {"requeued": 1, "failed": 1}
    [letter] = _dead_letters(db)
    assert letter["ingestion_id"] == exhausted and letter["stage"] == "worker"
    assert _row(db, exhausted)["state"] == "failed"
    assert _row(db, lost)["state"] in ("accepted", "processing", "processed")
