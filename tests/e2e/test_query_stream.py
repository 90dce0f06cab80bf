"""``/v1/stream``: an SSE subscriber receives a matching article posted after it subscribed, and resumes with
``Last-Event-ID`` after the last event it saw."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from services.query.routers.stream import PROCESSED_STREAM
from services.worker.events import STREAM
from tests.support import NEWSROOM_ARTICLE, wait_for

pytestmark = pytest.mark.e2e


@contextmanager
def subscribe(
    query: httpx.Client, params: dict[str, Any], headers: dict[str, str] | None = None
) -> Iterator[queue.Queue]:
    """Read the event stream on a thread; each complete event lands in the queue as a dict of its fields."""
    events: queue.Queue = queue.Queue()
    # Its own client: closing it ends the read that the thread is blocked in.
    client = httpx.Client(base_url=query.base_url, headers=query.headers, timeout=None)

    def read() -> None:
        try:
            with client.stream("GET", "/v1/stream", params=params, headers=headers or {}) as r:
                events.put({"status": r.status_code})
                fields: dict[str, str] = {}
                for line in r.iter_lines():
                    if not line:
                        if fields:
                            events.put(fields)
                        fields = {}
                        continue
                    name, _, value = line.partition(":")
                    fields[name or "comment"] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError):
            return  # the test closed the client

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield events
    finally:
        client.close()
        thread.join(timeout=10)


def _next_event(events: queue.Queue, kind: str, timeout: float = 90) -> dict[str, str]:
    def found() -> dict[str, str] | None:
        while True:
            try:
                event = events.get_nowait()
            except queue.Empty:
                return None
            if event.get("event") == kind or (kind == "connected" and event.get("comment") == "connected"):
                return event

    return wait_for(found, timeout=timeout, interval=0.05, what=f"a {kind!r} event")


def _post_seed(ingest: httpx.Client) -> str:
    r = ingest.post(
        "/v1/articles",
        content=NEWSROOM_ARTICLE.read_bytes(),
        headers={"Content-Type": "text/plain"},
        params={"source": "newsdesk", "external_id": f"seed-{uuid.uuid4()}"},
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _post_other(ingest: httpx.Client, title: str) -> str:
    r = ingest.post(
        "/v1/articles",
        json={"title": title, "body": "Fighting was reported near Omdurman overnight.\n\nAid groups called for "
              "a ceasefire as civilians fled north.", "source": "wire", "external_id": str(uuid.uuid4())},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def test_the_stream_carries_matching_articles_posted_after_subscribing(
    ingest: httpx.Client, query: httpx.Client
) -> None:
    assert PROCESSED_STREAM == STREAM, "the query service reads the stream the worker writes"
    with subscribe(query, {"q": "Omdurman"}) as events:
        assert events.get(timeout=30) == {"status": 200}
        _next_event(events, "connected", timeout=30)
        unrelated = ingest.post(
            "/v1/articles", json={"title": "Markets close higher", "body": "Shares rose in Frankfurt.", "source": "w"}
        ).json()["id"]
        article_id = _post_seed(ingest)
        event = _next_event(events, "article")
        data = json.loads(event["data"])
        assert data["id"] == article_id != unrelated
        assert data["title"] == "Sudanese army presses offensive on Omdurman as talks stall in Cairo"
        assert event["id"].count("-") == 1 and all(part.isdigit() for part in event["id"].split("-"))
        first_event_id = event["id"]

    # Posted while nobody listens; a client resuming after the first event gets it, and not the first again.
    missed = _post_other(ingest, "Omdurman shelled again")
    wait_for(
        lambda: query.get(f"/v1/articles/{missed}").status_code == 200, timeout=90, what="the article to be processed"
    )
    with subscribe(query, {"q": "Omdurman"}, headers={"Last-Event-ID": first_event_id}) as events:
        assert events.get(timeout=30) == {"status": 200}
        resumed = _next_event(events, "article")
        assert json.loads(resumed["data"])["id"] == missed
        assert _entry_key(resumed["id"]) > _entry_key(first_event_id)


def _entry_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def test_a_malformed_last_event_id_is_a_400_naming_it(query: httpx.Client) -> None:
    r = query.get("/v1/stream", headers={"Last-Event-ID": "yesterday"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "Last-Event-ID"
    bad_filter = query.get("/v1/stream", params={"topic": "war"})
    assert bad_filter.status_code == 400 and bad_filter.json()["error"]["details"][0]["field"] == "topic.0"
