"""API keys over HTTP: required everywhere but health, scoped, shown once, stored hashed, revocable, rate-limited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, text

from shared.api.keys import generate_key
from tests.conftest import LOG_DIR

ARTICLE = {"title": "Council approves budget", "body": "The city council approved the budget on Monday."}


@pytest.fixture
def anon(platform: dict[str, str], db: Engine) -> Iterator[dict[str, httpx.Client]]:
    """Clients that send no key unless told to."""
    with (
        httpx.Client(base_url=platform["ingest"], timeout=30) as ingest,
        httpx.Client(base_url=platform["query"], timeout=30) as query,
    ):
        yield {"ingest": ingest, "query": query}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _make_key(ingest: httpx.Client, scopes: list[str], **extra: object) -> dict:
    r = ingest.post("/v1/api-keys", json={"name": f"key for {'+'.join(scopes)}", "scopes": scopes, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    return body["error"]


def test_every_endpoint_but_health_needs_a_key(anon: dict[str, httpx.Client]) -> None:
    for name, client in anon.items():
        assert client.get("/healthz").status_code == 200, name
        assert client.get("/readyz").status_code == 200, name
        assert client.get("/metrics/").status_code == 200, name
        schema = client.get("/openapi.json").json()
        for path, operations in schema["paths"].items():
            if path in ("/healthz", "/readyz") or path.startswith("/v1/webhooks/"):
                continue
            for method in operations:
                url = path.replace("{", "").replace("}", "")  # any value: the key is checked first
                r = client.request(method, url)
                assert r.status_code == 401, f"{name} {method.upper()} {path}: {r.status_code}"
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
                assert _error(r)["code"] == "unauthorized"


def test_malformed_unknown_and_wrong_scheme_keys_are_refused(
    anon: dict[str, httpx.Client], api_key_headers: dict[str, str]
) -> None:
    ingest = anon["ingest"]
    session_key = api_key_headers["Authorization"].removeprefix("Bearer ")
    for headers in (
        _bearer("tdg_short"),
        _bearer(generate_key()),  # well-formed, never issued
        {"Authorization": f"Basic {session_key}"},
        {"X-API-Key": session_key[:-1] + ("x" if session_key[-1] != "x" else "y")},
    ):
        r = ingest.post("/v1/articles", json=ARTICLE, headers=headers)
        assert r.status_code == 401, headers
        assert "invalid" in _error(r)["message"] or "required" in _error(r)["message"]
    assert ingest.post("/v1/articles", json=ARTICLE, headers={"X-API-Key": session_key}).status_code == 202


def test_a_key_is_shown_once_and_stored_only_as_a_hash(ingest: httpx.Client, db: Engine) -> None:
    created = _make_key(ingest, ["ingest"], rate_limit_per_minute=600)
    key = created["key"]
    assert key.startswith("tdg_") and created["prefix"] == key[:12]
    assert created["scopes"] == ["ingest"] and created["revoked_at"] is None

    listed = ingest.get("/v1/api-keys").json()
    mine = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in mine and mine["prefix"] == created["prefix"]
    assert "key" not in ingest.get(f"/v1/api-keys/{created['id']}").json()
    with db.connect() as conn:
        dump = str(conn.execute(text("SELECT * FROM api_keys")).all())
    assert key not in dump and key[12:] not in dump


def test_scopes_decide_which_api_a_key_opens(ingest: httpx.Client, anon: dict[str, httpx.Client]) -> None:
    writer = _bearer(_make_key(ingest, ["ingest"])["key"])
    reader = _bearer(_make_key(ingest, ["query"])["key"])
    both = _bearer(_make_key(ingest, ["ingest", "query"])["key"])

    assert anon["ingest"].post("/v1/articles", json=ARTICLE, headers=writer).status_code == 202
    assert anon["query"].get("/v1/articles", headers=writer).status_code == 403
    assert anon["ingest"].get("/v1/dead-letters", headers=writer).status_code == 403
    assert (
        anon["ingest"].post("/v1/api-keys", json={"name": "x", "scopes": ["admin"]}, headers=writer).status_code == 403
    )

    assert anon["query"].get("/v1/articles", headers=reader).status_code == 200
    refused = anon["ingest"].post("/v1/articles", json=ARTICLE, headers=reader)
    assert refused.status_code == 403 and _error(refused)["code"] == "forbidden"

    assert anon["ingest"].post("/v1/articles", json=ARTICLE, headers=both).status_code == 202
    assert anon["query"].get("/v1/articles", headers=both).status_code == 200
    assert anon["ingest"].get("/v1/api-keys", headers=both).status_code == 403


def test_a_revoked_or_expired_key_stops_working(ingest: httpx.Client, anon: dict[str, httpx.Client]) -> None:
    created = _make_key(ingest, ["query"])
    headers = _bearer(created["key"])
    assert anon["query"].get("/v1/articles", headers=headers).status_code == 200

    revoked = ingest.delete(f"/v1/api-keys/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert ingest.delete(f"/v1/api-keys/{created['id']}").json()["revoked_at"] == revoked.json()["revoked_at"]
    assert anon["query"].get("/v1/articles", headers=headers).status_code == 401
    assert created["id"] not in {k["id"] for k in ingest.get("/v1/api-keys").json()}
    assert created["id"] in {k["id"] for k in ingest.get("/v1/api-keys", params={"include_revoked": True}).json()}


def test_expired_keys_and_bad_key_requests(ingest: httpx.Client, db: Engine, anon: dict[str, httpx.Client]) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = _make_key(ingest, ["query"], expires_at=soon)
    with db.begin() as conn:
        conn.execute(text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :id"), created)
    assert anon["query"].get("/v1/articles", headers=_bearer(created["key"])).status_code == 401

    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for body, field in (
        ({"name": "x", "scopes": ["root"]}, "scopes.0"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "", "scopes": ["query"]}, "name"),
        ({"name": "x\u0000", "scopes": ["query"]}, "name"),
        ({"name": "x", "scopes": ["query"], "expires_at": past}, "expires_at"),
        ({"name": "x", "scopes": ["query"], "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"name": "x", "scopes": ["query"], "owner": "me"}, "owner"),
        ({"name": "x", "scopes": ["ingest"], "sources": ["desk", "wire\u0000"]}, "sources.1"),
    ):
        r = ingest.post("/v1/api-keys", json=body)
        assert r.status_code == 422, body
        assert field in [d["field"] for d in _error(r)["details"]], r.json()
    # A key's granted sources are changed the same way, and checked the same way.
    lone_surrogate = b'{"sources": ["\\ud800"]}'  # the JSON escape, which no UTF-8 text can hold
    granted = ingest.patch(
        f"/v1/api-keys/{created['id']}", content=lone_surrogate, headers={"content-type": "application/json"}
    )
    assert granted.status_code == 422 and [d["field"] for d in _error(granted)["details"]] == ["sources.0"]
    assert ingest.get("/v1/api-keys/not-a-uuid").status_code == 400
    assert ingest.get("/v1/api-keys/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(
    ingest: httpx.Client, anon: dict[str, httpx.Client]
) -> None:
    # 6 a minute with a 10-second burst: one request at once, the next allowed 10 s later.
    slow = _bearer(_make_key(ingest, ["query"], rate_limit_per_minute=6)["key"])
    other = _bearer(_make_key(ingest, ["query"], rate_limit_per_minute=6)["key"])
    assert anon["query"].get("/v1/articles", headers=slow).status_code == 200
    limited = anon["query"].get("/v1/articles", headers=slow)
    assert limited.status_code == 429
    assert _error(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    # Limits are per key: another key is unaffected.
    assert anon["query"].get("/v1/articles", headers=other).status_code == 200


def test_keys_never_reach_the_logs(
    ingest: httpx.Client, anon: dict[str, httpx.Client], api_key_headers: dict[str, str]
) -> None:
    created = _make_key(ingest, ["ingest"])
    unknown = generate_key()
    anon["ingest"].post("/v1/articles", json=ARTICLE, headers=_bearer(created["key"]))
    anon["ingest"].post("/v1/articles", json=ARTICLE, headers=_bearer(unknown))
    anon["ingest"].post(
        "/v1/articles", content=b"{", headers={**_bearer(created["key"]), "Content-Type": "application/json"}
    )
    logs = "".join(p.read_text(errors="replace") for p in LOG_DIR.glob("*.log"))
    for secret in (created["key"], unknown, api_key_headers["Authorization"].removeprefix("Bearer ")):
        assert secret not in logs
