"""``/v1/clusters`` and ``/v1/tags`` over a real corpus; the tag counts refreshed by the real worker."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from celery import Celery

from shared.tasks import TaskName
from tests.services.query.corpus import Corpus
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def test_largest_stories_of_a_window_with_their_canonical_article(qc: httpx.Client, corpus: Corpus) -> None:
    r = qc.get("/v1/clusters", params={"from": "2025-03-01", "to": "2025-04-01", "limit": 3})
    assert r.status_code == 200, r.text
    page = r.json()
    story = corpus.by_key("copy-exact").cluster_key
    assert story is not None
    first = page["items"][0]
    assert first["id"] == str(corpus.clusters[story]) and first["size"] == 4
    assert first["canonical"]["id"] == str(corpus.by_key(story).id)
    assert first["canonical"]["tags"]["topic"][0]["value"] == "11000000"
    sizes = [c["size"] for c in page["items"]]
    assert sizes == sorted(sizes, reverse=True)

    seen = [c["id"] for c in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        nxt = qc.get(
            "/v1/clusters", params={"from": "2025-03-01", "to": "2025-04-01", "limit": 10, "cursor": cursor}
        ).json()
        seen += [c["id"] for c in nxt["items"]]
        cursor = nxt["next_cursor"]
    assert sorted(seen) == sorted(str(c) for c in corpus.clusters.values())

    big = qc.get("/v1/clusters", params={"from": "2025-03-01", "to": "2025-04-01", "min_size": 2}).json()
    assert [c["id"] for c in big["items"]] == [str(corpus.clusters[story])]
    empty = qc.get("/v1/clusters", params={"from": "2024-01-01", "to": "2024-02-01"}).json()
    assert empty["items"] == []


def test_one_story_lists_its_members_with_the_similarity_that_decided(qc: httpx.Client, corpus: Corpus) -> None:
    story = corpus.by_key("copy-trimmed").cluster_key
    assert story is not None
    detail = qc.get(f"/v1/clusters/{corpus.clusters[story]}").json()
    members = detail["members"]
    assert members[0]["id"] == str(corpus.by_key(story).id) and members[0]["is_canonical"]
    assert [m["published_at"] for m in members[1:]] == sorted(m["published_at"] for m in members[1:])
    expected = {str(d.id): (d.method, d.similarity) for d in corpus.docs if d.cluster_key == story and d.method}
    assert {m["id"]: (m["method"], m["similarity"]) for m in members[1:]} == expected
    assert all(m["duplicate_of"] == members[0]["id"] for m in members[1:])
    assert detail["sources"] == len({d.source for d in corpus.docs if (d.cluster_key or d.key) == story})
    assert detail["size"] == 4 and detail["members_truncated"] is False
    truncated = qc.get(f"/v1/clusters/{corpus.clusters[story]}", params={"limit": 2}).json()
    assert len(truncated["members"]) == 2 and truncated["members_truncated"] is True
    missing = qc.get("/v1/clusters/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["details"][0]["field"] == "cluster_id"
    assert qc.get("/v1/clusters", params={"cursor": "garbage"}).status_code == 400


def test_tags_with_counts_by_kind_after_the_worker_refreshes_them(
    qc: httpx.Client, corpus: Corpus, producer: Celery
) -> None:
    places = Counter(v for d in corpus.docs for v in d.tag_values("place"))

    def refreshed() -> dict | None:
        producer.send_task(TaskName.REFRESH_TAG_STATS)
        body = qc.get("/v1/tags", params={"kind": "place", "limit": 1000}).json()
        got = {t["value"]: t["count"] for t in body["items"]}
        return body if got == dict(places) else None

    body = wait_for(refreshed, timeout=60, interval=1.0, what="tag_stats to be refreshed by the worker")
    counts = [t["count"] for t in body["items"]]
    assert counts == sorted(counts, reverse=True) and body["counted_at"]
    topics = qc.get("/v1/tags", params={"kind": "topic"}).json()["items"]
    politics = next(t for t in topics if t["value"] == "11000000")
    assert politics["name"] == "politics"
    assert politics["count"] == sum(d.has("topic", "11000000") for d in corpus.docs)
    prefixed = qc.get("/v1/tags", params={"kind": "person", "prefix": "hele"}).json()["items"]
    assert [t["value"] for t in prefixed] == ["Helen Marsh"]
    assert qc.get("/v1/tags", params={"kind": "colour"}).json()["error"]["details"][0]["field"] == "kind"
