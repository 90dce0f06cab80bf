"""IPTC ninjs (News in JSON) mapped to an article payload: versions 1.x, 2.x and 3.0, and the Superdesk dialect.

1.x carries ``headline``, ``body_text`` / ``body_html``, ``description_text`` and ``byline``; 2.x carries lists
of ``headlines``, ``bodies`` and ``descriptions`` with roles and content types, and ``by``. 3.0 spells the same
properties in camelCase (``firstCreated``, ``versionCreated``, ``copyrightHolder``, ``altIds``, ``contentType``)
where 1.x and 2.x write them in lower case, so properties are looked up without regard to case. The ``uri`` is
the item's identity and becomes ``external_id``; Superdesk, which publishes ninjs before the item has a web
address, sends ``guid`` in its place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.channels.common import MAX_FIELD_CHARS, MAX_TITLE_CHARS, clip, drop_empty, external_id, language_code
from shared.channels.errors import ChannelError
from shared.channels.htmltext import decode_references, looks_like_html, text_from_html
from shared.channels.wire import WITHDRAWN_BODY
from shared.revisions import version_number

# Properties only ninjs has (a Tidings article has ``title`` and ``body`` instead), compared in lower case.
_NINJS_TEXT_KEYS = frozenset(
    {"headline", "headlines", "body_text", "body_html", "body_xhtml", "bodies", "description_text", "descriptions"}
)
_IDENTITY_KEYS = ("uri", "guid")
# Description roles that carry the item's summary: ninjs 2.x names them ``summary`` (or ``text``), NewsML-G2
# style qcodes prefix them (``drol:summary``). Other roles (``writer``, ``caption`` ...) are not a summary.
_SUMMARY_ROLES = ("summary", "text", "abstract", "teaser", "main")


def _lower_keys(data: dict[str, Any]) -> dict[str, Any]:
    """The object with lower-case keys; where two spellings of one property both appear, the first wins."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str):
            out.setdefault(key.lower(), value)
    return out


def is_ninjs(data: Any) -> bool:
    """A JSON object that is ninjs rather than a Tidings article: an identity (``uri``, or Superdesk's ``guid``)
    and ninjs text properties, and no Tidings ``body`` or ``html``. A ninjs ``title`` (the item's short name)
    does not make it a Tidings article."""
    if not isinstance(data, dict):
        return False
    keys = {k.lower() for k in data if isinstance(k, str)}
    if "body" in keys or "html" in keys:
        return False
    return bool(keys & set(_IDENTITY_KEYS)) and bool(keys & _NINJS_TEXT_KEYS)


def looks_like_ninjs(data: Any) -> bool:
    """An object with a ninjs identity and no Tidings text that :func:`is_ninjs` still does not take: told
    apart so the sender hears it was not read as ninjs, rather than a list of fields a Tidings article lacks."""
    if not isinstance(data, dict) or is_ninjs(data):
        return False
    keys = {k.lower() for k in data if isinstance(k, str)}
    return bool(keys & set(_IDENTITY_KEYS)) and not keys & {"body", "html"}


def _role(entry: dict[str, Any]) -> str:
    role = entry.get("role")
    return role.rsplit(":", 1)[-1].lower() if isinstance(role, str) else ""


def _entries(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    entries = [_lower_keys(i) for i in items if isinstance(i, dict)]
    return [e for e in entries if isinstance(e.get("value"), str)]


def _pick(items: Any, preferred_roles: tuple[str, ...], *, only_preferred: bool = False) -> dict[str, Any] | None:
    """The first entry with the most preferred role (an entry without a role counts as ``""``); with
    ``only_preferred``, None rather than an entry of some other role."""
    entries = _entries(items)
    for role in preferred_roles:
        for entry in entries:
            if _role(entry) == role:
                return entry
    if only_preferred:
        return None
    return entries[0] if entries else None


def _plain(value: str) -> str:
    """A property the spec makes plain text: read as HTML when a sender put tags in it anyway."""
    return text_from_html(value) if looks_like_html(value) else decode_references(value).strip()


def _as_text(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    value = entry["value"]
    kind = str(entry.get("contenttype") or entry.get("role") or "")
    return text_from_html(value) if "html" in kind else _plain(value)


def _string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _body(data: dict[str, Any]) -> str:
    if (text := _string(data, "body_text")) is not None:
        return _plain(text)
    for key in ("body_html", "body_xhtml"):
        if (html := _string(data, key)) is not None:
            return text_from_html(html)
    return _as_text(_pick(data.get("bodies"), ("main", "text", "html", "")))


def _summary(data: dict[str, Any]) -> str | None:
    if (text := _string(data, "description_text")) is not None:
        return _plain(text)
    if (html := _string(data, "description_html")) is not None:
        return text_from_html(html)
    return _as_text(_pick(data.get("descriptions"), (*_SUMMARY_ROLES, ""), only_preferred=True)) or None


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


def _alt_ids(value: Any) -> dict[str, str]:
    """``altids`` is an object of id kinds in 1.x and 2.x, a list of ``{role, value}`` in 3.0."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(i.get("role"), i.get("value")) for i in value if isinstance(i, dict)]
    else:
        pairs = []
    return {str(k)[:100]: v[:500] for k, v in pairs[:20] if isinstance(k, str) and isinstance(v, str) and v}


def ninjs_article(data: dict[str, Any], *, source: str) -> dict[str, Any]:
    """One ninjs item as an article payload; :class:`ChannelError` naming the missing field otherwise."""
    item = _lower_keys(data)
    identity = next((key for key in _IDENTITY_KEYS if _string(item, key)), None)
    if identity is None:
        raise ChannelError("a ninjs item needs a uri (or a guid)", field="uri")
    uri = str(item[identity]).strip()
    headline = _string(item, "headline")
    title = clip(
        _plain(headline) if headline else _as_text(_pick(item.get("headlines"), ("main", ""))),
        MAX_TITLE_CHARS,
    )
    if not title:
        raise ChannelError("a ninjs item needs a headline (headline or headlines)", field="headline")
    withdrawn = str(item.get("pubstatus") or "").lower() in {"canceled", "cancelled", "withheld", "withdrawn"}
    body = _body(item) or (WITHDRAWN_BODY if withdrawn else "")
    if not body:
        raise ChannelError("a ninjs text item needs a body (body_text, body_html or bodies)", field="body_text")
    byline = item.get("by") or item.get("byline")
    authors = [clip(byline, 200)] if isinstance(byline, str) and clip(byline, 200) else []
    subjects = item.get("subjects") or item.get("subject")
    located = item.get("located")
    return drop_empty(
        {
            "title": title,
            "body": body,
            "summary": clip(_summary(item), MAX_FIELD_CHARS),
            "source": source,
            "external_id": external_id(uri),
            "published_at": _date(item.get("firstcreated") or item.get("contentcreated") or item.get("versioncreated")),
            "language": language_code(item.get("language")),
            "authors": authors,
            "section": clip(item.get("slugline"), 200),
            "credit": clip(item.get("copyrightholder"), MAX_FIELD_CHARS),
            "version": version_number(item.get("version")),
            "version_created": _date(item.get("versioncreated")),
            "withdrawn": withdrawn or None,
            "metadata": drop_empty(
                {
                    "format": "ninjs",
                    identity: uri,
                    "name": clip(item.get("title"), 300),
                    "version": str(item["version"]) if isinstance(item.get("version"), str | int) else None,
                    "version_created": _date(item.get("versioncreated")),
                    "urgency": item.get("urgency") if isinstance(item.get("urgency"), int) else None,
                    "subjects": _names(subjects)[:50],
                    "located": located if isinstance(located, str) else None,
                    "alt_ids": _alt_ids(item.get("altids")),
                }
            ),
        }
    )
