"""A tagger added the way docs/architecture.md's recipe says (tests/ticker_tagger.py, named in
``TIDINGS_TAGGING_PLUGINS`` for the whole test session) runs in the real worker, and its new kind is
searchable at once: in facets, in ``tag=kind:value`` and bare ``tag=value`` filters, and in ``/v1/tags``."""

from __future__ import annotations

import httpx
import pytest
from celery import Celery
from sqlalchemy import Engine, text

from shared.tasks import TaskName
from tests.support import wait_for

pytestmark = pytest.mark.e2e

RESULTS = {
    "title": "Acme lifts its forecast as orders for rail signals double",
    "body": "Acme Signal Corp (NYSE: ACME) raised its full-year forecast on Tuesday after orders for rail signalling "
    "equipment doubled in the second quarter, the company said. Its shares rose six percent in early trading. "
    "Rival Northway (NASDAQ: NWAY) reported flat orders.",
    "source": "markets-desk",
    "external_id": "acme-forecast",
}
OTHER = {
    "title": "City council approves a new tram line to the harbour",
    "body": "The council voted on Monday to build a tram line linking the station to the harbour district, with "
    "work to start next spring and the first trams to run within three years.",
    "source": "city-desk",
    "external_id": "tram-line",
}


def _processed(ingest: httpx.Client, article_id: str) -> bool:
    return ingest.get(f"/v1/articles/{article_id}/status").json()["status"] == "processed"


def _ids(query: httpx.Client, **params: str) -> set[str]:
    r = query.get("/v1/articles", params=params)
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def test_a_plugin_tagger_is_run_by_the_worker_and_searchable(
    ingest: httpx.Client, query: httpx.Client, db: Engine, producer: Celery
) -> None:
    acme = ingest.post("/v1/articles", json=RESULTS).json()["id"]
    other = ingest.post("/v1/articles", json=OTHER).json()["id"]
    wait_for(lambda: _processed(ingest, acme) and _processed(ingest, other), timeout=90, what="both articles")

    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.value, t.name, t.tagger, t.attrs, a.language FROM article_tags t "
                "JOIN articles a ON a.id = t.article_id WHERE t.kind = 'ticker' ORDER BY t.value"
            )
        ).all()
    assert [(r.value, r.name, r.tagger) for r in rows] == [
        ("NASDAQ:NWAY", "NWAY", "tickers"),
        ("NYSE:ACME", "ACME", "tickers"),
    ]
    # The tagger saw the language decided once and stored on the article, not one of its own.
    assert {r.attrs["language"] for r in rows} == {r.language for r in rows} == {"en"}

    assert _ids(query, tag="ticker:NYSE:ACME") == {acme}
    assert _ids(query, tag="NASDAQ:NWAY") == {acme}, "a bare tag= value finds the plug-in's kind too"
    assert _ids(query, tag="ticker:NYSE:NOPE") == set()

    facets = query.get("/v1/facets", params={"facet": ["ticker", "source"]})
    assert facets.status_code == 200, facets.text
    buckets = {b["value"]: (b["name"], b["count"]) for b in facets.json()["facets"]["ticker"]}
    assert buckets == {"NYSE:ACME": ("ACME", 1), "NASDAQ:NWAY": ("NWAY", 1)}
    docs = query.get("/openapi.json").json()
    facet_param = next(p for p in docs["paths"]["/v1/facets"]["get"]["parameters"] if p["name"] == "facet")
    assert "ticker" in facet_param["schema"]["anyOf"][0]["items"]["enum"]

    def counted() -> dict | None:
        producer.send_task(TaskName.REFRESH_TAG_STATS)
        r = query.get("/v1/tags", params={"kind": "ticker"})
        assert r.status_code == 200, r.text
        got = {t["value"]: t["count"] for t in r.json()["items"]}
        return got if got == {"NYSE:ACME": 1, "NASDAQ:NWAY": 1} else None

    wait_for(counted, timeout=60, interval=1.0, what="tag_stats to count the plug-in's tags")
