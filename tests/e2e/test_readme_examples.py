"""The README's "Try it" commands, run as written (curl, from the repository's root) against the running
services, each checked against the answer the README documents under it (``# → status {json}``).

Only what a reader cannot copy is substituted: the ports, the API key, ``<id>`` (the first article's id) and
the ``Idempotency-Key`` placeholder. A documented JSON answer is compared as a pattern: its keys must be in
the answer with the same values, except strings holding "…", which stand for any value.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.support import ROOT, wait_for

pytestmark = pytest.mark.e2e


@dataclass
class Example:
    command: str
    status: int | None = None
    answer: Any = None  # the documented JSON, or the first line a stream sends
    stream: bool = False


def readme_examples() -> list[Example]:
    """The curl commands of the README's first shell block that calls the API, with their documented answers."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "curl" in b)
    lines = block.replace("\\\n", " ").splitlines()
    examples: list[Example] = []
    for line in lines:
        if line.startswith("curl "):
            examples.append(Example(command=re.sub(r"\s+#\s[^'\"]*$", "", line).strip()))
        elif line.startswith("# → ") and examples:
            documented = line.removeprefix("# → ")
            if examples[-1].command.startswith("curl -N"):  # a stream: the first line it sends
                examples[-1].answer, examples[-1].stream = documented, True
            else:
                status, _, body = documented.partition(" ")
                examples[-1].status, examples[-1].answer = int(status), json.loads(body)
    return examples


def matches(documented: Any, actual: Any) -> bool:
    if isinstance(documented, str) and "…" in documented:
        return True
    if isinstance(documented, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in documented.items())
    if isinstance(documented, list):
        return isinstance(actual, list) and len(actual) >= len(documented) and all(map(matches, documented, actual))
    return bool(documented == actual)


def test_the_readme_documents_answers_for_its_commands() -> None:
    examples = readme_examples()
    assert len(examples) >= 12
    assert all(e.status is not None or e.stream for e in examples), [e.command for e in examples if e.answer is None]
    assert all("examples/" in e.command for e in examples if "@" in e.command), "files sent come from examples/"


def test_the_readme_commands_answer_as_documented(
    platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]
) -> None:
    curl = shutil.which("curl")
    assert curl, "the README's examples use curl"
    env = {"PATH": "/usr/bin:/bin", "KEY": api_key_headers["Authorization"].removeprefix("Bearer "),
           "AUTH": f"Authorization: {api_key_headers['Authorization']}"}  # fmt: skip
    ports = {"localhost:8000": platform["ingest"], "localhost:8001": platform["query"]}
    first_id: str | None = None
    accepted: list[str] = []

    def run(example: Example) -> tuple[int, str]:
        command = example.command.replace("7d1c…", str(uuid.uuid4()))
        for documented, real in ports.items():
            command = command.replace(documented, real)
        if first_id:
            command = command.replace("<id>", first_id)
        if example.stream:
            command = command.replace("curl -N", "curl -N --max-time 3", 1)
        else:
            command = command.replace("curl -s", "curl -s -w '\\n%{http_code}'", 1)
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        if example.stream:
            assert done.returncode == 28, (command, done.returncode, done.stderr)  # 28: our --max-time ended it
            return 200, done.stdout
        assert done.returncode == 0, (command, done.stderr)
        body, _, code = done.stdout.rpartition("\n")
        return int(code), body

    examples = readme_examples()
    writes = [e for e in examples if "localhost:8000" in e.command and "<id>" not in e.command]
    for example in writes:
        status, body = run(example)
        assert status == example.status and matches(example.answer, json.loads(body)), (example.command, body)
        answer = json.loads(body)
        ids = [answer["id"]] if "id" in answer else [a["id"] for a in answer.get("accepted", [])]
        first_id = first_id or ids[0]
        accepted += ids

    def processed() -> bool:
        with httpx.Client(base_url=platform["ingest"], headers=api_key_headers, timeout=30) as ingest:
            return all(ingest.get(f"/v1/articles/{i}/status").json()["status"] == "processed" for i in set(accepted))

    wait_for(processed, timeout=90, interval=0.25, what="the README's articles to be processed")
    for example in (e for e in examples if e not in writes):
        status, body = run(example)
        if example.stream:
            assert example.answer in body.splitlines(), (example.command, body)
        else:
            assert status == example.status and matches(example.answer, json.loads(body)), (example.command, body)
