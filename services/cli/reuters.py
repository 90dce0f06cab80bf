"""Read the Reuters-21578 SGML files (``reut2-NNN.sgm``, latin-1) as article payloads.

Each ``<REUTERS>`` becomes one article with ``NEWID`` as ``external_id``. Stories (``TYPE`` normal) have a
``TITLE`` and a ``BODY`` whose paragraphs start with an indent; briefs have a title and a one-line text;
unprocessed items (tables of figures) have neither, so their first line is the title. Topics, places,
people, organisations and exchanges go to ``metadata``; the trailing "Reuter" sign-off becomes the credit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.text.normalise import clean_inline

_DOC = re.compile(r"<REUTERS(?P<attrs>[^>]*)>(?P<doc>.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SIGN_OFF = re.compile(r"\s*\b(?:reuter|reuters)\s*$", re.IGNORECASE)
_PARAGRAPH_START = re.compile(r"\n(?=[ \t]{2,}\S)")
_MONTHS = {
    m: i
    for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)
}
_LISTS = ("topics", "places", "people", "orgs", "exchanges")


def _tag(doc: str, name: str) -> str | None:
    match = re.search(rf"<{name}(?:\s[^>]*)?>(.*?)</{name}>", doc, re.S)
    return match.group(1) if match else None


def _text(raw: str | None) -> str:
    return _CONTROL.sub("", html.unescape(raw or ""))


def _date(raw: str | None) -> str | None:
    match = _DATE.search(raw or "")
    if not match:
        return None
    day, month, year, hour, minute, second = match.groups()
    try:
        value = datetime(int(year), _MONTHS[month.upper()], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except (KeyError, ValueError):
        return None
    return value.isoformat()


def _paragraphs(body: str) -> str:
    """Reuters wraps lines at ~70 characters and indents each new paragraph."""
    paras = (" ".join(p.split()) for p in _PARAGRAPH_START.split(body.strip()))
    return "\n\n".join(p for p in paras if p)


def _table(text: str) -> str:
    """Unprocessed items are tables: keep their lines, one per paragraph."""
    return "\n\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def count_documents(path: Path) -> int:
    return path.read_text(encoding="latin-1").count("<REUTERS ")


def read_reuters(path: Path, *, source: str = "reuters") -> Iterator[dict[str, Any]]:
    """Every document of one SGML file as an article payload, in file order."""
    for match in _DOC.finditer(path.read_text(encoding="latin-1")):
        attrs = dict(_ATTR.findall(match.group("attrs")))
        doc = match.group("doc")
        text_match = re.search(r"<TEXT(?P<attrs>[^>]*)>(?P<text>.*?)</TEXT>", doc, re.S)
        kind = dict(_ATTR.findall(text_match.group("attrs"))).get("TYPE", "NORM") if text_match else "NORM"
        inner = text_match.group("text") if text_match else ""
        title = clean_inline(_text(_tag(inner, "TITLE")))
        dateline = clean_inline(_text(_tag(inner, "DATELINE"))).rstrip(" -")
        if kind == "UNPROC" or not title:
            lines = [line for line in _text(inner).splitlines() if line.strip()]
            title = clean_inline(lines[0]) if lines else f"Reuters {attrs.get('NEWID', '')}"
            body = _table("\n".join(lines[1:]))
        elif _tag(inner, "BODY") is not None:
            body = _paragraphs(_text(_tag(inner, "BODY")))
        else:  # a brief: whatever follows the title
            rest = re.sub(r"<TITLE>.*?</TITLE>|<DATELINE>.*?</DATELINE>", "", inner, flags=re.S)
            body = " ".join(_text(rest).replace("*", " ").split())
        credit = None
        if _SIGN_OFF.search(body):
            body, credit = _SIGN_OFF.sub("", body).rstrip(), "Reuters"
        metadata: dict[str, Any] = {
            name: [_text(d).strip() for d in re.findall(r"<D>(.*?)</D>", _tag(doc, name.upper()) or "", re.S)]
            for name in _LISTS
        }
        metadata = {k: v for k, v in metadata.items() if v}
        metadata.update({k.lower(): v for k, v in attrs.items() if k in ("OLDID", "LEWISSPLIT", "CGISPLIT")})
        metadata["type"] = kind.lower()
        if dateline:
            metadata["dateline"] = dateline
        article: dict[str, Any] = {
            "title": title[:1000],
            "body": body or title,
            "source": source,
            "external_id": attrs.get("NEWID") or f"{path.name}:{match.start()}",
            "language": "en",
            "metadata": metadata,
        }
        if published := _date(_tag(doc, "DATE")):
            article["published_at"] = published
        if credit:
            article["credit"] = credit
        yield article
