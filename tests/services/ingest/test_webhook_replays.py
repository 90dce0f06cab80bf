"""Webhook deliveries cannot be replayed once their idempotency record is gone, and the endpoint does not
tell which source names exist."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import Engine, text

from shared.channels.signing import websub_signature
from shared.config import get_settings
from shared.tasks import TaskName, make_celery
from tests.services.ingest.channel_support import count, deliver, make_source
from tests.support import wait_for

ARTICLE = {
    "title": "Harbour cranes back in service",
    "body": "The port authority said all six cranes were working again on Thursday after repairs.",
}


def _websub(ingest: httpx.Client, source: str, secret: str, body: bytes) -> httpx.Response:
    return ingest.post(
        f"/v1/webhooks/{source}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": websub_signature(secret, body)},
    )


def _expire_idempotency_records(db: Engine) -> None:
    """What the purge does after 24 hours, without the wait."""
    with db.begin() as conn:
        conn.execute(text("DELETE FROM idempotency_keys"))


def test_a_websub_replay_after_the_idempotency_record_expired_is_not_stored_again(
    ingest: httpx.Client, db: Engine
) -> None:
    secret = make_source(ingest, "harbour")
    body = b'{"title": "Harbour cranes back in service", "body": "All six cranes were working again."}'
    first = _websub(ingest, "harbour", secret, body)
    assert first.status_code == 202, first.text
    again = _websub(ingest, "harbour", secret, body)  # within the day: the first answer again
    assert again.status_code == 202 and again.json() == first.json()

    _expire_idempotency_records(db)
    replay = _websub(ingest, "harbour", secret, body)
    assert replay.status_code == 409, replay.text
    assert replay.json()["error"]["code"] == "delivery_replayed"
    assert count(db, "ingestions") == 1

    # New content from the same hub is still welcome.
    fresh = _websub(ingest, "harbour", secret, body.replace(b"six", b"seven"))
    assert fresh.status_code == 202
    assert count(db, "ingestions") == 2


def _purge(db: Engine, app: Any) -> None:
    """Run the worker's purge task and wait until it has run: an expired idempotency record marks it."""
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (owner, scope, key, request_hash, response_status, response_body, "
                "created_at) VALUES ('', 'marker', 'old', '\\x00', 202, '{}', now() - interval '2 days')"
            )
        )
    app.send_task(TaskName.PURGE_EXPIRED)
    wait_for(lambda: count(db, "idempotency_keys", "scope = 'marker'") == 0, timeout=30, what="the purge to run")


def test_websub_digests_are_kept_until_no_valid_secret_could_have_signed_them(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest, "harbour")
    assert _websub(ingest, "harbour", secret, b'{"title": "Cranes", "body": "Working again."}').status_code == 202
    app = make_celery(get_settings(), "tidings-test-websub-prune")
    try:
        _purge(db, app)
        assert count(db, "websub_deliveries") == 1  # the secret that signed it is still valid
        ingest.post("/v1/sources/harbour/rotate-secret", json={"grace_period_s": 0})
        _purge(db, app)
        assert count(db, "websub_deliveries") == 0
    finally:
        app.close()


def test_a_standard_webhooks_replay_is_stale_long_before_its_record_expires(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest, "harbour")
    assert deliver(ingest, "harbour", secret, ARTICLE, msg_id="msg_1").status_code == 202
    _expire_idempotency_records(db)
    # A captured delivery resent a day later carries its signed timestamp of a day ago.
    stale = deliver(ingest, "harbour", secret, ARTICLE, msg_id="msg_1", timestamp=int(time.time()) - 86_400)
    assert stale.status_code == 401
    assert stale.json()["error"]["details"][0]["field"] == "webhook-timestamp"
    assert count(db, "ingestions") == 1


def _answer(r: httpx.Response) -> tuple[int, dict[str, Any], str | None]:
    return r.status_code, r.json(), r.headers.get("www-authenticate")


def test_unknown_and_known_sources_answer_unsigned_and_badly_signed_deliveries_alike(
    ingest: httpx.Client, db: Engine
) -> None:
    make_source(ingest, "partner-x")
    ingest.post("/v1/sources", json={"name": "desk"})  # registered, but receives no webhooks
    for headers in (
        {},  # unsigned
        {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"},
        {"X-Hub-Signature-256": "sha256=" + "00" * 32},
    ):
        answers = {
            source: _answer(
                ingest.post(
                    f"/v1/webhooks/{source}",
                    json=ARTICLE,
                    headers=headers,
                )
            )
            for source in ("partner-x", "nobody-by-this-name", "desk")
        }
        assert {a[0] for a in answers.values()} == {401}, answers
        assert len({repr(a) for a in answers.values()}) == 1, answers
    assert count(db, "ingestions") == 0
