"""What a key may write: a registered source only by the keys granted it (and admin keys), so an ingest key
cannot claim another source's ids ahead of its signed webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from tests import conftest
from tests.conftest import create_test_api_key
from tests.services.ingest.channel_support import count, deliver, make_source

FORGED = {
    "source": "partner-x",
    "external_id": "story-42",
    "title": "Forged wire story",
    "body": "Text the partner never wrote, sent ahead of its real story to take the id.",
}
REAL = {
    "external_id": "story-42",
    "title": "Ministers agree flood defence budget",
    "body": "Ministers agreed a three-year flood defence budget on Monday after a week of talks.",
}
DESK = {
    "source": "newsdesk",
    "title": "Library opening hours extended",
    "body": "The central library will open until nine in the evening from next month.",
}


def _client(
    platform: dict[str, str], test_infra: conftest.TestInfra, *, sources: list[str] | None = None
) -> httpx.Client:
    key = create_test_api_key(test_infra.database_url, scopes=("ingest",), name="authority test", sources=sources)
    return httpx.Client(base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def ingest_key(platform: dict[str, str], test_infra: conftest.TestInfra, db: Engine) -> Iterator[httpx.Client]:
    """An ordinary ingest key, made without a grant (as every key made before grants existed)."""
    with _client(platform, test_infra) as client:
        yield client


def _forbidden(r: httpx.Response, field: str = "source") -> None:
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "source_forbidden"
    assert error["details"][0]["field"] == field


def test_a_forged_write_cannot_take_a_signed_sources_id(
    ingest: httpx.Client, ingest_key: httpx.Client, db: Engine
) -> None:
    secret = make_source(ingest, "partner-x")
    _forbidden(ingest_key.post("/v1/articles", json=FORGED))
    assert count(db, "ingestions") == 0

    real = deliver(ingest, "partner-x", secret, REAL, msg_id="msg_story_42")
    assert real.status_code == 202, real.text
    assert real.json()["accepted"][0]["duplicate"] is False
    with db.connect() as conn:
        stored = conn.execute(text("SELECT source, external_id, channel, payload FROM ingestions")).one()
    assert (stored.source, stored.external_id, stored.channel) == ("partner-x", "story-42", "webhook")
    assert stored.payload["title"] == REAL["title"]


def test_every_unsigned_road_to_a_registered_source_is_checked(
    ingest: httpx.Client, ingest_key: httpx.Client, db: Engine
) -> None:
    make_source(ingest, "partner-x")
    plain = "Forged headline\n\nForged body text for the partner's source."
    _forbidden(
        ingest_key.post(
            "/v1/articles",
            content=plain.encode(),
            headers={"Content-Type": "text/plain"},
            params={"source": "partner-x", "external_id": "story-42"},
        )
    )
    _forbidden(ingest_key.post("/v1/articles/batch", json={"articles": [FORGED]}), field="articles.0.source")

    mixed = ingest_key.post("/v1/articles/batch", json={"articles": [FORGED, DESK]})
    assert mixed.status_code == 202, mixed.text
    [rejected] = mixed.json()["rejected"]
    assert rejected["index"] == 0 and rejected["error"]["code"] == "source_forbidden"
    assert rejected["error"]["details"][0]["field"] == "articles.0.source"
    assert [a["index"] for a in mixed.json()["accepted"]] == [1]

    feed = ingest_key.post("/v1/feeds", json={"url": "http://127.0.0.1:9/feed.rss", "source": "partner-x"})
    _forbidden(feed)
    with db.connect() as conn:
        assert list(conn.scalars(text("SELECT source FROM ingestions"))) == ["newsdesk"]


def test_a_key_granted_sources_writes_to_those_only(
    ingest: httpx.Client, platform: dict[str, str], test_infra: conftest.TestInfra, db: Engine
) -> None:
    make_source(ingest, "partner-x")
    with _client(platform, test_infra, sources=["partner-x"]) as partner:
        assert partner.post("/v1/articles", json=FORGED).status_code == 202
        _forbidden(partner.post("/v1/articles", json=DESK))  # not granted, though nobody registered it
        _forbidden(partner.post("/v1/articles", json={**DESK, "source": ""}))
    assert ingest.post("/v1/articles", json={**FORGED, "external_id": "story-43"}).status_code == 202  # admin


def test_grants_are_managed_over_the_api(ingest: httpx.Client, platform: dict[str, str], db: Engine) -> None:
    make_source(ingest, "partner-x")
    made = ingest.post("/v1/api-keys", json={"name": "desk importer", "scopes": ["ingest"], "sources": ["newsdesk"]})
    assert made.status_code == 201, made.text
    assert made.json()["sources"] == ["newsdesk"]
    key_id = made.json()["id"]
    with httpx.Client(
        base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {made.json()['key']}"}
    ) as desk:
        assert desk.post("/v1/articles", json=DESK).status_code == 202
        _forbidden(desk.post("/v1/articles", json=FORGED))
        granted = ingest.patch(f"/v1/api-keys/{key_id}", json={"sources": ["newsdesk", "partner-x"]})
        assert granted.status_code == 200 and granted.json()["sources"] == ["newsdesk", "partner-x"]
        assert desk.post("/v1/articles", json=FORGED).status_code == 202
        lifted = ingest.patch(f"/v1/api-keys/{key_id}", json={"sources": None})
        assert lifted.json()["sources"] is None
        _forbidden(desk.post("/v1/articles", json={**FORGED, "external_id": "story-44"}))  # registered: no
        assert desk.post("/v1/articles", json={**DESK, "source": "sports-desk"}).status_code == 202
    assert ingest.patch("/v1/api-keys/01900000-0000-7000-8000-000000000000", json={"sources": []}).status_code == 404
