"""Text PostgreSQL cannot store (a NUL, an unpaired surrogate) in any named field is a 422 naming the field,
on every write endpoint, rather than the database's bare "not storable" with no details."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.e2e

RULE = {"name": "Harbour news", "tag": "harbour", "expression": 'harbour OR "sea wall"'}
UNSTORABLE = ["Harbour\x00news", "Harbour \ud800 news"]


def _raw_json(document: dict) -> bytes:
    """JSON with the string escaped as a client would send it: ``\\u0000`` and ``\\ud800`` escapes."""
    return json.dumps(document).encode()


def _refused(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert details and details[0]["field"] == field, r.text


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_unstorable_text_is_refused_naming_the_field(ingest: httpx.Client, query: httpx.Client, bad: str) -> None:
    headers = {"Content-Type": "application/json"}
    for field in ("name", "tag", "expression"):
        _refused(ingest.post("/v1/rules", content=_raw_json({**RULE, field: bad}), headers=headers), field)
    _refused(
        ingest.post("/v1/sources", content=_raw_json({"name": "harbourdesk", "description": bad}), headers=headers),
        "description",
    )
    assert ingest.post("/v1/sources", json={"name": "harbourdesk"}).status_code == 201
    _refused(
        ingest.patch("/v1/sources/harbourdesk", content=_raw_json({"description": bad}), headers=headers), "description"
    )
    _refused(
        ingest.post(
            "/v1/feeds",
            content=_raw_json({"url": "https://news.example.com/harbour.rss", "title": bad}),
            headers=headers,
        ),
        "title",
    )
    _refused(
        ingest.post("/v1/feeds", content=_raw_json({"url": f"https://news.example.com/{bad}"}), headers=headers), "url"
    )
    _refused(query.post("/v1/saved-searches", content=_raw_json({"name": bad}), headers=headers), "name")
    created = query.post("/v1/saved-searches", json={"name": "harbour"})
    assert created.status_code == 201, created.text
    _refused(
        query.patch(f"/v1/saved-searches/{created.json()['id']}", content=_raw_json({"name": bad}), headers=headers),
        "name",
    )
    with_rule = ingest.post("/v1/rules", json=RULE)
    assert with_rule.status_code == 201, with_rule.text
    _refused(
        ingest.put(f"/v1/rules/{with_rule.json()['id']}", content=_raw_json({**RULE, "name": bad}), headers=headers),
        "name",
    )
