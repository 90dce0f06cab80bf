"""Every 4xx refusal of an article counts in ``tidings_articles_rejected_total``, by the error's code: invalid
fields, a missing key, an oversized body (refused by middleware before any route), and the refused items of
a batch that is otherwise accepted."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

ARTICLE = {"title": "Council approves budget", "body": "The city council approved the budget on Monday."}


def _rejected(client: httpx.Client) -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(client.get("/metrics/").text):
        for s in family.samples:
            if s.name == "tidings_articles_rejected_total":
                counts[s.labels["reason"]] = s.value
    return counts


def _code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_each_refused_article_is_counted_by_its_reason(ingest: httpx.Client, platform: dict[str, str]) -> None:
    before = _rejected(ingest)
    invalid = ingest.post("/v1/articles", json={"title": "no body"})
    assert invalid.status_code == 422
    with httpx.Client(base_url=platform["ingest"], timeout=30) as anonymous:
        unauthorized = anonymous.post("/v1/articles", json=ARTICLE)
    assert unauthorized.status_code == 401
    too_large = ingest.post("/v1/articles", json={**ARTICLE, "body": "x" * 3_000_000})
    assert too_large.status_code == 413
    batch = ingest.post("/v1/articles/batch", json={"articles": [ARTICLE, {"title": "no body either"}]})
    assert batch.status_code == 202
    item_code = batch.json()["rejected"][0]["error"]["code"]
    # Not a refusal: reading a status that does not exist is no article refused.
    assert ingest.get("/v1/articles/00000000-0000-0000-0000-000000000000/status").status_code == 404

    after = _rejected(ingest)
    expected: dict[str, float] = {}
    for code in (_code(invalid), _code(unauthorized), _code(too_large), item_code):
        expected[code] = expected.get(code, 0) + 1
    assert {reason: after.get(reason, 0) - before.get(reason, 0) for reason in expected} == expected
    assert sum(after.values()) - sum(before.values()) == sum(expected.values())
