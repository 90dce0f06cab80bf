"""Backfills on a real database: a new rule reaches recent articles in chunks with progress, a changed rule
replaces its tags, a deleted rule's tags go, a tagger version change re-tags, old jobs are superseded."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from services.worker.backfill import claim_stalled_jobs, register_versions, run_chunk
from services.worker.pipeline import build_stages, process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.db.models import BackfillJob, TagRule
from shared.ids import uuid7
from shared.tagging.jobs import new_job, supersede
from shared.tagging.store import RULES_LOCK_KEY, lock_rules_shared
from tests.factories import article_payload, insert_ingestions
from tests.support import wait_for

OLD = (datetime.now(UTC) - timedelta(days=400)).isoformat()


def _articles(db: Engine, titles: list[str], **overrides: str) -> list[uuid.UUID]:
    settings = get_settings()
    body = "The council met on Tuesday and agreed to publish its accounts next month, officials said."
    ids = insert_ingestions(db, [article_payload(title=t, body=body, **overrides) for t in titles])
    process_batch(make_sessionmaker(db), settings, build_stages(settings), ids)
    return ids


def _rule_job(sessions: sessionmaker, expression: str, *, tag: str = "aleppo-watch") -> tuple[uuid.UUID, uuid.UUID]:
    with sessions.begin() as session:
        rule = TagRule(id=uuid7(), name="watch", tag=tag, expression=expression, enabled=True, version=1)
        session.add(rule)
        session.flush()
        job = new_job(tagger=f"rule:{rule.id}", tagger_version="1", reason="rule created", rule_id=rule.id)
        session.add(job)
        return rule.id, job.id


def _run_to_end(sessions: sessionmaker, job_id: uuid.UUID, chunk_size: int) -> int:
    chunks = 0
    while True:
        chunks += 1
        result = run_chunk(sessions, job_id, chunk_size=chunk_size)
        if not result.more:
            return chunks


def _job(db: Engine, job_id: uuid.UUID) -> dict:
    with db.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM backfill_jobs WHERE id = :id"), {"id": job_id}).one()._mapping)


def _rule_tags(db: Engine, rule_id: uuid.UUID) -> dict[uuid.UUID, dict]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM article_tags WHERE tagger = :t"), {"t": f"rule:{rule_id}"})
        return {r.article_id: dict(r._mapping) for r in rows}


def test_a_new_rule_reaches_recent_articles_in_chunks(db: Engine) -> None:
    sessions = make_sessionmaker(db)
    recent = _articles(db, [f"Aleppo report {i}" for i in range(5)] + ["Weather in Oslo"])
    old = _articles(db, ["Aleppo archive"], published_at=OLD)
    rule_id, job_id = _rule_job(sessions, "aleppo")
    assert _job(db, job_id)["state"] == "pending"

    first = run_chunk(sessions, job_id, chunk_size=4)
    job = _job(db, job_id)
    assert first.more and job["state"] == "running"
    assert (job["total"], job["done"]) == (6, 4)  # the 400-day-old article is outside the window

    assert _run_to_end(sessions, job_id, chunk_size=4) == 1
    job = _job(db, job_id)
    assert (job["state"], job["done"], job["tagged"]) == ("done", 6, 5)
    assert job["finished_at"] is not None
    tags = _rule_tags(db, rule_id)
    assert set(tags) == set(recent[:5]) and old[0] not in tags
    assert {t["value"] for t in tags.values()} == {"aleppo-watch"}

    assert run_chunk(sessions, job_id, chunk_size=4).more is False  # a finished job stays finished


def test_a_changed_rule_replaces_its_tags_and_a_deleted_one_loses_them(db: Engine) -> None:
    sessions = make_sessionmaker(db)
    aleppo, oslo = _articles(db, ["Aleppo report", "Weather in Oslo"])
    rule_id, job_id = _rule_job(sessions, "aleppo")
    _run_to_end(sessions, job_id, chunk_size=10)
    assert set(_rule_tags(db, rule_id)) == {aleppo}

    with sessions.begin() as session:
        rule = session.get(TagRule, rule_id)
        assert rule is not None
        rule.expression, rule.version = "oslo", 2
        changed = new_job(tagger=f"rule:{rule_id}", tagger_version="2", reason="rule changed", rule_id=rule_id)
        session.add(changed)
    _run_to_end(sessions, changed.id, chunk_size=1)
    tags = _rule_tags(db, rule_id)
    assert set(tags) == {oslo} and tags[oslo]["tagger_version"] == "2"

    with sessions.begin() as session:
        session.execute(supersede(f"rule:{rule_id}"))
        session.delete(session.get(TagRule, rule_id))
        removal = new_job(
            tagger=f"rule:{rule_id}", tagger_version="2", reason="rule deleted", rule_id=rule_id, action="remove"
        )
        session.add(removal)
    _run_to_end(sessions, removal.id, chunk_size=10)
    assert _rule_tags(db, rule_id) == {}
    job = _job(db, removal.id)
    assert (job["state"], job["total"], job["done"]) == ("done", 1, 1)


def test_a_superseded_job_stops(db: Engine) -> None:
    sessions = make_sessionmaker(db)
    _articles(db, ["Aleppo report"])
    rule_id, first = _rule_job(sessions, "aleppo")
    with sessions.begin() as session:
        session.execute(supersede(f"rule:{rule_id}"))
    result = run_chunk(sessions, first, chunk_size=10)
    assert (result.state, result.more) == ("superseded", False)
    assert _rule_tags(db, rule_id) == {}

    # A job whose rule moved on since it was queued hands over to the newer job.
    with sessions.begin() as session:
        rule = session.get(TagRule, rule_id)
        assert rule is not None
        rule.version = 2
        stale = new_job(tagger=f"rule:{rule_id}", tagger_version="1", reason="rule created", rule_id=rule_id)
        session.add(stale)
    run_chunk(sessions, stale.id, chunk_size=10)
    assert _job(db, stale.id)["state"] == "superseded"


def test_a_tagger_version_change_retags_that_tagger_only(db: Engine) -> None:
    sessions = make_sessionmaker(db)
    [article] = _articles(db, ["Markets rally as shares jump"])
    with sessions.begin() as session:
        assert register_versions(session, {"tone": "1/vader-3.3.2"}, window_days=30) == []  # first sighting
        assert register_versions(session, {"tone": "1/vader-3.3.2"}, window_days=30) == []  # unchanged
    with db.begin() as conn:
        conn.execute(text("UPDATE article_tags SET tagger_version = 'old' WHERE tagger = 'tone'"))
        conn.execute(text("UPDATE tagger_versions SET version = 'old' WHERE tagger = 'tone'"))
        before = conn.execute(text("SELECT tagger, tagger_version FROM article_tags WHERE tagger <> 'tone'")).all()

    with sessions.begin() as session:
        [job_id] = register_versions(session, {"tone": "1/vader-3.3.2"}, window_days=30)
    with sessions.begin() as session:
        assert register_versions(session, {"tone": "1/vader-3.3.2"}, window_days=30) == []  # one change, one job
    _run_to_end(sessions, job_id, chunk_size=10)

    job = _job(db, job_id)
    assert (job["state"], job["tagger"], job["done"], job["tagged"]) == ("done", "tone", 1, 1)
    assert "changed from old" in job["reason"]
    with db.connect() as conn:
        tone = conn.execute(text("SELECT tagger_version FROM article_tags WHERE tagger = 'tone'")).scalars().all()
        after = conn.execute(text("SELECT tagger, tagger_version FROM article_tags WHERE tagger <> 'tone'")).all()
    assert tone == ["1/vader-3.3.2"]
    assert sorted(after) == sorted(before)  # other taggers' tags untouched
    assert article


def test_stalled_jobs_are_claimed_for_requeueing(db: Engine) -> None:
    sessions = make_sessionmaker(db)
    _, job_id = _rule_job(sessions, "aleppo")
    with sessions.begin() as session:
        assert claim_stalled_jobs(session, stalled_after_s=60) == []
    with db.begin() as conn:
        conn.execute(text("UPDATE backfill_jobs SET updated_at = now() - interval '1 hour'"))
    with sessions.begin() as session:
        assert claim_stalled_jobs(session, stalled_after_s=60) == [job_id]
        assert claim_stalled_jobs(session, stalled_after_s=60) == []  # touched: not claimed twice
    assert BackfillJob.__tablename__ == "backfill_jobs"


def _waiting_on_rules_lock(db: Engine) -> int:
    with db.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": RULES_LOCK_KEY},
            )
            or 0
        )


def test_a_rule_backfill_waits_for_batches_that_read_the_old_rules(db: Engine) -> None:
    sessions = make_sessionmaker(db)
    _articles(db, ["Aleppo report"])
    rule_id, job_id = _rule_job(sessions, "aleppo")
    reader = sessions()  # a pipeline transaction that read the rules before the rule existed, still open
    lock_rules_shared(reader)
    worker = threading.Thread(target=run_chunk, args=(sessions, job_id), kwargs={"chunk_size": 10})
    worker.start()
    try:
        wait_for(lambda: _waiting_on_rules_lock(db) == 1, timeout=20, what="the backfill to wait for the reader")
        assert _job(db, job_id)["state"] == "pending"
    finally:
        reader.commit()
        reader.close()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert _job(db, job_id)["state"] == "done"
    assert len(_rule_tags(db, rule_id)) == 1
