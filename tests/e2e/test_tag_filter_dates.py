"""Tag filters read the article's date and canonical flag from copies on the tag rows (migration 0007): those
copies must follow the article whatever changes it, or a place filter would show a hidden duplicate or miss
an article whose date was corrected."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.support import NEWSROOM_ARTICLE, wait_for

pytestmark = pytest.mark.e2e


def _tag_copies(db: Engine, article_id: str) -> set[tuple[object, object]]:
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT published_at, is_canonical FROM article_tags WHERE article_id = :id"), {"id": article_id}
        )
        return {(r.published_at, r.is_canonical) for r in rows}


def _article(db: Engine, article_id: str) -> tuple[object, object]:
    with db.connect() as conn:
        row = conn.execute(
            text("SELECT published_at, is_canonical FROM articles WHERE id = :id"), {"id": article_id}
        ).one()
        return row.published_at, row.is_canonical


def _found(query: httpx.Client, **params: str) -> list[str]:
    r = query.get("/v1/articles", params={"place": "Khartoum", **params})
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def test_tag_rows_follow_their_article_and_tag_filters_with_them(
    ingest: httpx.Client, query: httpx.Client, db: Engine
) -> None:
    article_id = ingest.post(
        "/v1/articles",
        content=NEWSROOM_ARTICLE.read_bytes(),
        headers={"Content-Type": "text/plain"},
        params={"source": "newsdesk", "external_id": "seed-tag-dates", "published_at": "2025-03-30T00:30:00Z"},
    ).json()["id"]
    wait_for(
        lambda: ingest.get(f"/v1/articles/{article_id}/status").json()["status"] == "processed",
        timeout=90,
        what="the seed article to be processed",
    )
    copies = _tag_copies(db, article_id)
    assert copies == {_article(db, article_id)}, "every tag row carries the article's date and flag"
    window = {"from": "2025-03-29T00:00:00Z", "to": "2025-03-31T00:00:00Z"}
    assert _found(query, **window) == [article_id]

    # A correction moves the article's date out of the window, and marks it a duplicate.
    with db.begin() as conn:
        conn.execute(
            text("UPDATE articles SET published_at = '2025-04-02T08:00:00Z', is_canonical = false WHERE id = :id"),
            {"id": article_id},
        )
    assert _tag_copies(db, article_id) == {_article(db, article_id)}
    assert _found(query, **window) == []
    assert _found(query, **window, include_duplicates="true") == []  # the date moved
    moved = {"from": "2025-04-02T00:00:00Z", "to": "2025-04-03T00:00:00Z"}
    assert _found(query, **moved) == []  # a duplicate now
    assert _found(query, **moved, include_duplicates="true") == [article_id]

    series = query.get("/v1/timeseries", params={"place": "Khartoum", "interval": "day", **moved}).json()
    assert series["total"] == 0
    series = query.get(
        "/v1/timeseries", params={"place": "Khartoum", "interval": "day", "include_duplicates": "true", **moved}
    ).json()
    assert series["total"] == 1
