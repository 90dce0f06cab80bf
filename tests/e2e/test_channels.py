"""Every channel end to end through the running services: a signed webhook, a feed polled by Celery beat, an
HTML page; each ends as a processed article the query service finds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from devtools.processes import Platform, beat_argv
from tests.conftest import LOG_DIR
from tests.services.ingest.channel_support import deliver, make_source
from tests.shared.channels.feedserver import FeedServer, rss, story
from tests.shared.channels.samples import NINJS_2, html_page
from tests.support import ROOT, wait_for

if TYPE_CHECKING:
    from tests.conftest import TestInfra

pytestmark = pytest.mark.e2e


@pytest.fixture
def beat(test_infra: TestInfra, platform: dict[str, str], tmp_path: Path) -> Iterator[None]:
    """Celery beat looking for due feeds every second (production: every 30 s)."""
    plat = Platform()
    env = {**test_infra.env, "TIDINGS_CHANNELS_FEED_SCHEDULE_S": "1"}
    plat.start("beat", beat_argv(tmp_path / "celerybeat-schedule"), env, ROOT, log=LOG_DIR / "channels-beat.log")
    yield
    plat.stop()


def _article(query: httpx.Client, article_id: str) -> dict[str, Any] | None:
    r = query.get(f"/v1/articles/{article_id}")
    return r.json() if r.status_code == 200 else None


def test_a_signed_webhook_becomes_a_searchable_article(ingest: httpx.Client, query: httpx.Client) -> None:
    secret = make_source(ingest, "dpa")
    r = deliver(ingest, "dpa", secret, NINJS_2, msg_id="msg_derby")
    assert r.status_code == 202, r.text
    [accepted] = r.json()["accepted"]
    article = wait_for(lambda: _article(query, accepted["id"]), timeout=30, what="the delivery to be processed")
    assert article["title"] == "Elfmeter in der Nachspielzeit entscheidet das Derby"
    assert article["source"] == "dpa" and article["external_id"] == NINJS_2["uri"]
    assert article["language"] == "de"
    assert article["authors"] == ["Katrin Vogel"]
    found = query.get("/v1/articles", params={"q": "Skandal", "source": "dpa"}).json()["items"]
    assert [a["id"] for a in found] == [accepted["id"]]


def test_beat_polls_a_registered_feed(ingest: httpx.Client, query: httpx.Client, beat: None) -> None:
    with FeedServer().running() as server:
        server.serve("/harbour.rss", rss([story(1), story(2)], title="Harbour News"))
        r = ingest.post("/v1/feeds", json={"url": server.url("/harbour.rss"), "source": "harbour-news"})
        assert r.status_code == 201, r.text
        feed_id = r.json()["id"]

        def polled_and_processed() -> list[dict[str, Any]] | None:
            items = query.get("/v1/articles", params={"source": "harbour-news"}).json()["items"]
            return items if len(items) == 2 else None

        items = wait_for(polled_and_processed, timeout=60, what="beat to poll the feed and the items to be processed")
    assert {i["title"] for i in items} == {story(1)[1], story(2)[1]}
    feed = ingest.get(f"/v1/feeds/{feed_id}").json()
    assert feed["title"] == "Harbour News"
    assert feed["health"]["status"] == "ok" and feed["health"]["items_total"] == 2
    assert feed["health"]["interval_s"] == 1800  # new items: the 3600 s start halved
    assert feed["recent_polls"][-1]["outcome"] == "fetched"


def test_an_html_page_becomes_an_article(ingest: httpx.Client, query: httpx.Client) -> None:
    r = ingest.post(
        "/v1/articles",
        json={"html": html_page(), "source": "daily", "external_id": "quake", "url": "https://daily.example/quake"},
    )
    assert r.status_code == 202, r.text
    article = wait_for(lambda: _article(query, r.json()["id"]), timeout=30, what="the page to be processed")
    assert article["title"] == "Quake hits city"
    assert article["body"].startswith("A strong earthquake struck the city")
    assert "Privacy policy" not in article["body"]
    assert article["authors"] == ["Jane Doe"]
    assert article["published_at"] == "2024-03-05T08:15:00Z"
    assert article["summary"] == "A strong earthquake struck the city early on Tuesday."


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"html": "<html><body><script>x()</script></body></html>", "title": "t"}, "html", "no main text"),
        ({"html": html_page(), "body": "also a body"}, "html", "either body or html"),
    ],
)
def test_html_that_cannot_be_used_is_422(ingest: httpx.Client, payload: dict, field: str, message: str) -> None:
    r = ingest.post("/v1/articles", json=payload)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["details"][0]["field"] == field and message in error["message"]
