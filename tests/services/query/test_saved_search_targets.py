"""Outbound requests need their own scope: a query key may save searches but not give them a webhook_url
without ``deliver``; targets are checked when saved."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from shared.delivery.targets import TargetRefused, check_target
from tests import conftest
from tests.conftest import create_test_api_key

SEARCH = {"name": "Flood warnings", "filters": {"q": "flood warning"}}
HOOK = "http://127.0.0.1:9/hooks/floods"


def _query_client(platform: dict[str, str], test_infra: conftest.TestInfra, *scopes: str) -> httpx.Client:
    key = create_test_api_key(test_infra.database_url, scopes=scopes, name="saved search test")
    return httpx.Client(base_url=platform["query"], timeout=30, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def reader(platform: dict[str, str], test_infra: conftest.TestInfra, db: Engine) -> Iterator[httpx.Client]:
    with _query_client(platform, test_infra, "query") as query_only:
        yield query_only


def test_a_query_key_cannot_give_a_saved_search_a_webhook(reader: httpx.Client) -> None:
    refused = reader.post("/v1/saved-searches", json={**SEARCH, "webhook_url": HOOK})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "webhook_url"

    plain = reader.post("/v1/saved-searches", json=SEARCH)
    assert plain.status_code == 201, plain.text
    patched = reader.patch(f"/v1/saved-searches/{plain.json()['id']}", json={"webhook_url": HOOK})
    assert patched.status_code == 403
    assert reader.get(f"/v1/saved-searches/{plain.json()['id']}").json()["webhook_url"] is None


def test_the_deliver_scope_allows_webhooks(
    platform: dict[str, str], test_infra: conftest.TestInfra, db: Engine
) -> None:
    with _query_client(platform, test_infra, "query", "deliver") as deliverer:
        made = deliverer.post("/v1/saved-searches", json={**SEARCH, "webhook_url": HOOK})
        assert made.status_code == 201, made.text
        assert made.json()["webhook_url"] == HOOK
        bad = deliverer.post("/v1/saved-searches", json={**SEARCH, "webhook_url": "http://user:pw@example.com/h"})
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "webhook_url"


@pytest.mark.parametrize("url", ["http://localhost:8080/hook", "http://10.0.0.7/hook", "http://[::1]/hook"])
def test_private_targets_are_refused_when_saved_unless_allowed(url: str) -> None:
    with pytest.raises(TargetRefused, match="non-public"):
        check_target(url, allow_private=False)
    assert check_target(url, allow_private=True) == url
