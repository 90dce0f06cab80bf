"""``tidings ingest`` and ``tidings search`` against the running services: batches, the summary, duplicates on
a second run, and resumption after an interruption without losing or doubling an article."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from services.cli.ingest import State, run_ingest
from services.cli.readers import units
from shared.client import TidingsClient
from tests.shared.channels.samples import RSS
from tests.support import fixture_path, wait_for


@pytest.fixture
def client(platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]) -> Iterator[TidingsClient]:
    with TidingsClient(platform["ingest"], platform["query"], headers=api_key_headers, backoff_s=0.05) as c:
        yield c


def write_jsonl(path: Path, n: int, *, bad_every: int = 0) -> Path:
    lines = []
    for i in range(n):
        article = {
            "title": f"Ferry timetable change {i}",
            "body": f"The ferry operator announced timetable change number {i} for the summer season.",
            "external_id": f"ferry-{i}",
        }
        if bad_every and i % bad_every == bad_every - 1:
            article["body"] = ""
        lines.append(json.dumps(article))
    path.write_text("\n".join(lines) + "\n")
    return path


def count(db: Engine, where: str = "true") -> int:
    with db.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM ingestions WHERE {where}")) or 0)


def test_a_run_reports_accepted_duplicates_and_rejections(tmp_path: Path, client: TidingsClient, db: Engine) -> None:
    jsonl = write_jsonl(tmp_path / "a.jsonl", 20, bad_every=10)
    feed = tmp_path / "world.rss"
    feed.write_bytes(RSS)
    todo = units([jsonl, feed], source="cli-test")
    first = run_ingest(todo, client, State.open(tmp_path / "s1.json", [], restart=True), batch_size=7)
    assert (first.read, first.accepted, first.duplicates, first.rejected) == (23, 20, 0, 3)
    assert first.reasons == {
        "body: must not be empty": [2, "a.jsonl:10"],
        "the entry has no text (no content and no summary)": [1, "world.rss#2"],
    }
    again = run_ingest(todo, client, State.open(tmp_path / "s2.json", [], restart=True), batch_size=7)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 20, 3)
    assert count(db) == 20
    assert count(db, "source = 'cli-test'") == 20  # --source names the feed's items too


def test_an_interrupted_run_resumes_without_losing_or_doubling(
    tmp_path: Path, client: TidingsClient, db: Engine
) -> None:
    # Items without a natural key: only the batch's idempotency key protects them from being stored twice.
    path = tmp_path / "nokey.jsonl"
    path.write_text(
        "\n".join(json.dumps({"title": f"Bulletin {i}", "body": f"Weather bulletin number {i}."}) for i in range(50))
    )
    todo = units([path], source="cli-test")
    state_path = tmp_path / "state.json"
    batches_seen = []

    def interrupt_on_the_third(n: int) -> None:
        batches_seen.append(n)
        if len(batches_seen) == 3:  # the third batch is sent, but its answer not yet recorded: Ctrl-C
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_ingest(
            todo, client, State.open(state_path, ["x"], restart=False), batch_size=10, on_batch=interrupt_on_the_third
        )
    saved = json.loads(state_path.read_text())
    assert saved["totals"]["read"] == 20 and count(db) == 30

    resumed = State.open(state_path, ["x"], restart=False)
    assert resumed.resumed and resumed.done(todo[0]) == 20
    totals = run_ingest(todo, client, resumed, batch_size=10)
    assert (totals.read, totals.accepted, totals.duplicates, totals.rejected) == (50, 50, 0, 0)
    assert count(db) == 50


def test_the_command_line(
    tmp_path: Path, platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]
) -> None:
    sample = fixture_path("wire/reuters-format.sgm")  # six documents in the Reuters-21578 format
    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "tunnel.txt").write_text("Harbour tunnel opens\n\nThe harbour tunnel opened on Monday after four years.\n")
    env = {
        **os.environ,
        "TIDINGS_CLIENT_INGEST_URL": platform["ingest"],
        "TIDINGS_CLIENT_QUERY_URL": platform["query"],
        "TIDINGS_API_KEY": api_key_headers["Authorization"].removeprefix("Bearer "),
    }
    tidings = [sys.executable, "-m", "services.cli.main"]
    done = subprocess.run(
        [*tidings, "ingest", str(sample), str(desk), "--json", "--batch-size", "10"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["accepted"], summary["duplicates"], summary["rejected"]) == (7, 7, 0, 0)
    assert not list(tmp_path.glob(".tidings-ingest-*.json")), "the state file is removed after a complete run"

    def processed() -> bool:
        return count(db, "state = 'processed'") == 7

    wait_for(processed, timeout=60, what="the loaded articles to be processed")
    found = subprocess.run(
        [*tidings, "search", "harbour tunnel"], env={**env, "COLUMNS": "200"}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert "Harbour tunnel opens" in found.stdout and "desk" in found.stdout
    coffee = subprocess.run(
        [*tidings, "search", "coffee", "--source", "reuters", "--json"], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert [hit["title"] for hit in json.loads(coffee.stdout)["items"]] == ["SANTOS COFFEE HARVEST REVIEW"]


def test_bad_paths_and_refused_keys(tmp_path: Path, platform: dict[str, str]) -> None:
    jsonl = write_jsonl(tmp_path / "a.jsonl", 2)
    tidings = [sys.executable, "-m", "services.cli.main", "ingest"]
    env = {**os.environ, "TIDINGS_CLIENT_INGEST_URL": platform["ingest"], "TIDINGS_API_KEY": "tdg_not_a_real_key"}
    missing = subprocess.run(
        [*tidings, str(tmp_path / "nope.jsonl")], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2 and "no such file" in missing.stderr
    refused = subprocess.run([*tidings, str(jsonl)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "401" in refused.stderr
    assert list(tmp_path.glob(".tidings-ingest-*.json")) == [], "nothing was sent, so nothing to resume"
