"""``/v1/feeds``: registering feeds, refusing private addresses, and reading their health."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import Engine

from tests import conftest
from tests.conftest import create_test_api_key
from tests.services.ingest.channel_support import count


def test_register_a_feed(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/world.rss", "source": "local-news"})
    assert r.status_code == 201, r.text
    feed = r.json()
    assert uuid.UUID(feed["id"])
    assert feed["source"] == "local-news" and feed["active"] is True
    health = feed["health"]
    assert health["status"] == "new" and health["gone_quiet"] is False
    assert health["interval_s"] == 3600 and health["items_per_day"] == 0 and health["consecutive_failures"] == 0
    # Its source exists, so webhooks could be turned on for it later.
    assert ingest.get("/v1/sources/local-news").status_code == 200
    assert ingest.get(f"/v1/feeds/{feed['id']}").json()["recent_polls"] == []
    assert [f["id"] for f in ingest.get("/v1/feeds").json()["items"]] == [feed["id"]]


def test_the_source_defaults_to_the_host(ingest: httpx.Client, db: Engine) -> None:
    feed = ingest.post("/v1/feeds", json={"url": "http://localhost:9/feed"}).json()
    assert feed["source"] == "localhost"


def test_a_feed_is_registered_once(ingest: httpx.Client, db: Engine) -> None:
    first = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/a.rss"}).json()
    r = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/a.rss"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "feed_exists"
    assert first["id"] in r.json()["error"]["details"][0]["message"]
    assert count(db, "feeds") == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.5/feed.rss", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]:8080/feed", "loopback"),  # the tests allow-list 127.0.0.0/8 only
        ("http://192.168.1.1/rss", "private"),
        ("ftp://example.com/feed", "http:// or https://"),
        ("http://no-such-host.invalid/feed", "does not resolve"),
    ],
)
def test_private_and_unusable_urls_are_refused(ingest: httpx.Client, db: Engine, url: str, reason: str) -> None:
    r = ingest.post("/v1/feeds", json={"url": url})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "url_refused"
    assert reason in error["message"]
    assert error["details"][0]["field"] == "url"
    assert count(db, "feeds") == 0


def test_interval_bounds_are_checked(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/x", "min_interval_s": 900, "max_interval_s": 600})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "min_interval_s"
    feed = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/x", "max_interval_s": 600}).json()
    assert feed["health"]["interval_s"] == 600


def test_pause_and_delete(ingest: httpx.Client, db: Engine) -> None:
    feed = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/x"}).json()
    paused = ingest.patch(f"/v1/feeds/{feed['id']}", json={"active": False})
    assert paused.status_code == 200 and paused.json()["health"]["status"] == "dead"
    assert [f["id"] for f in ingest.get("/v1/feeds", params={"active": "false"}).json()["items"]] == [feed["id"]]
    assert ingest.delete(f"/v1/feeds/{feed['id']}").status_code == 204
    assert ingest.get(f"/v1/feeds/{feed['id']}").status_code == 404


def test_listing_pages_by_id(ingest: httpx.Client, db: Engine) -> None:
    ids = [ingest.post("/v1/feeds", json={"url": f"http://127.0.0.1:9/{n}"}).json()["id"] for n in range(3)]
    page = ingest.get("/v1/feeds", params={"limit": 2}).json()
    assert [f["id"] for f in page["items"]] == ids[:2]
    rest = ingest.get("/v1/feeds", params={"limit": 2, "after": page["next_after"]}).json()
    assert [f["id"] for f in rest["items"]] == ids[2:] and rest["next_after"] is None


def test_only_keys_that_may_write_to_its_source_manage_a_feed(
    platform: dict[str, str], test_infra: conftest.TestInfra, ingest: httpx.Client, db: Engine
) -> None:
    feed = ingest.post("/v1/feeds", json={"url": "http://127.0.0.1:9/desk.xml", "source": "city-desk"}).json()
    other = create_test_api_key(test_infra.database_url, scopes=("ingest",), name="another desk")
    granted = create_test_api_key(test_infra.database_url, scopes=("ingest",), name="city desk", sources=["city-desk"])
    with httpx.Client(base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {other}"}) as c:
        refused = c.patch(f"/v1/feeds/{feed['id']}", json={"active": False})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "source_forbidden"
        assert refused.json()["error"]["details"][0]["field"] == "source"
        assert c.delete(f"/v1/feeds/{feed['id']}").status_code == 403
    assert ingest.get(f"/v1/feeds/{feed['id']}").json()["active"] is True
    with httpx.Client(base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {granted}"}) as c:
        assert c.patch(f"/v1/feeds/{feed['id']}", json={"active": False}).status_code == 200
        assert c.delete(f"/v1/feeds/{feed['id']}").status_code == 204
