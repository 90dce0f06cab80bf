"""The typed client against the running services: ingest, batch, status, get, search, errors as exceptions,
and retries that reuse the idempotency key when an answer is lost on the way back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import Engine, text

from shared.client import TidingsClient, TidingsError, TidingsUnavailable
from shared.schemas.articles import ArticleIn
from tests.support import free_port, wait_for

ARTICLE = {
    "title": "Harbour tunnel opens to traffic",
    "body": "The harbour tunnel opened to traffic on Monday after four years of work.\n\nTolls start in May.",
    "source": "client-test",
    "external_id": "tunnel-1",
}


@pytest.fixture
def tidings(platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]) -> Iterator[TidingsClient]:
    with TidingsClient(platform["ingest"], platform["query"], headers=api_key_headers, backoff_s=0.05) as client:
        yield client


class FlakyProxy:
    """Forwards requests to the ingest service, but answers the first ``fail`` of them badly: ``drop`` sends
    the request upstream and then hangs up without answering (a lost response); ``503`` answers 503."""

    def __init__(self, upstream: str, *, fail: int, mode: str) -> None:
        self.upstream, self.fail, self.mode = upstream, fail, mode
        self.seen: list[dict[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                proxy.seen.append({k.lower(): v for k, v in headers.items()})
                failing = len(proxy.seen) <= proxy.fail
                if failing and proxy.mode == "503":
                    self.send_response(503)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                r = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers, timeout=30)
                if failing:  # the work was done upstream; the answer never reaches the caller
                    self.close_connection = True
                    return
                self.send_response(r.status_code)
                for name, value in r.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_ingest_status_get_and_search(tidings: TidingsClient, db: Engine) -> None:
    accepted = tidings.ingest(ArticleIn.model_validate(ARTICLE))
    assert accepted.status == "accepted" and not accepted.duplicate
    assert tidings.ingest(ARTICLE).duplicate

    wait_for(lambda: tidings.status(accepted.id).status == "processed", timeout=30, what="processing")
    article = tidings.get(accepted.id)
    assert article.title == ARTICLE["title"] and article.source == "client-test"
    page = tidings.search("harbour tunnel", source=["client-test"])
    assert [hit.id for hit in page.items] == [accepted.id]
    assert page.items[0].title == ARTICLE["title"]


def test_ingest_many_reports_each_item(tidings: TidingsClient, db: Engine) -> None:
    result = tidings.ingest_many([ARTICLE, {"title": "no body", "source": "client-test"}])
    assert [a.index for a in result.accepted] == [0]
    assert result.rejected[0].index == 1
    assert result.rejected[0].error["details"][0]["field"] == "articles.1.body"


def test_errors_carry_the_envelope(tidings: TidingsClient, db: Engine) -> None:
    with pytest.raises(TidingsError) as caught:
        tidings.ingest({"title": "", "body": "text"})
    error = caught.value
    assert error.status == 422 and error.code == "validation_error"
    assert error.details[0]["field"] == "title"
    assert error.envelope is not None and set(error.envelope) == {"error"}
    with pytest.raises(TidingsError) as missing:
        tidings.get("0190c6a0-0000-7000-8000-000000000000")
    assert missing.value.status == 404


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(
    platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]
) -> None:
    with (
        FlakyProxy(platform["ingest"], fail=1, mode="drop") as proxy,
        TidingsClient(proxy.url, platform["query"], headers=api_key_headers, backoff_s=0.01) as client,
    ):
        accepted = client.ingest({**ARTICLE, "external_id": None})  # no natural key: only the header protects
    assert len(proxy.seen) == 2
    assert proxy.seen[0]["idempotency-key"] == proxy.seen[1]["idempotency-key"]
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 1
        assert conn.scalar(text("SELECT id FROM ingestions")) == accepted.id


def test_503_is_retried_and_then_given_up(
    platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]
) -> None:
    with (
        FlakyProxy(platform["ingest"], fail=1, mode="503") as proxy,
        TidingsClient(proxy.url, platform["query"], headers=api_key_headers, backoff_s=0.01) as client,
    ):
        assert client.ingest(ARTICLE).status == "accepted"
    with (
        FlakyProxy(platform["ingest"], fail=10, mode="503") as proxy,
        TidingsClient(proxy.url, platform["query"], headers=api_key_headers, retries=2, backoff_s=0.01) as client,
    ):
        with pytest.raises(TidingsUnavailable) as caught:
            client.ingest(ARTICLE)
        assert caught.value.status == 503
        assert len(proxy.seen) == 3


def test_no_service_is_unavailable_after_the_retries(db: Engine) -> None:
    port = free_port()  # nothing listens there
    with (
        TidingsClient(f"http://127.0.0.1:{port}", retries=1, backoff_s=0.01, timeout_s=2) as client,
        pytest.raises(TidingsUnavailable) as caught,
    ):
        client.ingest(ARTICLE)
    assert caught.value.status is None and "ConnectError" in caught.value.message
