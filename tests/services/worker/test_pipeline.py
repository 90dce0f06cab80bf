"""The pipeline as plain functions on a real database: idempotent, batch-safe, poison isolated."""

from __future__ import annotations

from sqlalchemy import Engine, text

from services.worker.pipeline import build_stages, process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from tests.factories import article_payload, insert_ingestions


def _articles(db: Engine) -> list[dict]:
    with db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM articles ORDER BY id"))]


def test_processing_twice_yields_the_same_rows(db: Engine) -> None:
    settings = get_settings()
    stages = build_stages(settings)
    sessions = make_sessionmaker(db)
    ids = insert_ingestions(
        db,
        [
            article_payload(title="Markets  rally\u200b", url="https://Example.com/a/?utm_source=x"),
            article_payload(title="Second story", body="Eine kurze Nachricht über die Wahl in Berlin und Bayern."),
        ],
    )
    first = process_batch(sessions, settings, stages, ids)
    assert sorted(first.processed) == sorted(ids)
    rows_once = _articles(db)

    # A redelivered task: already processed, so nothing is claimed and nothing changes.
    again = process_batch(sessions, settings, stages, ids)
    assert again.processed == [] and sorted(again.skipped) == sorted(ids)

    # Forced reprocessing (state reset, as a replay would do) rewrites identical content.
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET state = 'accepted'"))
    process_batch(sessions, settings, stages, ids)
    rows_twice = _articles(db)
    assert len(rows_twice) == 2
    ignore = {"processed_at", "search_vector"}
    assert [{k: v for k, v in r.items() if k not in ignore} for r in rows_twice] == [
        {k: v for k, v in r.items() if k not in ignore} for r in rows_once
    ]
    by_title = {r["title"]: r for r in rows_twice}
    assert by_title["Markets rally"]["canonical_url"] == "https://example.com/a"
    assert by_title["Second story"]["language"] == "de"
    with db.connect() as conn:
        states = conn.execute(text("SELECT state, attempts FROM ingestions")).all()
    assert {s for s, _ in states} == {"processed"}


def test_a_poison_article_fails_alone(db: Engine) -> None:
    settings = get_settings()
    sessions = make_sessionmaker(db)
    good = article_payload(title="Good one")
    poison = article_payload(title="Poison")
    poison["published_at"] = "not a date"  # cannot come through the API; simulates a corrupt row
    ids = insert_ingestions(db, [good, poison, article_payload(title="Another good one")])
    outcome = process_batch(sessions, settings, build_stages(settings), ids)
    assert sorted(outcome.processed) == sorted([ids[0], ids[2]])
    # First failure: a retry after a backoff, not yet a dead letter (tests/services/worker/test_dead_letters.py).
    assert outcome.retry == [ids[1]] and outcome.failed == {}
    with db.connect() as conn:
        failed = conn.execute(text("SELECT state, error FROM ingestions WHERE id = :id"), {"id": ids[1]}).one()
        assert conn.scalar(text("SELECT count(*) FROM articles")) == 2
    assert failed.state == "processing"
    assert "not a date" in failed.error


def test_each_stage_reports_the_cpu_it_cost(db: Engine) -> None:
    from prometheus_client import REGISTRY

    def cpu(stage: str) -> float:
        return REGISTRY.get_sample_value("tidings_stage_cpu_seconds_total", {"stage": stage}) or 0.0

    settings = get_settings()
    stages = build_stages(settings)
    names = [s.name for s in stages] + ["store"]
    before = {name: cpu(name) for name in names}
    ids = insert_ingestions(db, [article_payload(title=f"Story {i}") for i in range(3)])
    assert sorted(process_batch(make_sessionmaker(db), settings, stages, ids).processed) == sorted(ids)
    # Operators read which stage takes the worker's core from these counters (the capacity benchmark too).
    assert all(cpu(name) > before[name] for name in names)
