"""Header values a client controls, at the edges of what the stores behind them accept."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("value", ["99999999999999999999-0", "0-18446744073709551616", "1-"])
def test_a_last_event_id_redis_cannot_read_is_a_400_naming_it(query: httpx.Client, value: str) -> None:
    r = query.get("/v1/stream", headers={"Last-Event-ID": value})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "Last-Event-ID"
