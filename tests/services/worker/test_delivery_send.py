"""The sender's decisions, called directly against a local subscriber: delivered, retried, refused, gone."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from services.worker.delivery_send import backoff_s, send_delivery
from shared.channels.signing import new_secret, verify
from shared.config import Environment
from shared.db.models import Delivery, DeliveryAttempt, SavedSearch
from shared.delivery.messages import message_body, message_id
from shared.delivery.settings import DeliverySettings
from tests.support import free_port


class Endpoint:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                for k, v in outer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(b"answer body")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sessions(db: Engine) -> sessionmaker:
    return sessionmaker(db, expire_on_commit=False)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def _delivery(sessions: sessionmaker, url: str) -> tuple[uuid.UUID, str]:
    secret = new_secret()
    search_id, delivery_id = uuid.uuid4(), uuid.uuid4()
    body = message_body(saved_search={"id": str(search_id), "name": "t"}, articles=[], at=datetime.now(UTC))
    with sessions.begin() as s:
        s.add(SavedSearch(id=search_id, name="t", filters={}, webhook_url=url, secret=secret))
        s.flush()
        s.add(Delivery(id=delivery_id, saved_search_id=search_id, article_ids=[], body=body))
    return delivery_id, secret


def _state(sessions: sessionmaker, delivery_id: uuid.UUID) -> tuple[Delivery, list[DeliveryAttempt], SavedSearch]:
    with sessions() as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        attempts = list(s.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)))
        saved = s.get(SavedSearch, d.saved_search_id)
        assert saved is not None
        return d, attempts, saved


SETTINGS = DeliverySettings(max_attempts=3, backoff_base_s=2.0)


def test_a_2xx_delivers_with_a_verifiable_signature(sessions: sessionmaker, client: httpx.Client) -> None:
    endpoint = Endpoint(204)
    try:
        delivery_id, secret = _delivery(sessions, endpoint.url)
        outcome = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
        assert outcome.status == "delivered"
        ((headers, body),) = endpoint.requests
        verify(
            [secret], msg_id=headers["webhook-id"], timestamp=headers["webhook-timestamp"],
            signature=headers["webhook-signature"], body=body, now=datetime.now(UTC).timestamp(), tolerance_s=60,
        )  # fmt: skip
        assert headers["webhook-id"] == message_id(delivery_id)
        d, attempts, _ = _state(sessions, delivery_id)
        assert (d.status, d.attempts, d.last_status_code, d.delivered_at is not None) == ("delivered", 1, 204, True)
        assert [(a.attempt, a.status_code) for a in attempts] == [(1, 204)]
        again = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
        assert again.status == "skipped" and len(endpoint.requests) == 1, "a duplicate task sends nothing"
    finally:
        endpoint.close()


def test_a_5xx_is_retried_with_backoff_until_the_attempts_run_out(sessions: sessionmaker, client: httpx.Client) -> None:
    endpoint = Endpoint(503, {"Retry-After": "7"})
    try:
        delivery_id, _ = _delivery(sessions, endpoint.url)
        first = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
        assert first.status == "retry" and first.retry_in_s is not None and 7 <= first.retry_in_s <= 7.5
        d, _, _ = _state(sessions, delivery_id)
        assert d.status == "pending" and d.next_attempt_at is not None
        early = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
        assert early.status == "skipped", "not due yet: the retry's own task will send it"
        with sessions.begin() as s:
            s.get(Delivery, delivery_id).next_attempt_at = datetime.now(UTC)  # type: ignore[union-attr]
        assert send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test).status == "retry"
        with sessions.begin() as s:
            s.get(Delivery, delivery_id).next_attempt_at = datetime.now(UTC)  # type: ignore[union-attr]
        last = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
        assert last.status == "failed"
        d, attempts, _ = _state(sessions, delivery_id)
        assert d.attempts == 3 and d.last_error is not None and d.last_error.startswith("gave up after 3 attempts")
        assert [a.status_code for a in attempts] == [503, 503, 503]
    finally:
        endpoint.close()


def test_a_refused_connection_is_retried(sessions: sessionmaker, client: httpx.Client) -> None:
    delivery_id, _ = _delivery(sessions, f"http://127.0.0.1:{free_port()}/nobody-listens")
    outcome = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
    assert outcome.status == "retry"
    _, attempts, _ = _state(sessions, delivery_id)
    assert attempts[0].status_code is None and attempts[0].error == "could not connect"


@pytest.mark.parametrize(("status", "disabled"), [(400, False), (404, False), (410, True)])
def test_a_permanent_refusal_fails_at_once_and_410_switches_the_search_off(
    sessions: sessionmaker, client: httpx.Client, status: int, disabled: bool
) -> None:
    endpoint = Endpoint(status)
    try:
        delivery_id, _ = _delivery(sessions, endpoint.url)
        assert send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test).status == "failed"
        d, _, saved = _state(sessions, delivery_id)
        assert d.status == "failed" and d.attempts == 1 and d.last_error == f"HTTP {status} (refused by the subscriber)"
        assert saved.active is not disabled
        assert (saved.disabled_reason is not None) is disabled
    finally:
        endpoint.close()


def test_private_targets_are_refused_in_production(sessions: sessionmaker, client: httpx.Client) -> None:
    endpoint = Endpoint(200)
    try:
        delivery_id, _ = _delivery(sessions, endpoint.url)
        outcome = send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.production)
        assert outcome.status == "failed" and endpoint.requests == []
        d, _, _ = _state(sessions, delivery_id)
        assert d.last_error is not None and d.last_error.endswith("resolves to a non-public address")
    finally:
        endpoint.close()


def test_backoff_grows_fourfold_with_jitter_and_a_cap() -> None:
    settings = DeliverySettings(backoff_base_s=2.0, backoff_max_s=100.0)
    for attempt, base in ((1, 2.0), (2, 8.0), (3, 32.0)):
        delays = [backoff_s(attempt, settings) for _ in range(50)]
        assert all(0.5 * base <= d <= 1.5 * base for d in delays) and len(set(delays)) > 1
    assert backoff_s(9, settings) == 100.0
    assert backoff_s(1, settings, retry_after_s=30.0) == 30.0


@pytest.mark.parametrize("status", [404, 503])
def test_last_error_names_the_status_never_the_answer_body(
    sessions: sessionmaker,
    client: httpx.Client,
    status: int,
) -> None:
    endpoint = Endpoint(status)
    try:
        delivery_id, _ = _delivery(sessions, endpoint.url)
        send_delivery(sessions, SETTINGS, delivery_id, client=client, env=Environment.test)
        d, attempts, _ = _state(sessions, delivery_id)
        assert d.last_error is not None and d.last_error.startswith(f"HTTP {status} (")
        assert all("answer body" not in (a.error or "") for a in attempts)
        assert "answer body" not in d.last_error
    finally:
        endpoint.close()
