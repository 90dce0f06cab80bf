"""``/v1/sources``: sources, their webhook secrets shown once, and rotation with a grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from tests.services.ingest.channel_support import count


def test_a_webhook_source_gets_its_secret_once(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post("/v1/sources", json={"name": "reuters", "description": "wire", "webhooks": True})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_")
    assert created["name"] == "reuters" and created["webhooks"] is True and created["active"] is True
    assert len(created["secrets"]) == 1 and created["secrets"][0]["expires_at"] is None

    shown = ingest.get("/v1/sources/reuters").json()
    assert "secret" not in shown
    assert created["secret"] not in ingest.get("/v1/sources").text
    assert [s["name"] for s in ingest.get("/v1/sources").json()] == ["reuters"]


def test_a_source_without_webhooks_has_no_secret(ingest: httpx.Client, db: Engine) -> None:
    created = ingest.post("/v1/sources", json={"name": "desk"}).json()
    assert created["secret"] is None and created["secrets"] == []
    assert count(db, "webhook_secrets") == 0


def test_turning_webhooks_on_issues_a_secret(ingest: httpx.Client, db: Engine) -> None:
    ingest.post("/v1/sources", json={"name": "desk"})
    patched = ingest.patch("/v1/sources/desk", json={"webhooks": True, "description": "newsdesk"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["secret"].startswith("whsec_")
    assert patched.json()["description"] == "newsdesk"
    again = ingest.patch("/v1/sources/desk", json={"active": False}).json()
    assert again["secret"] is None and again["active"] is False


def test_rotation_keeps_the_old_secret_for_the_grace_period(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/sources", json={"name": "afp", "webhooks": True}).json()
    r = ingest.post("/v1/sources/afp/rotate-secret", json={"grace_period_s": 3600})
    assert r.status_code == 201, r.text
    rotated = r.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first["secret"]
    until = datetime.fromisoformat(rotated["previous_valid_until"])
    secrets = ingest.get("/v1/sources/afp").json()["secrets"]
    assert len(secrets) == 2
    old, new = secrets
    assert datetime.fromisoformat(old["expires_at"]) == until
    assert until - datetime.fromisoformat(old["created_at"]) < timedelta(seconds=3660)
    assert new["expires_at"] is None


def test_rotation_without_grace_retires_the_old_secret_at_once(ingest: httpx.Client, db: Engine) -> None:
    ingest.post("/v1/sources", json={"name": "afp", "webhooks": True})
    ingest.post("/v1/sources/afp/rotate-secret", json={"grace_period_s": 0})
    assert len(ingest.get("/v1/sources/afp").json()["secrets"]) == 1
    # With no body, the default grace period (24 hours) applies.
    r = ingest.post("/v1/sources/afp/rotate-secret")
    assert r.status_code == 201
    assert len(ingest.get("/v1/sources/afp").json()["secrets"]) == 2


@pytest.mark.parametrize(
    ("request_", "status", "field"),
    [
        (("post", "/v1/sources", {"name": "has space"}), 422, "name"),
        (("post", "/v1/sources", {"name": "ok", "secret": "mine"}), 422, "secret"),
        (("get", "/v1/sources/nobody", None), 404, "name"),
        (("patch", "/v1/sources/nobody", {"active": True}), 404, "name"),
        (("post", "/v1/sources/nobody/rotate-secret", None), 404, "name"),
        (("post", "/v1/sources/plain/rotate-secret", {"grace_period_s": -1}), 422, "grace_period_s"),
        (("post", "/v1/sources/plain/rotate-secret", None), 409, "name"),
        (("patch", "/v1/sources/plain", {"webhooks": None}), 422, "webhooks"),
    ],
)
def test_bad_requests_name_the_field(
    ingest: httpx.Client, db: Engine, request_: tuple[str, str, dict | None], status: int, field: str
) -> None:
    ingest.post("/v1/sources", json={"name": "plain"})
    method, path, body = request_
    r = ingest.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]


def test_a_name_is_taken_once(ingest: httpx.Client, db: Engine) -> None:
    assert ingest.post("/v1/sources", json={"name": "bbc"}).status_code == 201
    r = ingest.post("/v1/sources", json={"name": "bbc", "webhooks": True})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "source_exists"
    assert count(db, "sources") == 1 and count(db, "webhook_secrets") == 0
