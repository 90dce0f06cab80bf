"""``/v1/export``: a search's results streamed as CSV and JSON Lines, all of them, in the search's order."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from tests.services.query.corpus import Corpus

pytestmark = pytest.mark.e2e


def test_jsonl_export_streams_every_match_in_order(qc: httpx.Client, corpus: Corpus) -> None:
    with qc.stream("GET", "/v1/export", params={"format": "jsonl", "include_duplicates": "true"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/jsonl")
        assert r.headers["content-disposition"].startswith('attachment; filename="tidings-export-')
        lines = [json.loads(line) for line in r.iter_lines() if line]
    expected = sorted(corpus.docs, key=lambda d: (d.published_at, d.id), reverse=True)
    assert [item["id"] for item in lines] == [str(d.id) for d in expected]
    seed = next(item for item in lines if item["id"] == str(corpus.by_key("seed").id))
    assert {t["value"] for t in seed["tags"]["place"]} >= {"Khartoum", "Omdurman"}


def test_csv_export_with_filters_sort_and_limit(qc: httpx.Client, corpus: Corpus) -> None:
    r = qc.get("/v1/export", params={"format": "csv", "topic": "11000000", "sort": "published"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    politics = sorted((d for d in corpus.canonical() if d.has("topic", "11000000")), key=lambda d: d.published_at)
    assert [row["id"] for row in rows] == [str(d.id) for d in politics]
    by_id = {row["id"]: row for row in rows}
    doc = politics[0]
    assert by_id[str(doc.id)]["topics"] == "11000000"
    assert set(filter(None, by_id[str(doc.id)]["people"].split("; "))) == doc.tag_values("person")

    limited = qc.get("/v1/export", params={"format": "csv", "limit": 3}).text.strip().splitlines()
    assert len(limited) == 1 + 3

    bad = qc.get("/v1/export", params={"format": "xml"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "format"
