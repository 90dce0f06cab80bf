"""A saved search delivers a matching article, posted after it was saved, to a local subscriber as a signed
Standard Webhook; a failed first attempt is retried with the same ``webhook-id``; the delivery log shows both.

Runs a real beat process (the matcher is periodic) beside the session's worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from devtools.processes import Platform, beat_argv
from services.worker.events import STREAM
from shared.delivery.settings import DeliverySettings
from tests.conftest import LOG_DIR
from tests.support import NEWSROOM_ARTICLE, ROOT, free_port, wait_for

pytestmark = pytest.mark.e2e

GROUP = DeliverySettings().consumer_group


class Subscriber:
    """A local webhook endpoint that records every request and answers from a script of status codes."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    status = outer.statuses[min(len(outer.received), len(outer.statuses) - 1)]
                    outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/tidings"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber([503, 200])
    yield sub
    sub.close()


@pytest.fixture
def beat(test_infra: Any, platform: dict[str, str], tmp_path: Path) -> Iterator[None]:
    plat = Platform()
    env = {**test_infra.env, "TIDINGS_DELIVERY_MATCH_INTERVAL_S": "0.5"}
    plat.start("beat", beat_argv(tmp_path / "celerybeat-schedule"), env, ROOT, log=LOG_DIR / "query-beat.log")
    yield
    plat.stop()


def _expected_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_matching_article_is_delivered_signed_and_retried(
    ingest: httpx.Client, query: httpx.Client, subscriber: Subscriber, beat: None, redis_client: redis.Redis
) -> None:
    saved = query.post(
        "/v1/saved-searches",
        json={"name": "Sudan desk", "filters": {"q": "Omdurman"}, "webhook_url": subscriber.url},
    ).json()
    secret = saved["secret"]

    seed = ingest.post(
        "/v1/articles",
        content=NEWSROOM_ARTICLE.read_bytes(),
        headers={"Content-Type": "text/plain"},
        params={"source": "newsdesk", "external_id": f"seed-{uuid.uuid4()}"},
    ).json()
    other = ingest.post(
        "/v1/articles",
        json={"title": "Markets close higher", "body": "Shares rose in London and Frankfurt on Tuesday.\n\n"
              "Traders cited strong earnings from banks.", "source": "wire"},
    ).json()  # fmt: skip

    wait_for(lambda: len(subscriber.received) >= 2, timeout=90, interval=0.2, what="a delivery and its retry")
    (first_headers, first_body, first_status), (headers, body, status) = subscriber.received[:2]
    assert (first_status, status) == (503, 200)
    assert headers["webhook-id"] == first_headers["webhook-id"], "a retry repeats the message id"
    assert body == first_body, "and the exact bytes"
    assert headers["webhook-signature"] == _expected_signature(secret, headers, body)
    assert first_headers["webhook-signature"] == _expected_signature(secret, first_headers, first_body)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 120
    assert headers["content-type"] == "application/json"

    message = json.loads(body)
    assert message["type"] == "saved_search.matched"
    assert message["data"]["saved_search"] == {"id": saved["id"], "name": "Sudan desk"}
    assert [a["id"] for a in message["data"]["articles"]] == [seed["id"]]
    assert other["id"] not in body.decode()

    log = wait_for(
        lambda: (
            (d := query.get(f"/v1/saved-searches/{saved['id']}/deliveries").json()["items"])
            and d[0]["status"] == "delivered"
            and d
        ),
        timeout=30,
        what="the delivery log to show the delivery",
    )
    (delivery,) = log
    assert delivery["webhook_id"] == headers["webhook-id"]
    assert delivery["attempts"] == 2 and delivery["article_ids"] == [seed["id"]]
    assert [(a["attempt"], a["status_code"]) for a in delivery["attempt_log"]] == [(1, 503), (2, 200)]
    assert delivery["attempt_log"][0]["error"].startswith("HTTP 503")

    # The same article announced again (a re-processing, a replayed entry) is matched but never re-delivered.
    entry = redis_client.xadd(STREAM, {"id": seed["id"]}).decode()

    def handled() -> bool:
        group = next(g for g in redis_client.xinfo_groups(STREAM) if g["name"].decode() == GROUP)
        return _entry_key(group["last-delivered-id"].decode()) >= _entry_key(entry) and group["pending"] == 0

    wait_for(handled, timeout=30, what="the matcher to handle the replayed entry")
    assert len(query.get(f"/v1/saved-searches/{saved['id']}/deliveries").json()["items"]) == 1
    assert len(subscriber.received) == 2


def _entry_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)
