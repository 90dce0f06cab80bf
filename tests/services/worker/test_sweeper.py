"""Redis carries only pointers: work it lost is found again in PostgreSQL and re-enqueued."""

from __future__ import annotations

import httpx
from celery import Celery
from sqlalchemy import Engine, text

from shared.config import get_settings
from shared.tasks import TaskName, make_celery
from tests.factories import article_payload, insert_ingestions
from tests.support import wait_for


def test_accepted_rows_whose_task_was_lost_are_processed(query: httpx.Client, db: Engine) -> None:
    # Rows committed, but their task never reached Redis (as after a Redis restart without persistence).
    ids = insert_ingestions(db, [article_payload(title=f"Lost story {n}") for n in range(5)])
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET updated_at = now() - interval '10 minutes'"))

    app: Celery = make_celery(get_settings(), "tidings-test")
    try:
        app.send_task(TaskName.SWEEP_STALLED)
    finally:
        app.close()

    def all_processed() -> bool:
        with db.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM ingestions WHERE state = 'processed'")) == len(ids)

    wait_for(all_processed, timeout=20, what="the swept ingestions to be processed")
    assert query.get(f"/v1/articles/{ids[0]}").json()["title"] == "Lost story 0"
