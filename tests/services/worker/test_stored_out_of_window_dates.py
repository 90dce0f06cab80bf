"""An ingestion accepted before the date window was enforced (or after it was narrowed) still gets processed:
its impossible date is dropped and the article dated by its arrival, never dead-lettered, never lost."""

from __future__ import annotations

from sqlalchemy import Engine, text

from services.worker.pipeline import build_stages, process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from tests.factories import article_payload, insert_ingestions


def test_an_accepted_article_with_a_date_outside_the_window_is_processed_dated_on_arrival(db: Engine) -> None:
    settings = get_settings()
    late = article_payload(title="Lighthouse keeper retires")
    late["published_at"] = "9999-12-31T23:59:59-14:00"  # 10000-01-01 in UTC, as once accepted
    early = article_payload(title="Museum opens a maritime wing")
    early["published_at"] = "0001-01-01T00:00:00+14:00"  # 1 BC in UTC
    dated = article_payload(title="Ferry timetable changes")
    dated["published_at"] = "2026-03-02T07:30:00+00:00"
    ids = insert_ingestions(db, [late, early, dated])
    outcome = process_batch(make_sessionmaker(db), settings, build_stages(settings), ids)
    assert sorted(outcome.processed) == sorted(ids) and outcome.retry == []
    with db.connect() as conn:
        rows = {
            r.id: r
            for r in conn.execute(text("SELECT id, published_at, published_at_given, received_at FROM articles"))
        }
    assert [rows[i].published_at == rows[i].received_at for i in ids] == [True, True, False]
    assert [rows[i].published_at_given for i in ids] == [False, False, True]
    assert rows[ids[2]].published_at.isoformat() == "2026-03-02T07:30:00+00:00"
