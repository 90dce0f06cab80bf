"""The webhook road answers agency files as their senders expect: ninjs with a ``title``, ninjs 3.0's camelCase,
Superdesk's ``guid``, a clear 422 for what is neither ninjs nor a Tidings article, WebSub's sha1 signature, and
a 422 naming ``html`` for a page with nothing but navigation."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine, text

from shared.channels.signing import websub_signature
from tests.services.ingest.channel_support import count, deliver, make_source
from tests.shared.channels.samples import (
    ENTITIES_RSS,
    FURNITURE_ONLY_PAGE,
    NINJS_3,
    NINJS_SUPERDESK,
    NINJS_WITH_TITLE,
)


def _payload(db: Engine) -> dict:
    with db.connect() as conn:
        payload: dict = conn.scalar(text("SELECT payload FROM ingestions"))
    return payload


def test_ninjs_with_a_title_is_accepted_as_ninjs(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, NINJS_WITH_TITLE)
    assert r.status_code == 202, r.text
    assert r.json()["format"] == "ninjs" and r.json()["rejected"] == []
    assert _payload(db)["title"] == "Port strike enters second day"


def test_ninjs_3_dates_and_credit_are_stored(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, NINJS_3, content_type="application/ninjs+json")
    assert r.status_code == 202, r.text
    payload = _payload(db)
    assert payload["published_at"] == "2019-05-10T16:02:28+02:00"
    assert payload["credit"] == "nordpresse"
    assert payload["summary"] == "The museum’s new wing opens on Saturday."


def test_superdesk_ninjs_is_stored_under_its_guid(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, NINJS_SUPERDESK)
    assert r.status_code == 202, r.text
    with db.connect() as conn:
        assert conn.scalar(text("SELECT external_id FROM ingestions")) == NINJS_SUPERDESK["guid"]


def test_an_object_that_is_neither_says_it_was_not_recognised_as_ninjs(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    r = deliver(ingest, "partner", secret, {"guid": "urn:x", "type": "text", "title": "port-strike"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["message"].startswith("not recognised as ninjs")
    assert error["details"][0]["field"] == "body"
    assert count(db, "ingestions") == 0


def test_websub_sha1_signature_is_accepted(ingest: httpx.Client, db: Engine) -> None:
    secret = make_source(ingest)
    headers = {"Content-Type": "application/rss+xml", "X-Hub-Signature": websub_signature(secret, ENTITIES_RSS, "sha1")}
    r = ingest.post("/v1/webhooks/partner", content=ENTITIES_RSS, headers=headers)
    assert r.status_code == 202, r.text
    assert [a["index"] for a in r.json()["accepted"]] == [0, 1]
    with db.connect() as conn:
        titles = set(conn.scalars(text("SELECT payload->>'title' FROM ingestions")))
    assert titles == {"Q&A: what’s next for rates", "Gold climbs to $2150 an ounce"}

    forged = {**headers, "X-Hub-Signature": websub_signature(secret, ENTITIES_RSS + b" ", "sha1")}
    r = ingest.post("/v1/webhooks/partner", content=ENTITIES_RSS, headers=forged)
    assert r.status_code == 401
    assert r.json()["error"]["details"][0]["field"] == "x-hub-signature"


def test_a_page_of_furniture_only_is_a_422_naming_html(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post("/v1/articles", json={"html": FURNITURE_ONLY_PAGE, "source": "site", "external_id": "home"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "html"
    assert count(db, "ingestions") == 0
