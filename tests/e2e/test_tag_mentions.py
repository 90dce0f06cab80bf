"""End to end: an article's entity and place tags come back from the query service with their mentions, and
each mention is the text at its offsets in the field the service returns."""

from __future__ import annotations

import httpx
import pytest

from tests.support import wait_for

pytestmark = pytest.mark.e2e

ARTICLE = {
    "title": "Dutch airline KLM adds flights to Nairobi",
    "summary": "The carrier said demand from Kenya had doubled.",
    "body": "KLM will fly daily from Amsterdam to Nairobi from June, the airline said on Thursday. "
    "Its chief executive, Pieter van Dam, said Kenyan tourism had recovered faster than expected.",
    "source": "wire-desk",
    "external_id": "mentions-1",
    "language": "en",
}


def test_entity_and_place_tags_return_their_mentions(ingest: httpx.Client, query: httpx.Client) -> None:
    created = ingest.post("/v1/articles", json=ARTICLE)
    assert created.status_code == 202, created.text
    article_id = created.json()["id"]
    wait_for(
        lambda: ingest.get(f"/v1/articles/{article_id}/status").json()["status"] == "processed",
        timeout=90,
        what="the article to be processed",
    )
    detail = query.get(f"/v1/articles/{article_id}")
    assert detail.status_code == 200, detail.text
    article = detail.json()
    tags = article["tags"]

    def check(mentions: list[dict]) -> None:
        assert mentions
        for m in mentions:
            assert article[m["field"]][m["start"] : m["end"]] == m["text"]

    klm = next(t for t in tags["organisation"] if t["value"] == "KLM")
    check(klm["attrs"]["mentions"])
    assert {m["field"] for m in klm["attrs"]["mentions"]} == {"title", "body"}
    kenya = next(t for t in tags["place"] if t["value"] == "Kenya")
    check(kenya["attrs"]["mentions"])
    assert {m["text"] for m in kenya["attrs"]["mentions"]} == {"Kenya", "Kenyan"}
    person = next(t for t in tags["person"] if "Dam" in t["value"])
    check(person["attrs"]["mentions"])
    assert all("mentions" not in t["attrs"] for t in tags.get("keyword", []))

    listed = query.get("/v1/articles", params={"source": "wire-desk"})
    assert listed.status_code == 200, listed.text
    item = next(i for i in listed.json()["items"] if i["id"] == article_id)
    brief_kenya = next(t for t in item["tags"]["place"] if t["value"] == "Kenya")
    assert brief_kenya["mentions"] == kenya["attrs"]["mentions"]
    assert all(t.get("mentions") is None for t in item["tags"].get("keyword", []))
