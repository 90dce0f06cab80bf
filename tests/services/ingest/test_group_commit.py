"""Group commit: concurrent single articles share one transaction, yet each request gets its own answer,
each article is stored once, and replays (same article, same idempotency key) return the first id."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from celery import Celery
from sqlalchemy import Engine, text

from services.ingest.group_commit import Accepted, GroupCommit
from shared.api.errors import ApiError
from shared.config import get_settings
from shared.db.engine import make_async_engine, make_async_sessionmaker
from shared.intake import IdempotencyKeyRef, Stored, StoredResponse
from shared.schemas.articles import ArticleIn
from tests.factories import article_payload
from tests.support import wait_for

CONCURRENT = 40


def _article(n: int, source: str) -> dict[str, Any]:
    return article_payload(
        source=source, external_id=f"story-{n}", title=f"Story {n} about the harbour", body=f"Paragraph {n}. " * 20
    )


def _answer(stored: Stored) -> dict[str, Any]:
    if stored.conflict is not None:
        raise ApiError(stored.conflict.status, stored.conflict.message)
    return {"id": str(stored.id), "duplicate": stored.duplicate}


def _submit_together(producer: Celery, members: list[tuple[ArticleIn, IdempotencyKeyRef | None]]) -> list[Any]:
    """Submit every member in the same instant to one group commit (a window long enough to hold them)."""

    async def run() -> list[Any]:
        engine = make_async_engine(get_settings().database)
        group = GroupCommit(make_async_sessionmaker(engine), producer, window_s=0.05, max_size=500, chunk=200)
        try:
            return await asyncio.gather(
                *(group.submit(a, request_id=f"req-{i}", answer=_answer, key=k) for i, (a, k) in enumerate(members)),
                return_exceptions=True,
            )
        finally:
            await group.close()
            await engine.dispose()

    return asyncio.run(run())


def _key(key: str, body: bytes) -> IdempotencyKeyRef:
    return IdempotencyKeyRef(owner="tests", scope="articles", key=key, fingerprint=body)


def test_one_group_stores_each_article_once_and_answers_each_member(
    platform: dict[str, str], db: Engine, producer: Celery
) -> None:
    articles = [ArticleIn.model_validate(_article(n, "group")) for n in range(CONCURRENT)]
    members: list[tuple[ArticleIn, IdempotencyKeyRef | None]] = [(a, None) for a in articles]
    members.append((articles[0], None))  # the same article twice in one group
    members.append((ArticleIn.model_validate(_article(100, "group")), _key("k-1", b"a")))
    members.append((ArticleIn.model_validate(_article(101, "group")), _key("k-1", b"a")))  # its concurrent repeat
    outcomes = _submit_together(producer, members)

    accepted = outcomes[:CONCURRENT]
    assert all(isinstance(o, Accepted) for o in accepted)
    ids = [o.body["id"] for o in accepted]
    assert len(set(ids)) == CONCURRENT and not any(o.body["duplicate"] for o in accepted)
    assert outcomes[CONCURRENT].body == {"id": ids[0], "duplicate": True}
    assert isinstance(outcomes[CONCURRENT + 1], Accepted)
    assert isinstance(outcomes[CONCURRENT + 2], ApiError) and outcomes[CONCURRENT + 2].status == 409

    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT id, request_id, xmin::text AS tx FROM ingestions WHERE source = 'group'")
        ).all()
    assert len(rows) == CONCURRENT + 1  # each article once; the refused repeat left nothing
    assert len({r.tx for r in rows}) == 1, "the group shared one transaction"
    by_id = {str(r.id): r.request_id for r in rows}
    assert [by_id[i] for i in ids] == [f"req-{i}" for i in range(CONCURRENT)], "each row keeps its own request"

    # After the commit: replays of the articles and of the key return the first answers.
    again = _submit_together(producer, [(articles[5], None), (members[-2][0], _key("k-1", b"a"))])
    assert again[0].body == {"id": ids[5], "duplicate": True}
    assert isinstance(again[1], StoredResponse) and again[1].body == outcomes[CONCURRENT + 1].body

    # The group's one enqueue reached the worker: every new article is processed.
    def processed() -> bool:
        with db.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM ingestions WHERE source = 'group' AND state = 'processed'")
            ).scalar_one() == len(rows)

    wait_for(processed, timeout=240, what="the group's articles to be processed")


def test_concurrent_single_posts_each_get_their_own_answer(ingest: httpx.Client, db: Engine) -> None:
    def post(n: int, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return ingest.post("/v1/articles", json=_article(n, "singles"), headers=headers)

    with ThreadPoolExecutor(max_workers=16) as pool:
        first = list(pool.map(post, range(CONCURRENT)))
        keyed = list(pool.map(lambda n: post(n, key=f"key-{n}"), range(CONCURRENT, CONCURRENT + 10)))
        replays = list(pool.map(post, range(CONCURRENT)))
        keyed_again = list(pool.map(lambda n: post(n, key=f"key-{n}"), range(CONCURRENT, CONCURRENT + 10)))

    assert [r.status_code for r in first + keyed + replays + keyed_again] == [202] * (2 * CONCURRENT + 20)
    ids = [r.json()["id"] for r in first]
    assert len(set(ids)) == CONCURRENT
    assert all(r.headers["Location"] == f"/v1/articles/{r.json()['id']}/status" for r in first)
    assert [r.json()["id"] for r in replays] == ids and all(r.json()["duplicate"] for r in replays)
    assert [r.json() for r in keyed_again] == [r.json() for r in keyed]
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in keyed_again)
    with db.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM ingestions WHERE source = 'singles'")).scalar_one()
    assert stored == CONCURRENT + 10


def test_a_member_refused_on_its_own_leaves_the_group_committed(
    platform: dict[str, str], db: Engine, producer: Celery
) -> None:
    n = 3
    fine = [ArticleIn.model_validate(_article(i, "refusal")) for i in range(n)]
    # A revision of an article nobody stored: refused (409) without touching the others.
    orphan = ArticleIn.model_validate({**_article(99, "refusal"), "revision": 2})
    outcomes = _submit_together(producer, [(a, None) for a in fine] + [(orphan, None)])
    assert all(isinstance(o, Accepted) for o in outcomes[:n])
    assert isinstance(outcomes[n], ApiError) and outcomes[n].status == 409
    with db.connect() as conn:
        ids = {str(i) for i in conn.execute(text("SELECT id FROM ingestions WHERE source = 'refusal'")).scalars()}
    assert ids == {o.body["id"] for o in outcomes[:n]}
    assert all(uuid.UUID(i) for i in ids)
