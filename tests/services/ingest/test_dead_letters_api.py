"""Dead letters over HTTP with the real worker: a poison article is parked, listed, replayed; a flaky one heals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import Engine, text

from devtools.processes import Platform, beat_argv
from tests.conftest import LOG_DIR
from tests.support import ROOT, wait_for

if TYPE_CHECKING:
    from tests.conftest import TestInfra


@pytest.fixture(scope="module", autouse=True)
def beat(test_infra: TestInfra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Beat runs the sweeper, which re-enqueues failed articles once their backoff is over."""
    schedule = tmp_path_factory.mktemp("beat") / "schedule"
    plat = Platform()
    plat.start("beat", beat_argv(schedule), test_infra.env, ROOT, log=LOG_DIR / "beat-dead-letters.log")
    try:
        yield
    finally:
        plat.stop()


def _article(n: int, fault: str | None = None) -> dict:
    metadata = {"tidings_fault": fault} if fault else {}
    return {
        "title": f"Harbour reopens after storm {n}",
        "body": f"The harbour reopened on day {n} after the storm, the port authority said.",
        "source": "dl-test",
        "external_id": f"dl-{n}",
        "metadata": metadata,
    }


def _parked(ingest: httpx.Client, count: int) -> list[dict] | None:
    items = ingest.get("/v1/dead-letters").json()["items"]
    return items if len(items) == count else None


def _status(ingest: httpx.Client, article_id: str) -> dict:
    return ingest.get(f"/v1/articles/{article_id}/status").json()


def test_poison_is_parked_listed_and_replayed_while_the_rest_flows(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post(
        "/v1/articles/batch",
        json={"articles": [_article(1), _article(2, "poison"), _article(3, "flaky"), _article(4)]},
    )
    assert r.status_code == 202, r.text
    good, poison, flaky, other = (a["id"] for a in r.json()["accepted"])

    [letter] = wait_for(lambda: _parked(ingest, 1), timeout=60, what="the poison article to be parked")
    assert letter["ingestion_id"] == poison and letter["status"] == "parked"
    assert letter["stage"] == "fault_injection" and letter["error_type"] == "InjectedFault"
    assert "Traceback" in letter["stack"] and letter["attempts"] == 6
    assert letter["source"] == "dl-test" and letter["external_id"] == "dl-2"
    assert letter["status_url"] == f"/v1/articles/{poison}/status"
    assert _status(ingest, poison)["status"] == "failed"
    assert _status(ingest, poison)["error"].startswith("fault_injection: InjectedFault")

    # The rest of the batch went through; the flaky article after one retry.
    wait_for(lambda: _status(ingest, flaky)["status"] == "processed", timeout=30, what="the flaky article")
    for article_id in (good, other):
        assert _status(ingest, article_id)["status"] == "processed"
    assert _status(ingest, flaky)["attempts"] == 2
    assert ingest.get(f"/v1/dead-letters/{letter['id']}").json() == letter

    # Replayed as it is, it fails again and is parked again.
    replay = ingest.post(f"/v1/dead-letters/{letter['id']}/replay")
    assert replay.status_code == 202, replay.text
    assert replay.json() == {
        "id": letter["id"],
        "ingestion_id": poison,
        "status": "replaying",
        "status_url": letter["status_url"],
    }
    assert ingest.post(f"/v1/dead-letters/{letter['id']}/replay").status_code == 409
    again = wait_for(
        lambda: ingest.get(f"/v1/dead-letters/{letter['id']}").json()["times_parked"] == 2 or None,
        timeout=60,
        what="the replayed poison article to be parked again",
    )
    assert again

    # Once the cause is fixed (here: the fault removed from the stored payload), a replay processes it.
    with db.begin() as conn:
        conn.execute(
            text("UPDATE ingestions SET payload = payload - 'metadata' WHERE id = :id"),
            {"id": poison},
        )
    assert ingest.post(f"/v1/dead-letters/{letter['id']}/replay").status_code == 202
    wait_for(lambda: _status(ingest, poison)["status"] == "processed", timeout=30, what="the replayed article")
    assert ingest.get(f"/v1/dead-letters/{letter['id']}").json()["status"] == "resolved"
    assert ingest.get("/v1/dead-letters").json()["items"] == []
    assert [d["id"] for d in ingest.get("/v1/dead-letters", params={"status": "resolved"}).json()["items"]] == [
        letter["id"]
    ]
    assert ingest.post(f"/v1/dead-letters/{letter['id']}/replay").status_code == 409
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM articles")) == 4
        assert conn.scalar(text("SELECT count(*) FROM dead_letters")) == 1


def test_dead_letter_listing_pages_and_refuses_bad_parameters(ingest: httpx.Client, db: Engine) -> None:
    r = ingest.post("/v1/articles/batch", json={"articles": [_article(n, "poison") for n in range(3)]})
    assert r.status_code == 202
    wait_for(lambda: _parked(ingest, 3), timeout=90, what="three parked articles")
    first = ingest.get("/v1/dead-letters", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = ingest.get("/v1/dead-letters", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    assert (
        len(ingest.get("/v1/dead-letters", params={"stage": "fault_injection", "source": "dl-test"}).json()["items"])
        == 3
    )
    assert ingest.get("/v1/dead-letters", params={"stage": "normalise"}).json()["items"] == []

    for params in ({"cursor": "nope"}, {"limit": 0}, {"limit": 201}, {"status": "lost"}):
        bad = ingest.get("/v1/dead-letters", params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"]["details"]
    missing = "00000000-0000-7000-8000-000000000000"
    assert ingest.get(f"/v1/dead-letters/{missing}").status_code == 404
    assert ingest.post(f"/v1/dead-letters/{missing}/replay").status_code == 404
