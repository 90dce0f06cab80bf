"""``/v1/webhooks/{source}``: Standard Webhooks verification, replays, rotation, and every payload format."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import Engine, text

from shared.channels.signing import webhook_headers, websub_signature
from tests.services.ingest.channel_support import count, deliver, make_source
from tests.shared.channels.samples import NEWSML_ITEM, NINJS_2, NITF, RSS, UNSAFE_XML, html_page, unsafe

ARTICLE = {
    "title": "Port strike enters second day",
    "body": "Dock workers stayed away for a second day on Wednesday.\n\nShipping lines diverted vessels.",
    "external_id": "strike-1",
    "published_at": "2024-03-06T08:00:00Z",
}


def _error(r: httpx.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"}, body
    return body["error"]


def _nothing_stored(db: Engine) -> bool:
    return count(db, "ingestions") == 0 and count(db, "idempotency_keys") == 0


def test_a_valid_delivery_is_stored_under_the_source(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, {**ARTICLE, "source": "someone-else"}, msg_id="msg_1")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["delivery_id"] == "msg_1" and body["format"] == "tidings" and body["rejected"] == []
    [accepted] = body["accepted"]
    assert accepted["status_url"] == f"/v1/articles/{accepted['id']}/status"
    with db.connect() as conn:
        row = conn.execute(text("SELECT source, external_id, channel, payload FROM ingestions")).one()
    assert (row.source, row.external_id, row.channel) == ("partner", "strike-1", "webhook")
    assert row.payload["title"] == ARTICLE["title"]


def test_a_replayed_delivery_returns_the_first_result(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    first = deliver(ingest, "partner", secret, ARTICLE, msg_id="msg_1")
    # The sender retries the same message later: same id and body, a new timestamp and signature.
    again = deliver(ingest, "partner", secret, ARTICLE, msg_id="msg_1", timestamp=int(time.time()) + 5)
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert count(db, "ingestions") == 1


def test_the_same_id_with_another_body_is_refused(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    deliver(ingest, "partner", secret, ARTICLE, msg_id="msg_1")
    r = deliver(ingest, "partner", secret, {**ARTICLE, "external_id": "strike-2"}, msg_id="msg_1")
    assert r.status_code == 422
    assert _error(r)["code"] == "delivery_id_reused"
    assert count(db, "ingestions") == 1


def test_a_tampered_body_is_refused_and_nothing_stored(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    body = json.dumps(ARTICLE).encode()
    headers = webhook_headers(secret, body, msg_id="msg_t")
    tampered = body.replace(b"second day", b"third day")
    r = ingest.post("/v1/webhooks/partner", content=tampered, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == 401
    error = _error(r)
    assert error["code"] == "invalid_signature"
    assert "does not match" in error["message"]
    assert error["details"][0]["field"] == "webhook-signature"
    assert _nothing_stored(db)
    # The untouched body with the same headers passes.
    r = ingest.post("/v1/webhooks/partner", content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == 202


def test_a_stale_timestamp_is_refused(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, ARTICLE, timestamp=int(time.time()) - 301)
    assert r.status_code == 401
    assert "more than 300 seconds old" in _error(r)["message"]
    assert _error(r)["details"][0]["field"] == "webhook-timestamp"
    assert _nothing_stored(db)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(ingest: httpx.Client, db: Engine, missing: str) -> None:
    secret = make_source(ingest)
    body = json.dumps(ARTICLE).encode()
    headers = webhook_headers(secret, body)
    del headers[missing]
    r = ingest.post("/v1/webhooks/partner", content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == 401
    assert _error(r)["message"] == f"missing {missing} header"
    assert _nothing_stored(db)


def test_a_signature_made_with_another_secret_is_refused(ingest: httpx.Client, db: Engine) -> None:
    make_source(ingest, "partner")
    other = make_source(ingest, "other")
    r = deliver(ingest, "partner", other, ARTICLE)
    assert r.status_code == 401
    assert _nothing_stored(db)


def test_a_rotated_secret_keeps_working_for_the_grace_period_then_stops(ingest: httpx.Client, db: Engine) -> None:
    old = make_source(ingest)
    new = ingest.post("/v1/sources/partner/rotate-secret", json={"grace_period_s": 3600}).json()["secret"]
    assert deliver(ingest, "partner", old, {**ARTICLE, "external_id": "a"}).status_code == 202
    assert deliver(ingest, "partner", new, {**ARTICLE, "external_id": "b"}).status_code == 202
    # A second rotation without grace retires both earlier secrets.
    newest = ingest.post("/v1/sources/partner/rotate-secret", json={"grace_period_s": 0}).json()["secret"]
    assert deliver(ingest, "partner", old, {**ARTICLE, "external_id": "c"}).status_code == 401
    assert deliver(ingest, "partner", new, {**ARTICLE, "external_id": "d"}).status_code == 401
    assert deliver(ingest, "partner", newest, {**ARTICLE, "external_id": "e"}).status_code == 202
    with db.connect() as conn:
        assert sorted(conn.scalars(text("SELECT external_id FROM ingestions"))) == ["a", "b", "e"]


def test_unknown_inactive_or_webhookless_sources_are_401(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    ingest.post("/v1/sources", json={"name": "plain"})
    assert deliver(ingest, "nobody", secret, ARTICLE).status_code == 401
    assert deliver(ingest, "plain", secret, ARTICLE).status_code == 401
    ingest.patch("/v1/sources/partner", json={"active": False})
    assert deliver(ingest, "partner", secret, ARTICLE).status_code == 401
    assert count(db, "ingestions") == 0


def test_a_list_is_accepted_item_by_item(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    items = [{**ARTICLE, "external_id": "a"}, {"title": "no body"}, {**ARTICLE, "external_id": "b"}]
    r = deliver(ingest, "partner", secret, items)
    assert r.status_code == 202, r.text
    body = r.json()
    assert [a["index"] for a in body["accepted"]] == [0, 2]
    [rejected] = body["rejected"]
    assert rejected["index"] == 1
    assert rejected["error"]["details"][0]["field"] == "items.1.body"


def test_a_delivery_with_nothing_valid_is_422(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, {"title": "no body"})
    assert r.status_code == 422
    assert _error(r)["details"][0]["field"] == "body"
    assert _nothing_stored(db)


def test_ninjs(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, NINJS_2, content_type="application/ninjs+json")
    assert r.status_code == 202, r.text
    assert r.json()["format"] == "ninjs"
    with db.connect() as conn:
        payload = conn.scalar(text("SELECT payload FROM ingestions"))
    assert payload["title"] == "Elfmeter in der Nachspielzeit entscheidet das Derby"
    assert payload["external_id"] == NINJS_2["uri"]


@pytest.mark.parametrize(
    ("doc", "fmt", "external_id"),
    [(NEWSML_ITEM, "newsml-g2", "urn:newsml:example.com:20240305:econ-1"), (NITF, "nitf", "NITF-2024-0042")],
)
def test_wire_xml(ingest: httpx.Client, db: Engine, doc: bytes, fmt: str, external_id: str) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, doc, content_type="application/xml")
    assert r.status_code == 202, r.text
    assert r.json()["format"] == fmt
    with db.connect() as conn:
        assert conn.scalar(text("SELECT external_id FROM ingestions")) == external_id


def test_websub_content_delivery_with_x_hub_signature(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    headers = {"Content-Type": "application/rss+xml", "X-Hub-Signature-256": websub_signature(secret, RSS)}
    r = ingest.post("/v1/webhooks/partner", content=RSS, headers=headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["format"] == "rss20" and body["delivery_id"].startswith("websub:")
    assert [a["index"] for a in body["accepted"]] == [0, 1]
    assert body["rejected"][0]["index"] == 2
    # The hub delivers the same content again: a replay, nothing new.
    again = ingest.post("/v1/webhooks/partner", content=RSS, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert count(db, "ingestions") == 2

    bad = {**headers, "X-Hub-Signature-256": websub_signature(secret, RSS + b" ")}
    r = ingest.post("/v1/webhooks/partner", content=RSS, headers=bad)
    assert r.status_code == 401
    assert _error(r)["details"][0]["field"] == "x-hub-signature-256"


def test_websub_subscription_check_echoes_the_challenge(ingest: httpx.Client, db: Engine) -> None:
    make_source(ingest)
    params = {"hub.mode": "subscribe", "hub.topic": "https://example.com/feed", "hub.challenge": "c-123"}
    r = ingest.get("/v1/webhooks/partner", params=params)
    assert r.status_code == 200 and r.text == "c-123"
    assert ingest.get("/v1/webhooks/nobody", params=params).status_code == 404


@pytest.mark.parametrize("kind", sorted(UNSAFE_XML))
@pytest.mark.parametrize("root", ["rss", "nitf"])
def test_xml_bombs_and_external_entities_are_400(ingest: httpx.Client, db: Engine, kind: str, root: str) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, unsafe(kind, root), content_type="application/xml")
    assert r.status_code == 400, r.text
    assert _error(r)["code"] == "unsafe_xml"
    assert _nothing_stored(db)


def test_malformed_xml_and_unknown_types(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, b"<nitf><head>", content_type="application/xml")
    assert r.status_code == 400
    r = deliver(ingest, "partner", secret, b"title", content_type="text/csv")
    assert r.status_code == 415
    assert _error(r)["details"][0]["field"] == "content-type"
    assert _nothing_stored(db)


def test_an_html_article(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, {"html": html_page(), "external_id": "page-1"})
    assert r.status_code == 202, r.text
    with db.connect() as conn:
        payload = conn.scalar(text("SELECT payload FROM ingestions"))
    assert payload["title"] == "Quake hits city"
    assert payload["body"].startswith("A strong earthquake")
    assert "html" not in payload
