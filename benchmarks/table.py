"""One table of every benchmark's headline figures: the last step of ``make bench``.

Each benchmark writes ``benchmarks/results/<name>.json`` with a top-level ``"summary"``: a list of rows
``{measure, value, unit, target, met, split, limited_by}`` (:func:`row` makes one). This module reads every
results file, prints one Markdown table (readable in a terminal too) and writes it to
``benchmarks/results/summary.md`` for the README. A file without a usable summary still gets a line, marked
"no summary", so a benchmark that has not adopted the format is visible rather than silently left out.

``make bench`` also records each benchmark's wall time here (``--record``) into ``make-bench.json``, whose
summary holds them against their budgets: together they keep ``make bench`` under 15 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SUMMARY_FILE = "summary.md"
HEADER = ("benchmark", "measure", "value", "target", "met", "split", "limited by")
TIMES_FILE = "make-bench.json"
# Wall-time budget of each `make bench` target, seconds (the 1M-article query corpus cached): 15 minutes in all.
BUDGETS_S = {
    "bench-dedup": 110,
    "bench-events": 150,
    "bench-tagging": 260,
    "bench-query": 150,
    "bench-readers": 15,
    "bench-capacity": 120,
    "bench-ingest": 90,
}
TOTAL_BUDGET_S = 900
# The results files each target writes, for naming where an over-budget target's time went.
TARGET_RESULTS = {
    "bench-dedup": ("dedup",),
    "bench-events": ("reuse", "events"),
    "bench-tagging": ("tagging",),
    "bench-query": ("query",),
    "bench-readers": ("readers",),
    "bench-capacity": ("capacity",),
    "bench-ingest": ("ingest",),
}
_SECTION_KEYS = ("seconds_by_section", "seconds_by_phase", "phases_s")


def row(
    measure: str,
    value: float | int | str,
    unit: str,
    *,
    target: str | None = None,
    met: bool | None = None,
    split: str | None = None,
    limited_by: str | None = None,
) -> dict[str, Any]:
    """One summary row; ``met`` is None when the figure has no target, ``limited_by`` names what limits a miss."""
    return {
        "measure": measure,
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
        "split": split,
        "limited_by": limited_by,
    }


def rows_of(path: Path) -> list[dict[str, Any]]:
    """The summary rows of one results file, each with its benchmark's name; one "no summary" row when the
    file has none (or is not readable JSON)."""
    name = path.stem
    try:
        summary = json.loads(path.read_text()).get("summary")
    except (OSError, ValueError, AttributeError):
        summary = None
    rows = [r for r in summary if isinstance(r, dict) and "measure" in r] if isinstance(summary, list) else []
    if not rows:
        return [{"benchmark": name, "measure": "no summary", "value": "", "unit": ""}]
    return [{"benchmark": name, **r} for r in rows]


def collect(results: Path) -> list[dict[str, Any]]:
    return [r for path in sorted(results.glob("*.json")) for r in rows_of(path)]


def _value(r: dict[str, Any]) -> str:
    value, unit = r.get("value", ""), r.get("unit") or ""
    if isinstance(value, float):
        value = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:,}"
    return f"{value} {unit}".strip()


def _met(met: Any) -> str:
    return {True: "yes", False: "**no**"}.get(met, "")


def _cell(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict[str, Any]]) -> str:
    """The rows as one Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = (
            r["benchmark"],
            r.get("measure"),
            _value(r),
            r.get("target"),
            _met(r.get("met")),
            r.get("split"),
            r.get("limited_by"),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def tally(rows: list[dict[str, Any]]) -> str:
    met = sum(r.get("met") is True for r in rows)
    missed = sum(r.get("met") is False for r in rows)
    bare = sum(r.get("measure") == "no summary" for r in rows)
    return f"{met} targets met, {missed} missed, {bare} results without a summary"


def time_parts(results: Path, target: str, largest: int = 3) -> str | None:
    """Where a target's time went, from the sections its results files time (largest first), or the whole
    run of a file that times no sections: e.g. ``"tagging: entities 96 s, speed 86 s, reuters 80 s"``."""
    parts = []
    for name in TARGET_RESULTS.get(target, ()):
        try:
            result = json.loads((results / f"{name}.json").read_text())
        except (OSError, ValueError):
            continue
        sections = next((result[k] for k in _SECTION_KEYS if isinstance(result.get(k), dict)), None)
        if sections:
            timed = sorted(
                ((float(v), k) for k, v in sections.items() if k != "total" and isinstance(v, int | float)),
                reverse=True,
            )
            parts.append(f"{name}: " + ", ".join(f"{k} {v:.0f} s" for v, k in timed[:largest]))
        elif isinstance(result.get("seconds", result.get("run_s")), int | float):
            parts.append(f"{name} {float(result.get('seconds', result.get('run_s'))):.0f} s")
    return "; ".join(parts) or None


def time_rows(runs: dict[str, dict[str, Any]], results: Path = RESULTS) -> list[dict[str, Any]]:
    """Each recorded target's wall time against its budget (the budgets in force now), and their total."""
    rows = []
    for name, run in runs.items():
        budget = BUDGETS_S.get(name)
        failed = f"exit status {run['status']}" if run["status"] else None
        if not failed and budget and run["seconds"] > budget and "load_average_1min" in run:
            failed = f"over budget at load average {run['load_average_1min']} on {run['cores']} cores"
            if parts := time_parts(results, name):
                failed += f"; its time: {parts}"
        rows.append(
            row(
                f"{name} wall time",
                run["seconds"],
                "s",
                target=f"<= {budget} s" if budget else None,
                met=(run["seconds"] <= budget and not failed) if budget else None,
                limited_by=failed,
            )
        )
    if set(BUDGETS_S) <= set(runs):
        total = round(sum(runs[name]["seconds"] for name in BUDGETS_S), 1)
        rows.append(
            row("make bench wall time", total, "s", target=f"<= {TOTAL_BUDGET_S} s", met=total <= TOTAL_BUDGET_S)
        )
    return rows


def record(results: Path, target: str, seconds: float, status: int) -> dict[str, Any]:
    """Store one ``make bench`` target's wall time and exit status; rebuild the times' summary rows."""
    path = results / TIMES_FILE
    try:
        runs = json.loads(path.read_text()).get("runs", {})
    except (OSError, ValueError, AttributeError):
        runs = {}
    runs[target] = {
        "seconds": round(seconds, 1),
        "status": status,
        "at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M}Z",
        "load_average_1min": round(os.getloadavg()[0], 1),
        "cores": os.cpu_count(),
    }
    rows = time_rows(runs, results)
    report = {"budgets_s": BUDGETS_S, "runs": runs, "summary": rows}
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the benchmarks' JSON results")
    parser.add_argument(
        "--record", nargs=3, metavar=("TARGET", "SECONDS", "STATUS"), help="store a target's wall time, then stop"
    )
    args = parser.parse_args(argv)
    if args.record:
        target, seconds, status = args.record
        record(args.results, target, float(seconds), int(status))
        return 0
    times = args.results / TIMES_FILE
    if times.exists():
        runs = json.loads(times.read_text()).get("runs", {})
        times.write_text(
            json.dumps({"budgets_s": BUDGETS_S, "runs": runs, "summary": time_rows(runs, args.results)}, indent=2)
            + "\n"
        )
    rows = collect(args.results)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = render(rows)
    note = f"{tally(rows)}. Table made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average then {load}.\n"
    (args.results / SUMMARY_FILE).write_text(table + "\n" + note)
    print(table + "\n" + note, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
