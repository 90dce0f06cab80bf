"""Test data factories: ingestion rows as the ingest service would write them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, insert

from shared.db.models import Ingestion
from shared.ids import uuid7


def article_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Rebels and army clash near Aleppo",
        "body": "Fighting broke out on Tuesday near the northern city of Aleppo, activists said.\n\n"
        "Government forces were backed by allied militias, according to observers.",
        "source": "",
        "authors": [],
        "metadata": {},
    }
    payload.update(overrides)
    return payload


def insert_ingestions(engine: Engine, payloads: list[dict[str, Any]], **columns: Any) -> list[uuid.UUID]:
    """Write accepted ingestion rows directly, without queueing any work."""
    ids = [uuid7() for _ in payloads]
    rows = [
        {
            "id": i,
            "source": p.get("source", ""),
            "external_id": p.get("external_id"),
            "payload": p,
            **columns,
        }
        for i, p in zip(ids, payloads, strict=True)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Ingestion), rows)
    return ids
