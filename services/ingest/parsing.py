"""Turn request bodies into validated articles, or into 4xx errors that name the field.

``application/json`` carries one article object; ``text/plain`` the plain newsroom format, with the
structured fields (source, external_id, url, ...) as query parameters.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.api.errors import ApiError, field_errors
from shared.channels.errors import ChannelError, UnsafeXmlError
from shared.channels.html import article_from_html
from shared.schemas.articles import ArticleIn
from shared.text.plaintext import PlainTextError, parse_plain_article

PLAIN_QUERY_FIELDS = ("source", "external_id", "url", "published_at", "language", "section")
_MAX_JSON_DEPTH = 32


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """``text/plain; charset=utf-8`` → (``text/plain``, ``utf-8``)."""
    if not content_type:
        return "", None
    parts = [p.strip() for p in content_type.split(";")]
    charset = None
    for p in parts[1:]:
        name, _, value = p.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return parts[0].lower(), charset


# Codecs Python registers as text encodings that are no character set: ``undefined`` refuses everything,
# ``punycode`` and ``idna`` spell host names, the escape codecs Python string literals.
_NOT_CHARSETS = frozenset({"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape"})


def text_codec(charset: str) -> codecs.CodecInfo:
    """The codec of a ``charset`` parameter, or a 415 naming it when it is no text encoding (``rot13``,
    ``zlib``, ``base64``, ``hex``, ``bz2``, ``uu``... are bytes-to-bytes or str-to-str transforms)."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError) as exc:  # ValueError: a name with a NUL in it
        info = None
        cause: Exception | None = exc
    else:
        cause = None
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        raise ApiError(415, f"unsupported charset {charset!r}", field="content-type") from cause
    return info


def decode_text(raw: bytes, charset: str | None) -> str:
    charset = charset or "utf-8"
    info = text_codec(charset)
    try:
        text, _ = info.decode(raw)
    except UnicodeDecodeError as exc:
        raise ApiError(
            400,
            f"body is not valid {charset.upper()}: invalid byte at offset {exc.start}",
            code="invalid_encoding",
            field="body",
        ) from exc
    except (UnicodeError, ValueError) as exc:  # a codec that fails in its own way
        raise ApiError(415, f"unsupported charset {charset!r}", field="content-type") from exc
    return str(text)


def _depth(value: Any, limit: int) -> int:
    return _shape(value, limit)[0]


# orjson reads an integer past 64 bits as a float; a float this large is where such an integer may be.
_FLOAT_FROM_BIG_INT = float(2**63)


def _shape(value: Any, limit: int) -> tuple[int, bool]:
    """How deep ``value`` nests (counting stops past ``limit``), and whether it holds a float of 2**63 or
    more, in one walk."""
    stack = [(value, 1)]
    deepest = 0
    huge = False
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth, huge
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, float) and abs(node) >= _FLOAT_FROM_BIG_INT:
            huge = True
    return deepest, huge


def non_finite_path(value: Any) -> str | None:
    """The dotted path of the first ``NaN`` or ``Infinity`` in parsed JSON (Python's parser accepts them;
    JSON has no such numbers and PostgreSQL's jsonb refuses them), or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return path or "body"
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(node))
    return None


def load_json(raw: bytes, charset: str | None) -> Any:
    text = decode_text(raw, charset)
    if not text.strip():
        raise ApiError(400, "request body is empty: expected a JSON object", code="invalid_json", field="body")
    try:
        # orjson first (several times faster); it refuses what JSON does not allow (NaN, Infinity), and
        # the standard parser reads the rest the way it always has.
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        depth, huge = _shape(value, _MAX_JSON_DEPTH)
        if depth > _MAX_JSON_DEPTH:
            raise ApiError(
                400, f"JSON is nested deeper than {_MAX_JSON_DEPTH} levels", code="invalid_json", field="body"
            )
        if not huge:  # else an integer past 64 bits may have become a float: read it exactly below
            return value
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            code="invalid_json",
            field="body",
        ) from exc
    except RecursionError as exc:
        raise ApiError(400, "JSON is nested too deeply", code="invalid_json", field="body") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ApiError(400, f"invalid JSON: {exc}", code="invalid_json", field="body") from exc
    if _depth(value, _MAX_JSON_DEPTH) > _MAX_JSON_DEPTH:
        raise ApiError(400, f"JSON is nested deeper than {_MAX_JSON_DEPTH} levels", code="invalid_json", field="body")
    if (path := non_finite_path(value)) is not None:
        raise ApiError(400, "NaN and Infinity are not JSON numbers", code="invalid_json", field=path)
    return value


def _from_html(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    field = f"{prefix}.html" if prefix else "html"
    if data.get("body") is not None:
        raise ApiError(422, "send either body or html, not both", field=field)
    try:
        return article_from_html(data)
    except UnsafeXmlError as exc:  # entity declarations in the page: refused like any XML carrying them
        raise ApiError(exc.status, exc.message, code=exc.code, field=field) from exc
    except ChannelError as exc:
        raise ApiError(422, exc.message, field=field) from exc


def validate_article(data: Any, *, prefix: str = "") -> ArticleIn:
    if not isinstance(data, dict):
        raise ApiError(422, "expected a JSON object", field=prefix or "body")
    if data.get("html") is not None:
        data = _from_html(data, prefix)
    try:
        return ArticleIn.model_validate(data)
    except ValidationError as exc:
        details = field_errors(exc, prefix=prefix)
        raise ApiError(
            422, f"invalid article: {details[0]['field']}: {details[0]['message']}", details=details
        ) from exc


class _Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn]


# A number with an exponent of three digits or more may overflow a double (``1e999``), which pydantic's parser
# reads as infinity without a word; such a body takes the path that names the field instead.
_LARGE_EXPONENT = re.compile(rb"[0-9.][eE][+-]?[0-9]{3}")


def _validates_from_bytes(raw: bytes, charset: str | None) -> bool:
    """Whether a JSON body may be validated by pydantic straight from its bytes (one native pass: parse and
    validate). Not when it needs a charset decoded, holds ``html`` (extracted in Python first) or may hold
    ``NaN`` / ``Infinity`` or a number past a double's range (pydantic's parser reads them, JSON and jsonb have
    no such numbers)."""
    return (
        charset in (None, "utf-8", "utf8")
        and b'"html"' not in raw
        and b"NaN" not in raw
        and b"Infinity" not in raw
        and _LARGE_EXPONENT.search(raw) is None
    )


def articles_from_json_bytes(raw: bytes, charset: str | None) -> list[ArticleIn] | None:
    """A batch body ``{"articles": [...]}`` whose every item is valid, in one pass; None when the body must
    take the item-by-item path (which names every invalid item and field)."""
    if not _validates_from_bytes(raw, charset):
        return None
    try:
        return _Batch.model_validate_json(raw).articles
    except ValidationError:
        return None


def article_from_plain_text(text: str, query: Mapping[str, str]) -> ArticleIn:
    if "\x00" in text:
        raise ApiError(422, "must not contain NUL characters", field="body")
    try:
        plain = parse_plain_article(text)
    except PlainTextError as exc:
        raise ApiError(422, str(exc), field=exc.field) from exc
    data: dict[str, Any] = {
        "title": plain.title,
        "body": plain.body,
        "summary": plain.summary,
        "caption": plain.caption,
        "credit": plain.credit,
    }
    data.update({name: query[name] for name in PLAIN_QUERY_FIELDS if query.get(name)})
    return validate_article({k: v for k, v in data.items() if v is not None})


def article_from_request(raw: bytes, content_type: str | None, query: Mapping[str, str]) -> ArticleIn:
    kind, charset = media_type(content_type)
    if kind == "application/json" or kind.endswith("+json"):
        if _validates_from_bytes(raw, charset):
            try:
                return ArticleIn.model_validate_json(raw)
            except ValidationError:
                pass  # parsed and validated again below, for the error that names the field
        return validate_article(load_json(raw, charset))
    if kind == "text/plain":
        return article_from_plain_text(decode_text(raw, charset), query)
    raise ApiError(
        415,
        f"unsupported content type {kind or '(none)'!r}: send application/json or text/plain",
        field="content-type",
    )
