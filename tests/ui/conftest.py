"""The web interface under test: a query service under uvicorn that knows where the ingest API is, the
articles of ``tests/fixtures/ui`` sent through the ingest API and processed by the real worker, and keys
with different scopes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.processes import Platform, beat_argv, uvicorn_argv
from tests import conftest as root
from tests.support import ROOT, empty_tables, free_port, wait_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ui"
ARTIFACTS = ROOT / "tests" / "artifacts"
PAGE_SIZE = 4
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def ui_url(
    platform: dict[str, str], test_infra: root.TestInfra, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A query service whose operations pages call the session's ingest service, and beat, whose sweeper
    retries failing articles until they are parked as dead letters."""
    port = free_port()
    # Four results a page, so the five stories of the fixtures take two pages.
    env = {**test_infra.env, "TIDINGS_UI_INGEST_URL": platform["ingest"], "TIDINGS_UI_PAGE_SIZE": str(PAGE_SIZE)}
    plat = Platform()
    try:
        plat.start(
            "query-ui",
            uvicorn_argv("services.query.main:app", "127.0.0.1", port),
            env,
            ROOT,
            url=f"http://127.0.0.1:{port}",
            log=root.LOG_DIR / "query-ui.log",
        )
        schedule = tmp_path_factory.mktemp("ui-beat") / "schedule"
        plat.start("beat", beat_argv(schedule), test_infra.env, ROOT, log=root.LOG_DIR / "beat-ui.log")
        plat.wait_healthy()
        yield f"http://127.0.0.1:{port}"
    finally:
        plat.stop()


@pytest.fixture(scope="session")
def admin_key() -> str:
    return root.SESSION_API_KEY


@pytest.fixture(scope="session")
def query_key(test_infra: root.TestInfra) -> str:
    return root.create_test_api_key(test_infra.database_url, scopes=("query",), name="ui reader")


@dataclass
class Corpus:
    """The fixture articles by their key in ``articles.json``, once processed, and the parked poison one."""

    ids: dict[str, uuid.UUID]
    dead_letter_id: uuid.UUID | None
    fixture: dict[str, Any]


def _payload(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k not in ("key", "hours_ago")}
    out["published_at"] = (now - timedelta(hours=item["hours_ago"])).isoformat()
    out["external_id"] = f"ui-{item['key']}"
    return out


def _send(ingest: httpx.Client, items: list[dict[str, Any]], now: datetime) -> list[uuid.UUID]:
    response = ingest.post("/v1/articles/batch", json={"articles": [_payload(i, now) for i in items]})
    assert response.status_code == 202, response.text
    body = response.json()
    assert not body["rejected"], body["rejected"]
    return [uuid.UUID(a["id"]) for a in body["accepted"]]


def _state(ingest: httpx.Client, article_id: uuid.UUID) -> str:
    return str(ingest.get(f"/v1/articles/{article_id}/status").json()["status"])


def load_corpus(ingest: httpx.Client, *, with_poison: bool) -> Corpus:
    fixture = json.loads((FIXTURES / "articles.json").read_text())
    now = datetime.now(UTC)
    # The original first, so it is the canonical member of its story whatever order the worker meets them in.
    ids = _send(ingest, fixture["articles"], now)
    wait_for(
        lambda: all(_state(ingest, i) == "processed" for i in ids), timeout=120, what="the fixture articles processed"
    )
    # A rule (its backfill re-tags the articles above) and a feed nothing answers at (its health: failing).
    rule = ingest.post("/v1/rules", json=fixture["rule"])
    assert rule.status_code == 201, rule.text
    backfill_url = f"/v1/rules/{rule.json()['id']}/backfill"
    wait_for(lambda: ingest.get(backfill_url).json()["state"] == "done", timeout=60, what="the rule's backfill done")
    feed = ingest.post("/v1/feeds", json=fixture["feed"])
    assert feed.status_code == 201, feed.text
    dead_letter_id = None
    if with_poison:
        (poison_id,) = _send(ingest, [fixture["poison"]], now)

        def parked() -> uuid.UUID | None:
            items = ingest.get("/v1/dead-letters", params={"status": "parked"}).json()["items"]
            return next((uuid.UUID(d["id"]) for d in items if d["ingestion_id"] == str(poison_id)), None)

        dead_letter_id = wait_for(parked, timeout=120, what="the poison article parked as a dead letter")
    return Corpus(
        ids={item["key"]: i for item, i in zip(fixture["articles"], ids, strict=True)},
        dead_letter_id=dead_letter_id,
        fixture=fixture,
    )


@pytest.fixture(scope="module")
def corpus(ui_url: str, platform: dict[str, str], engine: Any, admin_key: str) -> Corpus:
    """The fixture articles (and a parked poison article), loaded once for a module's tests, which only read
    them or replay the dead letter; the next test that asks for ``db`` empties the tables again."""
    empty_tables(engine)
    with httpx.Client(base_url=platform["ingest"], timeout=30, headers={"Authorization": f"Bearer {admin_key}"}) as c:
        return load_corpus(c, with_poison=True)


def sign_in(client: httpx.Client, key: str) -> httpx.Response:
    """Sign in through the form, as a browser would: fetch it (which sets the CSRF cookie), post it back."""
    form = client.get("/ui/sign-in")
    token = CSRF_INPUT.search(form.text)
    assert token, form.text
    return client.post("/ui/sign-in", data={"api_key": key, "csrf_token": token.group(1), "next": "/ui/search"})


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_INPUT.search(page.text)
    assert match, page.text
    return match.group(1)
