"""Helpers for the channel API tests: make a webhook source and send signed deliveries to it."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import Engine, text

from shared.channels.signing import webhook_headers


def count(db: Engine, table: str, where: str = "true") -> int:
    with db.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}")) or 0)


def make_source(ingest: httpx.Client, name: str = "partner", **extra: Any) -> str:
    """Create a source receiving webhooks; returns its secret."""
    r = ingest.post("/v1/sources", json={"name": name, "webhooks": True, **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


def deliver(
    ingest: httpx.Client,
    source: str,
    secret: str | list[str],
    payload: Any,
    *,
    content_type: str = "application/json",
    msg_id: str | None = None,
    timestamp: int | None = None,
    extra_headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a Standard Webhooks delivery signed with ``secret``."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = webhook_headers(secret, body, msg_id=msg_id, timestamp=timestamp)
    return ingest.post(
        f"/v1/webhooks/{source}",
        content=body,
        headers={"Content-Type": content_type, **headers, **(extra_headers or {})},
    )
