"""``/v1/saved-searches``: create (secret shown once), read, update, rotate, delete, run; bad input refused."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_saved_search_lifecycle(query: httpx.Client) -> None:
    created = query.post(
        "/v1/saved-searches",
        json={
            "name": "Syria desk",
            "filters": {"q": "Aleppo OR Damascus", "place": ["Damascus"], "from": "2025-01-01T00:00:00Z"},
            "webhook_url": "https://subscriber.example/hooks/tidings",
        },
    )
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["secret"].startswith("whsec_")
    assert saved["filters"]["q"] == "Aleppo OR Damascus" and saved["filters"]["place"] == ["Damascus"]
    assert saved["filters"]["from"] == "2025-01-01T00:00:00Z"
    assert saved["active"] is True

    fetched = query.get(f"/v1/saved-searches/{saved['id']}").json()
    assert fetched["secret"] is None, "the secret is shown once"
    assert fetched["name"] == "Syria desk"
    assert [s["id"] for s in query.get("/v1/saved-searches").json()["items"]] == [saved["id"]]

    changed = query.patch(f"/v1/saved-searches/{saved['id']}", json={"name": "Levant desk", "active": False})
    assert changed.status_code == 200 and changed.json()["name"] == "Levant desk"
    assert changed.json()["active"] is False and changed.json()["filters"] == saved["filters"]

    rotated = query.post(f"/v1/saved-searches/{saved['id']}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != saved["secret"]

    run = query.get(f"/v1/saved-searches/{saved['id']}/articles")
    assert run.status_code == 200 and run.json() == {"items": [], "next_cursor": None}
    assert query.get(f"/v1/saved-searches/{saved['id']}/deliveries").json() == {"items": []}

    assert query.delete(f"/v1/saved-searches/{saved['id']}").status_code == 204
    gone = query.get(f"/v1/saved-searches/{saved['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["details"][0]["field"] == "saved_search_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "webhook_url": "ftp://files.example/drop"}, "webhook_url"),
        ({"name": "x", "webhook_url": "https://user:pw@hooks.example/"}, "webhook_url"),
        ({"name": "x", "filters": {"topic": ["war"]}}, "filters.topic.0"),
        ({"name": "x", "filters": {"sort": "relevance"}}, "filters.sort"),
        ({"name": "", "filters": {}}, "name"),
        ({"name": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_saved_searches_are_refused_naming_the_field(query: httpx.Client, body: dict, field: str) -> None:
    r = query.post("/v1/saved-searches", json=body)
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]
