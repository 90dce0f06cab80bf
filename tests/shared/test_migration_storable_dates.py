"""Migration 0009 on a database that already holds unreadable dates: the rows are repaired (an article
dated by its arrival, a cluster's span recomputed from its members) and the constraints then hold."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from devtools import infra as infra_mod
from services.worker.pipeline import build_stages, process_batch
from shared.config import DatabaseSettings, get_settings
from shared.db.engine import make_engine, make_sessionmaker
from tests.factories import article_payload, insert_ingestions
from tests.support import ROOT


def _alembic(database_url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), *args],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def before_repair(test_infra: Any) -> Iterator[tuple[str, Engine]]:
    name = f"{test_infra.db_name}_migration"
    url = infra_mod.ensure_database(test_infra.infra, name, fresh=True)
    _alembic(url, "upgrade", "head")
    engine = make_engine(DatabaseSettings.model_validate({"DATABASE_URL": url}))
    try:
        yield url, engine
    finally:
        engine.dispose()
        infra_mod.drop_database(test_infra.infra, name)


def test_the_migration_repairs_unreadable_dates_then_refuses_them(before_repair: tuple[str, Engine]) -> None:
    url, engine = before_repair
    settings = get_settings()
    payloads = [article_payload(title="Lighthouse keeper retires"), article_payload(title="Museum opens a wing",
                body="The maritime museum opened a new wing on Saturday.\n\nIt holds ship models.")]  # fmt: skip
    for payload in payloads:
        payload["published_at"] = "2026-03-02T07:30:00+00:00"
    ids = insert_ingestions(engine, payloads)
    assert sorted(process_batch(make_sessionmaker(engine), settings, build_stages(settings), ids).processed) == sorted(
        ids
    )
    # The articles are processed by today's code on today's schema; the schema then goes back to just before
    # the repair, where nothing stopped such dates from being stored.
    _alembic(url, "downgrade", "0008")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE articles SET published_at = '10000-01-01 00:00:00+00' WHERE id = :id"), {"id": ids[0]}
        )
        conn.execute(
            text("UPDATE articles SET published_at = '0001-01-01 00:00:00+00 BC' WHERE id = :id"), {"id": ids[1]}
        )
        conn.execute(
            text("UPDATE clusters SET first_published_at = '0001-01-01 BC', last_published_at = '10000-01-01'")
        )

    _alembic(url, "upgrade", "head")

    with engine.connect() as conn:
        articles = conn.execute(
            text("SELECT published_at = received_at AS on_arrival, published_at_given FROM articles")
        ).all()
        assert [tuple(r) for r in articles] == [(True, False), (True, False)]
        spans = conn.execute(
            text(
                "SELECT bool_and(c.first_published_at = a.published_at AND c.last_published_at = a.published_at) "
                "FROM clusters c JOIN articles a ON a.cluster_id = c.id"
            )
        ).scalar_one()
        assert spans is True
        tags_follow = conn.execute(
            text(
                "SELECT bool_and(t.published_at = a.published_at) FROM article_tags t JOIN articles a ON a.id = t.article_id"
            )
        ).scalar_one()
        assert tags_follow in (True, None)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text("UPDATE articles SET published_at = '10000-01-01 00:00:00+00' WHERE id = :id"), {"id": ids[0]}
        )
