"""``make bench``'s table: every results file's summary in one table, files without one still listed, and
every benchmark target of the Makefile run by ``make bench`` (no benchmark silently left out of the table)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks import table
from tests.support import ROOT


def _write(folder: Path, name: str, content: object) -> None:
    (folder / f"{name}.json").write_text(content if isinstance(content, str) else json.dumps(content))


def test_the_table_shows_every_summary_row_and_files_without_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path,
        "dedup",
        {
            "detail": {"ignored": True},
            "summary": [
                table.row("speed-up vs baseline", 2.41, "x", target=">= 2x", met=True, split="corpus A"),
                table.row(
                    "recall | trimmed copies", 0.81, "", target=">= 0.95", met=False, split="corpus B",
                    limited_by="lead bands (40% of samples)",
                ),
                table.row("documents per second", 12345, "docs/s"),
            ],
        },
    )  # fmt: skip
    _write(tmp_path, "legacy", {"figures": [1, 2, 3]})
    _write(tmp_path, "broken", "{not json")

    assert table.main(["--results", str(tmp_path)]) == 0

    printed = capsys.readouterr().out
    assert (tmp_path / "summary.md").read_text() == printed
    lines = printed.splitlines()
    assert lines[0] == "| benchmark | measure | value | target | met | split | limited by |"
    assert "| dedup | speed-up vs baseline | 2.41 x | >= 2x | yes | corpus A |  |" in lines
    assert (
        "| dedup | recall \\| trimmed copies | 0.81 | >= 0.95 | **no** | corpus B | lead bands (40% of samples) |"
        in lines
    )
    assert "| dedup | documents per second | 12,345 docs/s |  |  |  |  |" in lines
    assert "| legacy | no summary |  |  |  |  |  |" in lines
    assert "| broken | no summary |  |  |  |  |  |" in lines
    assert "1 targets met, 1 missed, 2 results without a summary" in printed


def test_recorded_wall_times_are_held_against_their_budgets(tmp_path: Path) -> None:
    for target, budget in table.BUDGETS_S.items():
        table.record(tmp_path, target, budget - 1, 0)
    table.record(tmp_path, "bench-dedup", table.BUDGETS_S["bench-dedup"] + 5, 0)  # over its budget
    table.record(tmp_path, "bench-readers", 1, 2)  # quick, but failed
    latest = {t: b - 1 for t, b in table.BUDGETS_S.items()} | {
        "bench-dedup": table.BUDGETS_S["bench-dedup"] + 5,
        "bench-readers": 1,
    }

    rows = {r["measure"]: r for r in table.rows_of(tmp_path / table.TIMES_FILE)}
    assert rows["bench-dedup wall time"]["met"] is False
    assert rows["bench-readers wall time"]["met"] is False
    assert rows["bench-readers wall time"]["limited_by"] == "exit status 2"
    assert rows["bench-tagging wall time"]["met"] is True
    assert rows["make bench wall time"]["value"] == sum(latest.values())
    assert rows["make bench wall time"]["target"] == f"<= {table.TOTAL_BUDGET_S} s"


def test_an_over_budget_target_names_where_its_time_went(tmp_path: Path) -> None:
    sections = {"entities": 96.3, "topics": 11.5, "reuters": 79.7, "speed": 86.2}
    (tmp_path / "tagging.json").write_text(json.dumps({"summary": [], "seconds_by_section": sections}))
    (tmp_path / "reuse.json").write_text(json.dumps({"summary": [], "seconds": 87.4}))
    (tmp_path / "events.json").write_text(json.dumps({"summary": [], "phases_s": {"speed": 22.0, "total": 70}}))
    table.record(tmp_path, "bench-tagging", table.BUDGETS_S["bench-tagging"] + 25, 0)
    table.record(tmp_path, "bench-events", table.BUDGETS_S["bench-events"] + 7, 0)

    rows = {r["measure"]: r for r in table.rows_of(tmp_path / table.TIMES_FILE)}
    assert rows["bench-tagging wall time"]["limited_by"].endswith(
        "; its time: tagging: entities 96 s, speed 86 s, reuters 80 s"
    )
    assert rows["bench-events wall time"]["limited_by"].endswith("; its time: reuse 87 s; events: speed 22 s")


def _rules(makefile: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The Makefile's targets with their recipe lines, and its simple variables."""
    rules: dict[str, list[str]] = {}
    variables: dict[str, str] = {}
    current: list[str] | None = None
    for line in makefile.splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
            continue
        assignment = re.match(r"^([A-Z_]+)\s*:?=\s*(.*)$", line)
        rule = re.match(r"^([a-z][a-z-]*):", line)
        if assignment:
            variables[assignment.group(1)] = assignment.group(2)
            current = None
        elif rule:
            current = rules.setdefault(rule.group(1), [])
        elif not line.strip() or line.startswith("#"):
            current = None
    return rules, variables


def test_make_bench_runs_every_benchmark_target() -> None:
    rules, variables = _rules((ROOT / "Makefile").read_text())
    listed = variables["BENCHMARKS"].split()
    assert any("$(BENCHMARKS)" in line for line in rules["bench"])
    assert any("benchmarks.table" in line for line in rules["bench"])
    assert set(listed) >= set(table.BUDGETS_S) and set(table.BUDGETS_S) >= set(listed)
    run_by_bench = {line for target in listed for line in rules.get(target, [])}
    benchmark_targets = [t for t in rules if t.startswith("bench-") and t != "bench-table"]
    assert "bench-dedup" in benchmark_targets
    for target in benchmark_targets:
        commands = {line for line in rules[target] if "benchmarks." in line}
        assert commands, f"{target} runs no benchmark"
        assert target in listed or commands <= run_by_bench, f"make bench does not run {target}"
