"""The recipe "add an ingestion channel" (docs/architecture.md), followed to the letter for a tiny channel.

The channel reads a "pipe list", one article a line: ``external_id | headline | body``. It is built here the
way the recipe says, as a reader and an entry point that call ``shared.intake``, once pushed over HTTP (a
router on the ingest app) and once pulled by a worker-side function, and each article it takes in is
stored, processed by the real worker and searchable; a replay of a line stores nothing new.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import kombu.pools
import pytest
from celery import Celery
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from services.ingest.intake import IntakeDep
from services.ingest.main import create_app
from services.ingest.parsing import validate_article
from shared.api.errors import ApiError
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.intake import queue_taken, take_in
from shared.schemas.articles import ArticleIn
from shared.tasks import make_celery
from tests.support import wait_for

CHANNEL = "pipe"


# Step 1 of the recipe: the reader, bytes in, validated articles out (would be shared/channels/pipe.py).
def read_pipe_list(raw: bytes, *, source: str) -> list[ArticleIn]:
    articles = []
    for number, line in enumerate(raw.decode("utf-8").splitlines()):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise ApiError(422, "a line is `external_id | headline | body`", field=f"lines.{number}")
        external_id, title, body = parts
        data = {"source": source, "external_id": external_id, "title": title, "body": body}
        articles.append(validate_article(data, prefix=f"lines.{number}"))
    return articles


# Step 2, pushed: the entry point, an ingest router (would be services/ingest/routers/pipe.py).
router = APIRouter()


@router.post("/v1/pipe/{source}", status_code=202)
async def receive_pipe_list(source: str, request: Request, intake: IntakeDep) -> dict[str, Any]:
    articles = read_pipe_list(await request.body(), source=source)
    taken = await intake.take_in(articles, channel=CHANNEL)  # stored, committed, then queued
    return {"ids": [str(s.id) for s in taken.stored], "duplicate": [s.duplicate for s in taken.stored]}


# Step 2, pulled: the same steps from a worker-side task (would be a task in services/worker/).
def pull_pipe_list(session: Session, celery: Celery, raw: bytes, *, source: str) -> list[uuid.UUID]:
    taken = take_in(session, articles=read_pipe_list(raw, source=source), channel=CHANNEL, request_id="pull-1")
    session.commit()
    queue_taken(celery, taken, chunk=get_settings().ingest.task_chunk_size)
    return [s.id for s in taken.stored]


@pytest.fixture
def pipe_app(platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]) -> Iterator[TestClient]:
    app: FastAPI = create_app()
    app.include_router(router)
    try:
        with TestClient(app, headers=api_key_headers) as client:  # runs the lifespan: sessions and Celery
            yield client
    finally:
        # The app's shutdown closes its broker connection pool, and kombu keeps one pool per broker URL for
        # the whole process: forget it, so the Celery apps of later tests in this process get a fresh one.
        kombu.pools.reset()


def _row(db: Engine, ingestion_id: str) -> dict[str, Any]:
    with db.connect() as conn:
        found = conn.execute(
            text("SELECT channel, request_id, state FROM ingestions WHERE id = :id"), {"id": ingestion_id}
        ).one()
    return dict(found._mapping)


def _processed(ingest: httpx.Client, ingestion_id: str) -> bool:
    return ingest.get(f"/v1/articles/{ingestion_id}/status").json()["status"] == "processed"


def test_an_article_pushed_to_a_new_channel_is_stored_processed_and_searchable(
    pipe_app: TestClient, ingest: httpx.Client, db: Engine, platform: dict[str, str], api_key_headers: dict[str, str]
) -> None:
    body = b"pipe-1 | Lighthouse keepers vote to strike | The keepers of the northern lights walked out at dawn.\n"
    r = pipe_app.post("/v1/pipe/coastdesk", content=body)
    assert r.status_code == 202, r.text
    [ingestion_id] = r.json()["ids"]
    assert r.json()["duplicate"] == [False]

    row = _row(db, ingestion_id)
    assert row["channel"] == CHANNEL
    assert row["request_id"] == r.headers["x-request-id"]  # the request's id travels with its article
    wait_for(lambda: _processed(ingest, ingestion_id), timeout=60, what="the worker to process the article")

    with httpx.Client(base_url=platform["query"], headers=api_key_headers, timeout=30) as query:
        found = query.get("/v1/articles", params={"q": "lighthouse keepers"}).json()["items"]
    assert [a["title"] for a in found] == ["Lighthouse keepers vote to strike"]

    again = pipe_app.post("/v1/pipe/coastdesk", content=body)
    assert again.json() == {"ids": [ingestion_id], "duplicate": [True]}
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 1


def test_a_bad_line_is_a_422_naming_it_and_nothing_is_stored(pipe_app: TestClient, db: Engine) -> None:
    r = pipe_app.post("/v1/pipe/coastdesk", content=b"ok-1 | Fine | A body.\nbroken line\n")
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "lines.1"
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 0


def test_an_article_pulled_by_a_worker_side_channel_is_stored_and_processed(ingest: httpx.Client, db: Engine) -> None:
    celery = make_celery(get_settings(), "tidings-test-pipe")
    try:
        with make_sessionmaker(db)() as session:
            [ingestion_id] = pull_pipe_list(
                session,
                celery,
                b"pull-1 | Ferry timetable changes | The winter timetable starts on Monday.",
                source="ferries",
            )
    finally:
        celery.close()
    assert _row(db, str(ingestion_id))["request_id"] == "pull-1"
    wait_for(lambda: _processed(ingest, str(ingestion_id)), timeout=60, what="the worker to process the article")
