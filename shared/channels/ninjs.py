"""IPTC ninjs (News in JSON, versions 1.x and 2.x) mapped to an article payload.

1.x carries ``headline``, ``body_text`` / ``body_html``, ``description_text`` and ``byline``; 2.x carries lists
of ``headlines``, ``bodies`` and ``descriptions`` with roles and content types, and ``by``. The ``uri`` is the
item's identity and becomes ``external_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.channels.common import MAX_FIELD_CHARS, MAX_TITLE_CHARS, clip, drop_empty, external_id, language_code
from shared.channels.errors import ChannelError
from shared.channels.htmltext import text_from_html
from shared.channels.wire import WITHDRAWN_BODY
from shared.revisions import version_number

_NINJS_KEYS = frozenset({"headline", "headlines", "body_text", "body_html", "body_xhtml", "bodies"})


def is_ninjs(data: Any) -> bool:
    """A JSON object that looks like ninjs rather than a Tidings article (``uri`` and ninjs text fields)."""
    return isinstance(data, dict) and "uri" in data and "title" not in data and bool(_NINJS_KEYS & data.keys())


def _pick(items: Any, preferred_roles: tuple[str, ...]) -> dict[str, Any] | None:
    entries = (
        [i for i in items if isinstance(i, dict) and isinstance(i.get("value"), str)] if isinstance(items, list) else []
    )
    for role in preferred_roles:
        for entry in entries:
            if entry.get("role") == role:
                return entry
    return entries[0] if entries else None


def _as_text(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    value = entry["value"]
    kind = str(entry.get("contenttype") or entry.get("role") or "")
    return text_from_html(value) if "html" in kind or "<" in value else value.strip()


def _body(data: dict[str, Any]) -> str:
    if isinstance(data.get("body_text"), str) and data["body_text"].strip():
        return data["body_text"].strip()
    for key in ("body_html", "body_xhtml"):
        if isinstance(data.get(key), str) and data[key].strip():
            return text_from_html(data[key])
    return _as_text(_pick(data.get("bodies"), ("main", "text", "html", "")))


def _date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _names(items: Any) -> list[str]:
    names = [clip(i.get("name"), 200) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return [n for n in names if n]


def ninjs_article(data: dict[str, Any], *, source: str) -> dict[str, Any]:
    """One ninjs item as an article payload; :class:`ChannelError` naming the missing field otherwise."""
    uri = data.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        raise ChannelError("a ninjs item needs a uri", field="uri")
    headline = data.get("headline") if isinstance(data.get("headline"), str) else None
    if headline is None:
        headline = _as_text(_pick(data.get("headlines"), ("main", "")))
    title = clip(headline, MAX_TITLE_CHARS)
    if not title:
        raise ChannelError("a ninjs item needs a headline", field="headline")
    withdrawn = str(data.get("pubstatus") or "").lower() in {"canceled", "cancelled", "withheld", "withdrawn"}
    body = _body(data) or (WITHDRAWN_BODY if withdrawn else "")
    if not body:
        raise ChannelError("a ninjs text item needs a body (body_text, body_html or bodies)", field="body_text")
    summary = data.get("description_text") if isinstance(data.get("description_text"), str) else None
    if summary is None and isinstance(data.get("description_html"), str):
        summary = text_from_html(data["description_html"])
    if summary is None:
        summary = _as_text(_pick(data.get("descriptions"), ("summary", "main", ""))) or None
    byline = data.get("by") or data.get("byline")
    authors = [clip(byline, 200)] if isinstance(byline, str) and clip(byline, 200) else []
    subjects = data.get("subjects") or data.get("subject")
    located = data.get("located")
    return drop_empty(
        {
            "title": title,
            "body": body,
            "summary": clip(summary, MAX_FIELD_CHARS),
            "source": source,
            "external_id": external_id(uri),
            "published_at": _date(data.get("firstcreated") or data.get("contentcreated") or data.get("versioncreated")),
            "language": language_code(data.get("language")),
            "authors": authors,
            "section": clip(data.get("slugline"), 200) if isinstance(data.get("slugline"), str) else None,
            "credit": clip(data.get("copyrightholder"), MAX_FIELD_CHARS)
            if isinstance(data.get("copyrightholder"), str)
            else None,
            "version": version_number(data.get("version")),
            "version_created": _date(data.get("versioncreated")),
            "withdrawn": withdrawn or None,
            "metadata": drop_empty(
                {
                    "format": "ninjs",
                    "uri": uri,
                    "version": str(data["version"]) if data.get("version") is not None else None,
                    "urgency": data.get("urgency") if isinstance(data.get("urgency"), int) else None,
                    "subjects": _names(subjects)[:50],
                    "located": located if isinstance(located, str) else None,
                }
            ),
        }
    )
