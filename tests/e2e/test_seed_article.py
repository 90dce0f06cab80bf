"""The newcomer's path: post the newsroom article as plain text, find it through the query service."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.support import NEWSROOM_ARTICLE, wait_for

pytestmark = pytest.mark.e2e


def _processed(query: httpx.Client, article_id: str) -> dict | None:
    r = query.get(f"/v1/articles/{article_id}")
    return r.json() if r.status_code == 200 else None


def test_seed_article_is_stored_normalised_tagged_and_searchable(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    raw = NEWSROOM_ARTICLE.read_bytes()
    r = ingest.post(
        "/v1/articles",
        content=raw,
        headers={"Content-Type": "text/plain"},
        params={"source": "newsdesk", "external_id": "seed-1"},
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "accepted"
    assert accepted["status_url"] == f"/v1/articles/{accepted['id']}/status"

    article = wait_for(lambda: _processed(query, accepted["id"]), timeout=60, what="the seed article to be processed")
    assert article["title"] == "Sudanese army presses offensive on Omdurman as talks stall in Cairo"
    assert article["language"] == "en"
    assert article["summary"].startswith("Fighting spreads to the outskirts of Khartoum")
    assert article["credit"] == "News Agencies"
    assert article["caption"].endswith("[AFP]")
    assert article["body"].startswith("Sudan's army launched a fresh offensive")
    assert "\n\nMediators call for restraint\n\n" in article["body"], "sub-headings stay in the body as paragraphs"
    assert "Source:" not in article["body"]

    found = query.get("/v1/articles", params={"q": "Omdurman"}).json()
    assert [item["id"] for item in found["items"]] == [accepted["id"]]
    assert "<mark>Omdurman</mark>" in found["items"][0]["snippet"]

    status = ingest.get(accepted["status_url"]).json()
    assert status["status"] == "processed"
    assert status["article_url"].endswith(f"/v1/articles/{accepted['id']}")

    again = ingest.post(
        "/v1/articles",
        content=raw,
        headers={"Content-Type": "text/plain"},
        params={"source": "newsdesk", "external_id": "seed-1"},
    )
    assert again.status_code == 202
    assert again.json()["id"] == accepted["id"]
    assert again.json()["duplicate"] is True
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 1
        assert conn.scalar(text("SELECT count(*) FROM articles")) == 1
