"""The recipe "add a query endpoint" (docs/architecture.md) followed to the letter: a router module with its
response schema, included in the real query app as ``create_app`` includes its routers, called through the
app's own lifespan (its engine, read sessions and key check) on the test database.

What the recipe promises a newcomer is asserted here: the endpoint reads PostgreSQL through ``SessionDep``,
needs a key without any code of its own, answers bad parameters with the common error envelope naming the
parameter, and appears in the OpenAPI schema with its response model.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import pytest
from fastapi import APIRouter, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, insert, select

from services.query.deps import SessionDep
from services.query.main import create_app
from shared.db.models import Article, Ingestion
from shared.ids import uuid7
from shared.schemas.errors import error_responses

# --- step 2: the response schema (services/query/schemas.py) ------------------------------------------------


class SourceCount(BaseModel):
    source: str
    articles: int = Field(description="Processed articles from this source.")


class SourceCounts(BaseModel):
    items: list[SourceCount]


# --- step 1: the router (services/query/routers/<noun>.py) --------------------------------------------------

router = APIRouter(prefix="/v1/recipe-sources", tags=["recipe"])


@router.get(
    "",
    response_model=SourceCounts,
    summary="Sources with their number of processed articles",
    responses=error_responses(400),
)
async def list_sources(
    session: SessionDep,
    min_articles: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> SourceCounts:
    count = func.count().label("articles")
    rows = await session.execute(
        select(Article.source, count)
        .group_by(Article.source)
        .having(count >= min_articles)
        .order_by(count.desc(), Article.source)
    )
    return SourceCounts(items=[SourceCount(source=s, articles=n) for s, n in rows])


# --- step 3: the app's router list (services/query/main.py) -------------------------------------------------


@pytest.fixture
def client(db: Engine) -> Iterator[TestClient]:
    app = create_app()
    app.include_router(router)  # what create_app does for each module of its router tuple
    with TestClient(app) as test_client:  # runs the lifespan: engine, read sessions, Redis, rate limiter
        yield test_client


def _store_articles(engine: Engine, sources: list[str]) -> None:
    now = datetime.now(UTC)
    ids = [uuid7() for _ in sources]
    with engine.begin() as conn:
        conn.execute(
            insert(Ingestion),
            [{"id": i, "source": s, "payload": {}, "state": "processed"} for i, s in zip(ids, sources, strict=True)],
        )
        conn.execute(
            insert(Article),
            [
                {
                    "id": i,
                    "source": s,
                    "title": f"Story {n}",
                    "body": f"Body of story {n} from {s}.",
                    "content_hash": hashlib.sha256(i.bytes).digest(),
                    "title_hash": hashlib.sha256(str(n).encode()).digest(),
                    "published_at": now,
                    "received_at": now,
                    "pipeline_version": "recipe-test",
                }
                for n, (i, s) in enumerate(zip(ids, sources, strict=True))
            ],
        )


def test_the_new_endpoint_reads_the_database(client: TestClient, db: Engine, api_key_headers: dict[str, str]) -> None:
    _store_articles(db, ["wire", "wire", "wire", "desk", "desk", "partner"])

    r = client.get("/v1/recipe-sources", headers=api_key_headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "items": [
            {"source": "wire", "articles": 3},
            {"source": "desk", "articles": 2},
            {"source": "partner", "articles": 1},
        ]
    }
    busy = client.get("/v1/recipe-sources", params={"min_articles": 2}, headers=api_key_headers).json()
    assert [item["source"] for item in busy["items"]] == ["wire", "desk"]


def test_the_new_endpoint_gets_the_key_check_and_the_error_envelope_for_free(
    client: TestClient, db: Engine, api_key_headers: dict[str, str]
) -> None:
    refused = client.get("/v1/recipe-sources")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"

    bad = client.get("/v1/recipe-sources", params={"min_articles": 0}, headers=api_key_headers)
    assert bad.status_code == 400  # a malformed query parameter; a body breaking its schema would be 422
    assert [d["field"] for d in bad.json()["error"]["details"]] == ["min_articles"]

    unknown = client.get(f"/v1/recipe-sources/{uuid.uuid4()}", headers=api_key_headers)
    assert unknown.status_code == 404 and "error" in unknown.json()


def test_the_new_endpoint_is_documented(client: TestClient, api_key_headers: dict[str, str]) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/recipe-sources"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SourceCounts"
    }
    assert {"400", "401", "429", "503"} <= set(operation["responses"])
