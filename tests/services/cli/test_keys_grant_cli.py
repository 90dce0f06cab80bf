"""``tidings keys create --source`` and ``tidings keys grant``: the sources a key may write to, from the command
line, in force at once."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from tests.services.ingest.channel_support import make_source
from tests.support import run_cli

ARTICLE = {
    "title": "Tram line extension opens",
    "body": "The new tram stops opened to passengers on Saturday morning after two years of works.",
}


def test_a_key_created_with_sources_writes_to_them_and_grant_changes_that(
    platform: dict[str, str], db: Engine, ingest: httpx.Client
) -> None:
    make_source(ingest, "partner-x")
    created = run_cli("keys", "create", "--scope", "ingest", "--source", "metro-desk", "--name", "metro importer")
    assert created.returncode == 0, created.stderr
    assert "writes to metro-desk only" in created.stderr
    key = created.stdout.strip()
    key_id = re.search(r"created key ([0-9a-f-]{36})", created.stderr).group(1)  # type: ignore[union-attr]
    assert "sources: metro-desk" in run_cli("keys", "list").stdout

    with httpx.Client(base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {key}"}) as c:
        assert c.post("/v1/articles", json={**ARTICLE, "source": "metro-desk"}).status_code == 202
        assert c.post("/v1/articles", json={**ARTICLE, "source": "partner-x"}).status_code == 403

        assert run_cli("keys", "grant", key_id, "metro-desk", "partner-x").returncode == 0
        assert c.post("/v1/articles", json={**ARTICLE, "source": "partner-x"}).status_code == 202

        assert run_cli("keys", "grant", key_id, "--any").returncode == 0
        assert c.post("/v1/articles", json={**ARTICLE, "source": "sports-desk"}).status_code == 202
        assert c.post("/v1/articles", json={**ARTICLE, "source": "partner-x", "external_id": "2"}).status_code == 403

    assert run_cli("keys", "grant", key_id).returncode == 2  # neither sources nor --any
    assert run_cli("keys", "grant", "00000000-0000-7000-8000-000000000000", "x").returncode == 1
