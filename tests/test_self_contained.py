"""The tests and the documented commands work from a clone of the repository alone: nothing under ``tests/``
refers to the research corpora kept beside the repository, and no command in the README or ``docs/`` reads
them. (Benchmarks may read them; they say so and stop when the data is absent.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import EXAMPLES, FIXTURES, ROOT

# Built at run time, so that this file does not contain what it looks for.
SIBLING = "/".join(["..", "shared"])
REFERENCES = [
    re.compile(re.escape(SIBLING).encode()),
    re.compile(b'"' + b"shared" + rb'"\s*/\s*"data"'),
    re.compile(rb"parent\s*/\s*" + b'"' + b"shared" + b'"'),
]


def code_blocks(markdown: str) -> list[str]:
    """The fenced code blocks of a Markdown text, whatever their language."""
    blocks, current = [], None
    for line in markdown.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_no_file_under_tests_refers_to_the_research_data() -> None:
    files = _files(ROOT / "tests")
    assert len(files) > 50 and Path(__file__) in files
    offending = [str(p.relative_to(ROOT)) for p in files if any(r.search(p.read_bytes()) for r in REFERENCES)]
    assert offending == []


@pytest.mark.parametrize("doc", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))])
def test_documented_commands_use_only_what_the_repository_holds(doc: str) -> None:
    blocks = code_blocks((ROOT / doc).read_text(encoding="utf-8"))
    assert not [b for b in blocks if SIBLING in b]
    for name in re.findall(r"\bexamples/[\w./-]+", "\n".join(blocks)):
        assert (ROOT / name.rstrip(".")).exists(), f"{doc} uses {name}, which is not in the repository"


def test_the_fixtures_and_examples_say_they_are_written_for_the_project() -> None:
    for folder in (FIXTURES, EXAMPLES):
        readme = (folder / "README.md").read_text(encoding="utf-8")
        assert "written for the project" in readme and "licence" in readme


def test_the_invalid_utf8_fixture_is_what_it_says() -> None:
    raw = (FIXTURES / "invalid-utf8.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("latin-1").startswith("Café")
