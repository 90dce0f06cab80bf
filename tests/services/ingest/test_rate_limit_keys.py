"""Rate limits over HTTP: a normal key is throttled, a key with the ``unlimited`` scope (internal services,
the admin key ``make run`` prints) never is."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from sqlalchemy import Engine, text

from devtools.run import _fresh_admin_key

if TYPE_CHECKING:
    from tests.conftest import TestInfra

REQUESTS = 15  # past the burst of a 6-a-minute key (one request), well within any test's time


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _key(ingest: httpx.Client, scopes: list[str], **extra: object) -> str:
    r = ingest.post("/v1/api-keys", json={"name": "+".join(scopes), "scopes": scopes, **extra})
    assert r.status_code == 201, r.text
    assert r.json()["scopes"] == sorted(scopes)
    return str(r.json()["key"])


def _statuses(client: httpx.Client, key: str) -> list[int]:
    return [client.get("/v1/articles", headers=_bearer(key)).status_code for _ in range(REQUESTS)]


def test_a_normal_key_is_throttled_and_an_unlimited_one_is_not(ingest: httpx.Client, platform: dict[str, str]) -> None:
    normal = _key(ingest, ["query"], rate_limit_per_minute=6)
    internal = _key(ingest, ["query", "unlimited"], rate_limit_per_minute=6)
    with httpx.Client(base_url=platform["query"], timeout=30) as query:
        normal_statuses = _statuses(query, normal)
        internal_statuses = _statuses(query, internal)
    assert normal_statuses[0] == 200 and 429 in normal_statuses
    assert internal_statuses == [200] * REQUESTS


def test_unlimited_grants_no_access_by_itself(ingest: httpx.Client, platform: dict[str, str]) -> None:
    bare = _key(ingest, ["unlimited"])
    with httpx.Client(base_url=platform["query"], timeout=30) as query:
        r = query.get("/v1/articles", headers=_bearer(bare))
    assert r.status_code == 403
    assert r.json()["error"]["details"][0]["field"] == "scopes"


def test_the_key_make_run_prints_is_never_throttled(
    test_infra: TestInfra, db: Engine, platform: dict[str, str]
) -> None:
    key = _fresh_admin_key(test_infra.database_url)
    with db.begin() as conn:  # even a key given a tiny limit of its own: unlimited wins
        scopes = conn.execute(
            text(
                "UPDATE api_keys SET rate_limit_per_minute = 6 WHERE name = 'make run' AND revoked_at IS NULL "
                "RETURNING scopes"
            )
        ).scalar_one()
    assert set(scopes) == {"admin", "unlimited"}
    with httpx.Client(base_url=platform["ingest"], timeout=30) as ingest:
        assert [ingest.get("/v1/api-keys", headers=_bearer(key)).status_code for _ in range(REQUESTS)] == [
            200
        ] * REQUESTS
