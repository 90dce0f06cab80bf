"""``tidings ingest PATH...``: load files into Tidings through the batch API.

Reads JSON Lines, folders of plain-text articles, RSS/Atom files, NewsML-G2/NITF files and the Reuters-21578
SGML files; sends them in batches (bounded by count and by bytes) with a progress bar; prints a summary of
accepted, duplicate and rejected articles with the reasons. Progress is kept in a small state file after
every batch, so an interrupted run resumes where it stopped when the same command is run again. A batch
whose answer was lost is sent again with the same ``Idempotency-Key`` and answered from the first time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from services.cli.readers import Record, Unit, units
from shared.client import TidingsClient, TidingsError, get_client_settings

STATE_VERSION = 1
DEFAULT_BATCH = 500
DEFAULT_BATCH_BYTES = 1_500_000  # under the ingest service's 2 MiB request limit, with room to spare


@dataclass
class Totals:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, list[Any]] = field(default_factory=dict)  # reason → [count, first record's key]

    def reject(self, key: str, reason: str) -> None:
        self.rejected += 1
        entry = self.reasons.setdefault(reason, [0, key])
        entry[0] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "reasons": self.reasons,
        }


class State:
    """The resumption record: per input how many records are done, and the running totals."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.totals = Totals(**data["totals"])

    @classmethod
    def open(cls, path: Path, inputs: list[str], *, restart: bool) -> State:
        if path.exists() and not restart:
            data = json.loads(path.read_text())
            if data.get("version") == STATE_VERSION and data.get("inputs") == inputs:
                return cls(path, data)
        fresh = {
            "version": STATE_VERSION,
            "run_id": uuid.uuid4().hex,
            "inputs": inputs,
            "units": {},
            "totals": Totals().as_dict(),
            "elapsed_s": 0.0,
        }
        return cls(path, fresh)

    @property
    def run_id(self) -> str:
        return str(self.data["run_id"])

    @property
    def resumed(self) -> bool:
        return bool(self.data["units"])

    def done(self, unit: Unit) -> int:
        entry = self.data["units"].get(unit.key)
        if entry is None or entry["fingerprint"] != unit.fingerprint():
            return 0  # never started, or the file changed since: start it over
        return int(entry["done"])

    def save(self, unit: Unit, done: int, elapsed_s: float) -> None:
        self.data["units"][unit.key] = {"done": done, "fingerprint": unit.fingerprint()}
        self.data["totals"] = self.totals.as_dict()
        self.data["elapsed_s"] = elapsed_s
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        os.replace(tmp, self.path)  # atomic: an interruption leaves the old state or the new one

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def default_state_path(inputs: list[str]) -> Path:
    digest = hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:12]
    return Path.cwd() / f".tidings-ingest-{digest}.json"


def batches(records: Iterator[Record], *, size: int, max_bytes: int) -> Iterator[list[Record]]:
    """Consecutive records grouped by count and by encoded size (local errors ride along, unsent)."""
    batch: list[Record] = []
    used = 0
    for record in records:
        cost = len(json.dumps(record.article, ensure_ascii=False).encode()) + 1 if record.article else 0
        if batch and (len(batch) >= size or used + cost > max_bytes):
            yield batch
            batch, used = [], 0
        batch.append(record)
        used += cost
    if batch:
        yield batch


def _reason(error: dict[str, Any]) -> str:
    details = error.get("details")
    if isinstance(details, list) and details:
        first = details[0]
        field_name = str(first.get("field", ""))
        parts = field_name.split(".")
        if len(parts) > 2 and parts[0] == "articles" and parts[1].isdigit():
            field_name = ".".join(parts[2:])
        return f"{field_name}: {first.get('message', '')}" if field_name else str(first.get("message", ""))
    return str(error.get("message", "rejected"))


def send_batch(client: TidingsClient, batch: list[Record], key: str, totals: Totals) -> None:
    """Send the batch's articles and count the outcome of each record."""
    sent = [r for r in batch if r.article is not None]
    for r in batch:
        if r.error is not None:
            totals.reject(r.key, r.error)
    totals.read += len(batch)
    if not sent:
        return
    try:
        result = client.ingest_many([r.article for r in sent if r.article is not None], idempotency_key=key)
    except TidingsError as exc:
        if exc.status == 422 and isinstance(exc.details, dict) and isinstance(exc.details.get("rejected"), list):
            for item in exc.details["rejected"]:
                totals.reject(sent[item["index"]].key, _reason(item["error"]))
            return
        raise
    for accepted in result.accepted:
        if accepted.duplicate:
            totals.duplicates += 1
        else:
            totals.accepted += 1
    for rejected in result.rejected:
        totals.reject(sent[rejected.index].key, _reason(rejected.error))


def batch_key(run_id: str, unit: Unit, start: int, count: int) -> str:
    """The same batch of the same run gets the same key, so a resend is answered from the first time."""
    return "tidings-cli:" + hashlib.sha256(f"{run_id}|{unit.key}|{start}|{count}".encode()).hexdigest()[:40]


def run_ingest(
    todo: list[Unit],
    client: TidingsClient,
    state: State,
    *,
    batch_size: int = DEFAULT_BATCH,
    max_bytes: int = DEFAULT_BATCH_BYTES,
    on_batch: Callable[[int], None] | None = None,
) -> Totals:
    """Send every unit from where the state says it stopped. ``on_batch(records)`` runs after each batch is
    sent and before the state is saved (the progress bar; an interruption there resends that batch)."""
    started = time.monotonic() - float(state.data.get("elapsed_s", 0.0))
    for unit in todo:
        done = state.done(unit)
        for batch in batches(unit.records(skip=done), size=batch_size, max_bytes=max_bytes):
            send_batch(client, batch, batch_key(state.run_id, unit, done, len(batch)), state.totals)
            done += len(batch)
            if on_batch is not None:
                on_batch(len(batch))
            state.save(unit, done, time.monotonic() - started)
    return state.totals


def _summary_table(totals: Totals, elapsed_s: float) -> Table:
    table = Table(title="tidings ingest", show_header=False, title_justify="left")
    rate = totals.read / elapsed_s if elapsed_s > 0 else 0.0
    table.add_row("read", f"{totals.read:,}")
    table.add_row("accepted (new)", f"{totals.accepted:,}")
    table.add_row("duplicates (seen before)", f"{totals.duplicates:,}")
    table.add_row("rejected", f"{totals.rejected:,}")
    table.add_row("time", f"{elapsed_s:,.1f} s ({rate:,.0f} documents/s)")
    return table


def _reasons_table(totals: Totals, limit: int = 15) -> Table:
    table = Table(title="rejected: reasons", title_justify="left")
    table.add_column("count", justify="right")
    table.add_column("reason")
    table.add_column("first seen in")
    ordered = sorted(totals.reasons.items(), key=lambda kv: -kv[1][0])
    for reason, (count, key) in ordered[:limit]:
        table.add_row(f"{count:,}", reason, key)
    if len(ordered) > limit:
        table.add_row("…", f"{len(ordered) - limit} more reasons", "")
    return table


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops like Ctrl-C: the state file already holds every finished batch."""
    raise KeyboardInterrupt


def command(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        todo = units([Path(p) for p in args.paths], source=args.source)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    inputs = [u.key for u in todo]
    state = State.open(Path(args.state) if args.state else default_state_path(inputs), inputs, restart=args.restart)
    if state.resumed:
        console.print(f"resuming from {state.path} ({state.totals.read:,} documents already sent)")
    remaining = sum(max(0, u.count() - state.done(u)) for u in todo)
    settings = get_client_settings()
    client = TidingsClient(args.ingest_url or settings.ingest_url, api_key=args.api_key, timeout_s=args.timeout)
    signal.signal(signal.SIGTERM, _interrupt)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console, disable=args.no_progress or args.json) as progress:
            task = progress.add_task("ingesting", total=remaining)
            totals = run_ingest(
                todo,
                client,
                state,
                batch_size=args.batch_size,
                max_bytes=args.max_batch_bytes,
                on_batch=lambda n: progress.advance(task, n),
            )
    except KeyboardInterrupt:
        console.print(
            f"\n[yellow]interrupted[/yellow] after {state.totals.read:,} documents; "
            f"run the same command again to resume (state in {state.path})"
        )
        return 130
    except TidingsError as exc:
        console.print(f"[red]error:[/red] {exc}\nprogress is saved in {state.path}; run the same command to resume")
        return 1
    finally:
        client.close()
    elapsed = float(state.data.get("elapsed_s", 0.0))
    state.discard()
    if args.json:
        print(json.dumps({**totals.as_dict(), "elapsed_s": round(elapsed, 2)}))
    else:
        out = Console()
        out.print(_summary_table(totals, elapsed))
        if totals.reasons:
            out.print(_reasons_table(totals))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ingest",
        help="load JSON Lines, folders of plain-text articles, RSS/Atom, NewsML-G2/NITF or Reuters SGML files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--source", help="the articles' source where they name none (default: per kind of input)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="articles per request (at most 1,000)")
    p.add_argument("--max-batch-bytes", type=int, default=DEFAULT_BATCH_BYTES, help="JSON bytes per request")
    p.add_argument("--state", help="the resumption file (default: .tidings-ingest-<hash>.json here)")
    p.add_argument("--restart", action="store_true", help="ignore a saved state and start from the beginning")
    p.add_argument("--ingest-url", help="the ingest service (default: TIDINGS_CLIENT_INGEST_URL or :8000)")
    p.add_argument("--api-key", help="an API key with the ingest scope (default: TIDINGS_API_KEY)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    p.add_argument("--json", action="store_true", help="print the summary as JSON, without a progress bar")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=command)
