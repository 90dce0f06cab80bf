"""Snippets are HTML with the matches marked: the article's own markup must arrive escaped."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from tests.support import wait_for


def test_markup_in_an_article_is_escaped_in_its_snippet(ingest: httpx.Client, query: httpx.Client, db: Engine) -> None:
    body = (
        "Officials in Aleppo said the <script>alert('x')</script> convoy & its escort arrived late.\n\n"
        "More aid convoys to Aleppo are expected this week, <b>officials</b> added."
    )
    accepted = ingest.post("/v1/articles", json={"title": "Aid convoy reaches Aleppo", "body": body})
    assert accepted.status_code == 202, accepted.text

    def hit() -> dict | None:
        items = query.get("/v1/articles", params={"q": "convoy"}).json()["items"]
        return items[0] if items else None

    item = wait_for(hit, timeout=60, what="the article to be searchable")
    snippet = item["snippet"]
    assert "<mark>" in snippet
    assert "<script>" not in snippet and "<b>" not in snippet
    assert "&lt;script&gt;" in snippet or "&lt;b&gt;" in snippet
    # The stored text itself is kept as sent.
    assert "<script>" in query.get(f"/v1/articles/{accepted.json()['id']}").json()["body"]
