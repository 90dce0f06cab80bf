"""The ingest API over HTTP: accepting articles, replays, Idempotency-Key, and every kind of bad input."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.support import fixture_bytes

ARTICLE = {
    "title": "Central bank holds rates",
    "body": "The central bank kept its main rate unchanged on Thursday.\n\nAnalysts had expected the move.",
    "source": "wire",
    "external_id": "wire-1",
    "url": "https://example.com/markets/rates?utm_source=rss",
    "published_at": "2024-03-01T10:00:00Z",
    "authors": ["A. Reporter"],
    "section": "markets",
    "metadata": {"desk": "economy", "priority": 2},
}


def _count(db: Engine, table: str = "ingestions") -> int:
    with db.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def _error_fields(response: httpx.Response) -> list[str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"])
    return [d["field"] for d in body["error"]["details"] or []]


def test_json_article_is_accepted_after_commit(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post("/v1/articles", json=ARTICLE)
    assert r.status_code == 202, r.text
    body = r.json()
    assert uuid.UUID(body["id"])
    assert body == {
        "id": body["id"],
        "status": "accepted",
        "status_url": f"/v1/articles/{body['id']}/status",
        "duplicate": False,
        "revision": 1,
        "outcome": "created",
    }
    assert r.headers["location"] == body["status_url"]
    with db.connect() as conn:
        payload = conn.scalar(text("SELECT payload FROM ingestions WHERE id = :id"), {"id": body["id"]})
    assert payload["title"] == ARTICLE["title"]
    assert payload["metadata"] == ARTICLE["metadata"]


def test_replayed_source_and_external_id_returns_the_first_id(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/articles", json=ARTICLE).json()
    again = ingest.post("/v1/articles", json=ARTICLE).json()
    assert again["id"] == first["id"]
    assert again["duplicate"] is True
    # Other content under the same identity is a revision of the same record (tests/.../test_revisions_api.py).
    updated = ingest.post("/v1/articles", json={**ARTICLE, "title": "Central bank holds rates (updated)"}).json()
    assert (updated["id"], updated["duplicate"], updated["revision"]) == (first["id"], False, 2)
    other_source = ingest.post("/v1/articles", json={**ARTICLE, "source": "other-wire"}).json()
    assert other_source["id"] != first["id"]
    assert _count(db) == 2


def test_concurrent_replays_create_one_record(ingest: httpx.Client, db: Engine) -> None:
    article = {**ARTICLE, "external_id": "race-1"}
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: ingest.post("/v1/articles", json=article).json()["id"], range(16)))
    assert len(ids) == 1
    assert _count(db) == 1


def test_idempotency_key_same_body_returns_the_first_response(ingest: httpx.Client, db: Engine) -> None:
    article = {k: v for k, v in ARTICLE.items() if k != "external_id"}
    headers = {"Idempotency-Key": "key-1"}
    first = ingest.post("/v1/articles", json=article, headers=headers)
    second = ingest.post("/v1/articles", json=article, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert _count(db) == 1


def test_idempotency_key_with_another_body_is_422(ingest: httpx.Client, db: Engine) -> None:
    article = {k: v for k, v in ARTICLE.items() if k != "external_id"}
    headers = {"Idempotency-Key": "key-2"}
    assert ingest.post("/v1/articles", json=article, headers=headers).status_code == 202
    r = ingest.post("/v1/articles", json={**article, "title": "Something else"}, headers=headers)
    assert r.status_code == 422
    assert _error_fields(r) == ["Idempotency-Key"]
    assert _count(db) == 1


def test_idempotency_key_in_progress_is_409(ingest: httpx.Client, db: Engine) -> None:
    # Hold the key's lock in a transaction, as a first request still running would.
    with db.connect() as conn:
        # Keys are per API key: the lock names the caller's key id.
        owner = conn.scalar(text("SELECT id::text FROM api_keys WHERE name = 'test session'"))
        lock = f"idempotency:{owner}:articles:key-3"
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": lock})
        r = ingest.post("/v1/articles", json=ARTICLE, headers={"Idempotency-Key": "key-3"})
        conn.rollback()
    assert r.status_code == 409
    assert r.headers["retry-after"]
    assert _error_fields(r) == ["Idempotency-Key"]
    assert _count(db) == 0


def test_status_endpoint_and_unknown_id(ingest: httpx.Client) -> None:
    accepted = ingest.post("/v1/articles", json=ARTICLE).json()
    status = ingest.get(accepted["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] in {"accepted", "processing", "processed"}
    missing = ingest.get(f"/v1/articles/{uuid.uuid4()}/status")
    assert missing.status_code == 404
    assert _error_fields(missing) == ["article_id"]
    assert ingest.get("/v1/articles/not-a-uuid/status").status_code == 400


BAD_JSON_ARTICLES = [
    pytest.param({"body": "text"}, "title", id="missing-title"),
    pytest.param({"title": "t"}, "body", id="missing-body"),
    pytest.param({"title": "   ", "body": "text"}, "title", id="blank-title"),
    pytest.param({"title": "t", "body": ""}, "body", id="empty-body"),
    pytest.param({"title": 42, "body": "text"}, "title", id="title-not-a-string"),
    pytest.param({"title": "t", "body": "text", "authors": "someone"}, "authors", id="authors-not-a-list"),
    pytest.param({"title": "t", "body": "text", "metadata": [1, 2]}, "metadata", id="metadata-not-an-object"),
    pytest.param({"title": "t", "body": "text", "published_at": "yesterday"}, "published_at", id="bad-date"),
    pytest.param({"title": "t", "body": "text", "url": "not a url"}, "url", id="bad-url"),
    pytest.param({"title": "t", "body": "text", "language": "english"}, "language", id="bad-language"),
    pytest.param({"title": "t", "body": "nul \u0000 byte"}, "body", id="nul-in-body"),
    pytest.param({"title": "t", "body": "text", "metadata": {"k": "nul \u0000"}}, "metadata", id="nul-in-metadata"),
    pytest.param({"title": "t\ud800", "body": "text"}, "title", id="lone-surrogate"),
    pytest.param({"title": "t", "body": "text", "colour": "red"}, "colour", id="unknown-field"),
]


@pytest.mark.parametrize(("article", "field"), BAD_JSON_ARTICLES)
def test_invalid_articles_are_refused_naming_the_field(
    ingest: httpx.Client, db: Engine, article: dict, field: str
) -> None:
    r = ingest.post("/v1/articles", content=json.dumps(article).encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert field in _error_fields(r)
    assert _count(db) == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field"),
    [
        pytest.param(b'{"title": "t", "body": ', "application/json", 400, "body", id="invalid-json"),
        pytest.param(b"", "application/json", 400, "body", id="empty-json"),
        pytest.param(b"[1, 2]", "application/json", 422, "body", id="json-not-an-object"),
        pytest.param(b"<article/>", "application/xml", 415, "content-type", id="unknown-content-type"),
        pytest.param(b"title\n\nbody", "text/plain; charset=klingon", 415, "content-type", id="unknown-charset"),
        pytest.param(b"Headline only", "text/plain", 422, "body", id="plain-without-body"),
        pytest.param(b"Head\n\nbody with \x00 nul", "text/plain", 422, "body", id="plain-nul"),
        pytest.param(b"[" * 100 + b"]" * 100, "application/json", 400, "body", id="deeply-nested"),
    ],
)
def test_unreadable_bodies_are_refused(
    ingest: httpx.Client, db: Engine, content: bytes, content_type: str, status: int, field: str
) -> None:
    r = ingest.post("/v1/articles", content=content, headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    assert field in _error_fields(r)
    assert _count(db) == 0


def test_text_that_is_not_utf8_is_refused(ingest: httpx.Client, db: Engine) -> None:
    raw = fixture_bytes("invalid-utf8.txt")  # an article written in latin-1: "Café" is the byte 0xE9
    assert not _is_utf8(raw) and raw.decode("latin-1").startswith("Café terraces")
    for content_type in ("text/plain", "text/plain; charset=utf-8"):
        r = ingest.post("/v1/articles", content=raw, headers={"Content-Type": content_type})
        assert r.status_code == 400
        assert _error_fields(r) == ["body"]
        assert "UTF-8" in r.json()["error"]["message"]
    # Declared honestly, the same bytes are readable.
    latin = ingest.post("/v1/articles", content=raw, headers={"Content-Type": "text/plain; charset=latin-1"})
    assert latin.status_code == 202
    assert _count(db) == 1


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_body_over_the_size_limit_is_413(ingest: httpx.Client, db: Engine) -> None:
    big = {"title": "t", "body": "x" * (2 * 1024 * 1024 + 10)}
    r = ingest.post("/v1/articles", json=big)
    assert r.status_code == 413
    assert _error_fields(r) == ["body"]

    def chunks():  # no Content-Length: the limit applies while streaming
        yield b'{"title": "t", "body": "'
        for _ in range(300):
            yield b"y" * 8192
        yield b'"}'

    streamed = ingest.post("/v1/articles", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert _count(db) == 0


def test_batch_accepts_valid_items_and_reports_invalid_ones(ingest: httpx.Client, db: Engine) -> None:
    items = [
        {**ARTICLE, "external_id": "b-0"},
        {"title": "no body"},
        {**ARTICLE, "external_id": "b-2", "published_at": "not a date"},
        {**ARTICLE, "external_id": "b-3"},
        {**ARTICLE, "external_id": "b-0"},  # replay inside the batch
        "not an object",
    ]
    r = ingest.post("/v1/articles/batch", json={"articles": items})
    assert r.status_code == 202, r.text
    body = r.json()
    assert [a["index"] for a in body["accepted"]] == [0, 3, 4]
    assert body["accepted"][2]["id"] == body["accepted"][0]["id"]
    assert body["accepted"][2]["duplicate"] is True
    rejected = {x["index"]: x["error"]["details"][0]["field"] for x in body["rejected"]}
    assert rejected == {1: "articles.1.body", 2: "articles.2.published_at", 5: "articles.5"}
    assert _count(db) == 2


def test_batch_over_the_limit_and_empty_batches_are_refused(ingest: httpx.Client, db: Engine) -> None:
    over = ingest.post("/v1/articles/batch", json={"articles": [ARTICLE] * 1001})
    assert over.status_code == 422
    assert _error_fields(over) == ["articles"]
    empty = ingest.post("/v1/articles/batch", json={"articles": []})
    assert empty.status_code == 422
    all_bad = ingest.post("/v1/articles/batch", json={"articles": [{"title": "x"}]})
    assert all_bad.status_code == 422
    wrong_shape = ingest.post("/v1/articles/batch", json=[ARTICLE])
    assert wrong_shape.status_code == 422
    assert _count(db) == 0


def test_every_error_uses_the_envelope(ingest: httpx.Client) -> None:
    r = ingest.get("/v1/nowhere")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = ingest.delete("/v1/articles")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_health_readiness_and_openapi(ingest: httpx.Client) -> None:
    assert ingest.get("/healthz").json() == {"status": "ok"}
    ready = ingest.get("/readyz").json()
    assert ready["checks"] == {"postgres": "ok", "redis": "ok"}
    schema = ingest.get("/openapi.json").json()
    content = schema["paths"]["/v1/articles"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/plain"} <= set(content)
    assert "ArticleIn" in schema["components"]["schemas"]
