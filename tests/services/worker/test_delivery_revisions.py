"""Saved searches and revisions: a revised article that still matches is delivered again, once, in a message
of type ``article.revised``; a withdrawn one is not delivered."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from services.worker.delivery_match import create_deliveries
from shared.db.models import Delivery, SavedSearch
from shared.delivery.settings import DeliverySettings
from tests.support import wait_for

ARTICLE = {
    "title": "Fire at Gdansk harbour warehouse kills two workers",
    "body": "A fire at a grain warehouse of Baltorex killed two workers early on Friday.",
    "source": "wire",
    "external_id": "gdansk-fire",
}


def _processed(db: Engine, article_id: str, revision: int) -> bool:
    with db.connect() as conn:
        row = conn.execute(
            text("SELECT i.state, a.revision FROM ingestions i LEFT JOIN articles a USING (id) WHERE i.id = :id"),
            {"id": article_id},
        ).one()
    return row.state == "processed" and row.revision == revision


def _deliver(db: Engine, article_id: str) -> list[tuple[str, int]]:
    with Session(db) as session, session.begin():
        _, created = create_deliveries(session, DeliverySettings(), [uuid.UUID(article_id)])
        bodies = session.scalars(select(Delivery.body).where(Delivery.id.in_(created))).all()
    return [(json.loads(b)["type"], json.loads(b)["data"]["articles"][0]["revision"]) for b in bodies]


def test_a_revision_is_delivered_again_as_article_revised(ingest: httpx.Client, db: Engine) -> None:
    with Session(db) as session, session.begin():
        session.add(
            SavedSearch(
                id=uuid.uuid4(),
                name="baltorex",
                filters={"q": "Baltorex"},
                webhook_url="https://hooks.example.com/baltorex",
                secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
                active=True,
                created_at=datetime(2000, 1, 1, tzinfo=UTC),
            )
        )
    article_id = ingest.post("/v1/articles", json=ARTICLE).json()["id"]
    wait_for(lambda: _processed(db, article_id, 1), timeout=90, what="the article processed")
    assert _deliver(db, article_id) == [("saved_search.matched", 1)]
    assert _deliver(db, article_id) == [], "a replayed stream entry is not delivered twice"

    revised = {**ARTICLE, "title": "CORRECTED: " + ARTICLE["title"].replace("two", "three")}
    assert ingest.post("/v1/articles", json=revised).json()["revision"] == 2
    wait_for(lambda: _processed(db, article_id, 2), timeout=90, what="the revision processed")
    assert _deliver(db, article_id) == [("article.revised", 2)]
    assert _deliver(db, article_id) == []

    assert ingest.post(f"/v1/articles/{article_id}/withdraw", json={}).status_code == 200
    assert ingest.post("/v1/articles", json={**revised, "body": ARTICLE["body"] + " More."}).json()["revision"] == 3
    wait_for(lambda: _processed(db, article_id, 3), timeout=90, what="the third revision processed")
    assert _deliver(db, article_id) == [], "withdrawn articles are not delivered"
