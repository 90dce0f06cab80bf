"""``Idempotency-Key`` belongs to the API key that sent it: another client reusing the same string, even with
the same body, gets its own processing and never the first client's stored answer."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from tests import conftest
from tests.conftest import create_test_api_key
from tests.services.ingest.channel_support import count

ARTICLE = {
    "title": "Council approves new cycle lanes",
    "body": "The city council approved eleven kilometres of protected cycle lanes on Tuesday evening.",
    "source": "city-desk",
}


def _client(platform: dict[str, str], test_infra: conftest.TestInfra, name: str) -> httpx.Client:
    key = create_test_api_key(test_infra.database_url, scopes=("ingest",), name=name)
    return httpx.Client(base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {key}"})


def test_a_second_client_reusing_the_key_gets_its_own_processing(
    platform: dict[str, str], test_infra: conftest.TestInfra, db: Engine
) -> None:
    headers = {"Idempotency-Key": "retry-7d1c"}
    with _client(platform, test_infra, "client a") as a, _client(platform, test_infra, "client b") as b:
        first = a.post("/v1/articles", json=ARTICLE, headers=headers)
        assert first.status_code == 202, first.text
        other = b.post("/v1/articles", json=ARTICLE, headers=headers)
        assert other.status_code == 202, other.text
        assert "idempotent-replayed" not in other.headers
        assert other.json()["id"] != first.json()["id"]

        # Each client's own retry still gets its own first answer.
        again_a = a.post("/v1/articles", json=ARTICLE, headers=headers)
        again_b = b.post("/v1/articles", json=ARTICLE, headers=headers)
        assert again_a.json() == first.json() and again_a.headers["idempotent-replayed"] == "true"
        assert again_b.json() == other.json() and again_b.headers["idempotent-replayed"] == "true"

        # Another body under the key: refused for its owner only.
        changed = {**ARTICLE, "body": ARTICLE["body"] + " Work starts in May."}
        assert a.post("/v1/articles", json=changed, headers=headers).status_code == 422
    assert count(db, "ingestions") == 2
    assert count(db, "idempotency_keys") == 2


def test_batches_are_scoped_per_key_too(platform: dict[str, str], test_infra: conftest.TestInfra, db: Engine) -> None:
    headers = {"Idempotency-Key": "batch-1"}
    batch = {"articles": [ARTICLE, {**ARTICLE, "title": "Cycle lanes: what changes"}]}
    with _client(platform, test_infra, "client a") as a, _client(platform, test_infra, "client b") as b:
        first = a.post("/v1/articles/batch", json=batch, headers=headers)
        other = b.post("/v1/articles/batch", json=batch, headers=headers)
    assert first.status_code == other.status_code == 202
    assert {i["id"] for i in first.json()["accepted"]}.isdisjoint(i["id"] for i in other.json()["accepted"])
    assert count(db, "ingestions") == 4
