"""What ``tidings ingest`` can read: each input becomes a *unit* whose records (an article payload or the
reason it cannot be one) come in a fixed order, so a run can resume at a record count.

- ``*.jsonl`` / ``*.ndjson``: one article object per line;
- a directory: its ``*.txt`` files (recursively) in the plain newsroom format, the path as ``external_id``;
- ``*.sgm``: Reuters-21578 SGML;
- ``*.xml`` / ``*.rss`` / ``*.atom``: an RSS or Atom feed, a NewsML-G2 document or NITF.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.cli.reuters import count_documents, read_reuters
from shared.channels.errors import ChannelError
from shared.channels.payloads import xml_items
from shared.text.plaintext import PlainTextError, parse_plain_article

JSONL = (".jsonl", ".ndjson")
XML = (".xml", ".rss", ".atom")
SGML = (".sgm",)


@dataclass(frozen=True)
class Record:
    key: str  # where it came from, for messages: "reut2-000.sgm#1", "bbc/tech/001.txt", "a.jsonl:12"
    article: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class Unit:
    path: Path
    kind: str  # jsonl, folder, reuters, xml
    source: str | None  # --source, applied where the article names none

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.path}"

    def fingerprint(self) -> list[float]:
        """Size and modification time, to notice that an input changed between a run and its resumption."""
        files = _text_files(self.path) if self.kind == "folder" else [self.path]
        return [float(sum(f.stat().st_size for f in files)), max((f.stat().st_mtime for f in files), default=0.0)]

    def count(self) -> int:
        if self.kind == "jsonl":
            with self.path.open("rb") as f:
                return sum(1 for line in f if line.strip())
        if self.kind == "folder":
            return len(_text_files(self.path))
        if self.kind == "reuters":
            return count_documents(self.path)
        return sum(1 for _ in self.records())

    def records(self, skip: int = 0) -> Iterator[Record]:
        """The unit's records from number ``skip`` on."""
        reader = {"jsonl": _jsonl, "folder": _folder, "reuters": _reuters, "xml": _xml}[self.kind]
        for n, record in enumerate(reader(self)):
            if n >= skip:
                yield record


def units(paths: list[Path], *, source: str | None) -> list[Unit]:
    """The units for the command line's paths; :class:`ValueError` for what cannot be read."""
    out = []
    for path in paths:
        if path.is_dir():
            out.append(Unit(path=path.resolve(), kind="folder", source=source))
        elif not path.is_file():
            raise ValueError(f"{path}: no such file or directory")
        elif path.suffix.lower() in JSONL:
            out.append(Unit(path=path.resolve(), kind="jsonl", source=source))
        elif path.suffix.lower() in SGML:
            out.append(Unit(path=path.resolve(), kind="reuters", source=source))
        elif path.suffix.lower() in XML:
            out.append(Unit(path=path.resolve(), kind="xml", source=source))
        else:
            raise ValueError(
                f"{path}: unknown kind of input; expected .jsonl/.ndjson, a folder of .txt files, .sgm (Reuters) "
                "or .xml/.rss/.atom"
            )
    return out


def _with_source(article: dict[str, Any], source: str | None) -> dict[str, Any]:
    if source and not article.get("source"):
        return {**article, "source": source}
    return article


def _jsonl(unit: Unit) -> Iterator[Record]:
    with unit.path.open("rb") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            key = f"{unit.path.name}:{lineno}"
            try:
                value = json.loads(line)
            except (UnicodeDecodeError, ValueError) as exc:
                yield Record(key, error=f"line is not JSON: {exc}")
                continue
            if not isinstance(value, dict):
                yield Record(key, error="line is not a JSON object")
                continue
            yield Record(key, article=_with_source(value, unit.source))


def _text_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.txt") if p.is_file())


def _folder(unit: Unit) -> Iterator[Record]:
    source = unit.source or unit.path.name
    for path in _text_files(unit.path):
        relative = path.relative_to(unit.path).as_posix()
        key = f"{unit.path.name}/{relative}"
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Record(key, error=f"not valid UTF-8 (byte {exc.start})")
            continue
        try:
            plain = parse_plain_article(text)
        except PlainTextError as exc:
            yield Record(key, error=f"{exc.field}: {exc}")
            continue
        article = {
            "title": plain.title,
            "body": plain.body,
            "summary": plain.summary,
            "caption": plain.caption,
            "credit": plain.credit,
            "source": source,
            "external_id": relative,
            "section": path.parent.relative_to(unit.path).parts[0] if path.parent != unit.path else None,
        }
        yield Record(key, article={k: v for k, v in article.items() if v is not None})


def _reuters(unit: Unit) -> Iterator[Record]:
    for article in read_reuters(unit.path, source=unit.source or "reuters"):
        yield Record(f"{unit.path.name}#{article['external_id']}", article=article)


def _xml(unit: Unit) -> Iterator[Record]:
    source = unit.source or unit.path.stem
    try:
        delivery = xml_items(unit.path.read_bytes(), source=source)
    except ChannelError as exc:
        yield Record(unit.path.name, error=exc.message)
        return
    for item in delivery.items:
        key = f"{unit.path.name}#{item.index}"
        if item.data is None:
            yield Record(key, error=item.error or "unreadable item")
        else:
            yield Record(key, article=item.data)
