"""End to end: the newsroom article sent as plain text comes out tagged as the issue asks; an article in another
language is tagged with what applies to it; a rule created afterwards reaches both."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.support import NEWSROOM_ARTICLE, wait_for

pytestmark = pytest.mark.e2e

SPANISH = {
    "title": "El ejército sudanés lanza una ofensiva sobre Omdurmán",
    "body": "El ejército de Sudán atacó el miércoles los barrios del oeste de Omdurmán y las afueras de Jartum, "
    "según vecinos y trabajadores humanitarios. Los mediadores reunidos en El Cairo pidieron una tregua.",
    "source": "agencia",
    "external_id": "es-1",
}


def _processed(ingest: httpx.Client, article_id: str) -> bool:
    return ingest.get(f"/v1/articles/{article_id}/status").json()["status"] == "processed"


def _tags(db: Engine, article_id: str) -> dict[tuple[str, str], dict]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM article_tags WHERE article_id = :id"), {"id": article_id})
        return {(r.kind, r.value): dict(r._mapping) for r in rows}


def test_seed_article_and_a_spanish_one_are_tagged(ingest: httpx.Client, db: Engine) -> None:
    seed = ingest.post(
        "/v1/articles",
        content=NEWSROOM_ARTICLE.read_bytes(),
        headers={"Content-Type": "text/plain"},
        params={"source": "newsdesk", "external_id": "seed-tags"},
    ).json()["id"]
    spanish = ingest.post("/v1/articles", json=SPANISH).json()["id"]
    wait_for(lambda: _processed(ingest, seed) and _processed(ingest, spanish), timeout=90, what="both articles")

    tags = _tags(db, seed)
    assert tags[("language", "en")]["score"] > 0.9
    places = {
        "Omdurman": ("SD", 365137),
        "Khartoum": ("SD", 379252),
        "Cairo": ("EG", 360630),
        "Egypt": ("EG", 357994),
        "Chad": ("TD", 2434508),
        "Saudi Arabia": ("SA", 102358),
    }
    for name, (country, geonames_id) in places.items():
        attrs = tags[("place", name)]["attrs"]
        assert (attrs["country_code"], attrs["geonames_id"]) == (country, geonames_id)
        assert isinstance(attrs["lat"], float) and isinstance(attrs["lon"], float)
        assert tags[("place", name)]["tagger"] == "places"
    assert ("person", "Hassan Mirghani") in tags
    for org in ("Rapid Support Forces", "African Union", "World Food Programme", "United Nations"):
        assert ("organisation", org) in tags
    assert tags[("topic", "16000000")]["name"] == "conflict, war and peace"
    assert tags[("topic", "11000000")]["name"] == "politics"
    assert tags[("tone", "negative")]["score"] < 0
    assert all(t["tagger_version"] for t in tags.values())

    es = _tags(db, spanish)
    assert ("language", "es") in es
    assert any(kind == "keyword" for kind, _ in es)

    rule = ingest.post(
        "/v1/rules", json={"name": "Omdurman", "tag": "omdurman", "expression": "omdurman OR omdurmán"}
    ).json()

    def finished() -> bool:
        return ingest.get(rule["backfill"]["status_url"]).json()["state"] == "done"

    wait_for(finished, timeout=60, what="the rule's backfill")
    assert ("rule", "omdurman") in _tags(db, seed)
    assert ("rule", "omdurman") in _tags(db, spanish)


def test_a_tagger_upgrade_retags_recent_articles(ingest: httpx.Client, db: Engine) -> None:
    from shared.config import get_settings
    from shared.tasks import TaskName, make_celery

    article = ingest.post("/v1/articles", json={**SPANISH, "external_id": "es-2"}).json()["id"]
    english = ingest.post(
        "/v1/articles",
        json={
            "title": "Shares rally",
            "body": "Markets rose sharply as investors cheered strong profits.",
            "external_id": "en-2",
        },
    ).json()["id"]
    wait_for(lambda: _processed(ingest, article) and _processed(ingest, english), timeout=90, what="the articles")
    celery = make_celery(get_settings(), "tidings-test")

    def sweep() -> None:
        celery.send_task(TaskName.BACKFILL_SWEEP)

    def versions() -> dict[str, str]:
        with db.connect() as conn:
            return dict(conn.execute(text("SELECT tagger, version FROM tagger_versions")).all())

    sweep()  # the first sighting records the versions
    current = wait_for(lambda: versions().get("tone"), timeout=60, what="the tagger versions to be recorded")
    with db.begin() as conn:
        conn.execute(text("UPDATE tagger_versions SET version = 'tone-0' WHERE tagger = 'tone'"))
        conn.execute(text("UPDATE article_tags SET tagger_version = 'tone-0' WHERE tagger = 'tone'"))
    sweep()

    def job() -> dict | None:
        with db.connect() as conn:
            row = conn.execute(text("SELECT * FROM backfill_jobs WHERE tagger = 'tone'")).first()
        return dict(row._mapping) if row is not None and row.state == "done" else None

    done = wait_for(job, timeout=60, what="the tone backfill")
    assert done["tagger_version"] == current and done["done"] == 2 and done["tagged"] == 1  # Spanish: no tone
    assert versions()["tone"] == current
    assert ingest.get(f"/v1/backfills/{done['id']}").json()["progress"] == 1.0
    with db.connect() as conn:
        tone = conn.execute(text("SELECT article_id, tagger_version FROM article_tags WHERE tagger = 'tone'")).all()
    assert [(str(a), v) for a, v in tone] == [(english, current)]
    celery.close()
