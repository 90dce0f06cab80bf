"""``ArticleIn.metadata``: refused exactly when it is too deep, too large (as ``json.dumps`` writes it) or holds
text PostgreSQL cannot store, whichever way the check is computed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.config import get_ingest_settings
from shared.schemas.articles import ArticleIn

_TEXT = st.text(alphabet=st.sampled_from(["a", "é", '"', "\\", "\n", "\x01", "\x00", "€", "😀", "\ud800"]), max_size=4)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False), _TEXT
)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=30
)


def _refusal(value: Any, depth: int = 0) -> str | None:
    """What the rule refuses first: depth past 8, a NUL, an unpaired surrogate; None when storable."""
    if depth > 8:
        return "nested too deeply"
    texts = [value] if isinstance(value, str) else []
    children: list[Any] = []
    if isinstance(value, dict):
        texts = list(value)
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    for t in texts:
        if "\x00" in t:
            return "NUL"
        try:
            t.encode()
        except UnicodeEncodeError:
            return "surrogates"
    for child in children:
        if (why := _refusal(child, depth + 1)) is not None:
            return why
    return None


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@settings(max_examples=300, deadline=None)
@given(value=_JSON)
def test_metadata_is_refused_exactly_when_the_rule_says(value: Any) -> None:
    metadata = {"k": value}
    expected_ok = (
        _refusal(metadata) is None
        and len(json.dumps(metadata, ensure_ascii=False).encode()) <= get_ingest_settings().max_metadata_bytes
    )
    try:
        ArticleIn.model_validate({"title": "t", "body": "b", "metadata": metadata})
    except ValidationError as exc:
        assert not expected_ok, exc
        assert exc.errors()[0]["loc"][0] == "metadata"
    else:
        assert expected_ok


def test_the_size_limit_counts_the_bytes_json_dumps_writes() -> None:
    limit = get_ingest_settings().max_metadata_bytes
    overhead = len(json.dumps({"k": ["", ""]}, ensure_ascii=False).encode())
    two_byte_chars, odd = divmod(limit - overhead, 2)
    fits = {"k": ["é" * two_byte_chars + "a" * odd, ""]}
    assert len(json.dumps(fits, ensure_ascii=False).encode()) == limit
    ArticleIn.model_validate({"title": "t", "body": "b", "metadata": fits})
    with pytest.raises(ValidationError, match="larger than"):
        ArticleIn.model_validate({"title": "t", "body": "b", "metadata": {"k": [fits["k"][0], "x"]}})


def test_depth_is_limited_to_eight_levels() -> None:
    ArticleIn.model_validate({"title": "t", "body": "b", "metadata": _nested(8)})
    with pytest.raises(ValidationError, match="nested too deeply"):
        ArticleIn.model_validate({"title": "t", "body": "b", "metadata": _nested(9)})


def test_separators_inside_strings_do_not_count_against_the_limit() -> None:
    # Every ':' and ',' of these strings is text, not a separator json.dumps widens: they fit to the byte.
    limit = get_ingest_settings().max_metadata_bytes
    overhead = len(json.dumps({"k": ["", ""]}, ensure_ascii=False).encode())
    fits = {"k": [":," * ((limit - overhead) // 2) + ":" * ((limit - overhead) % 2), ""]}
    assert len(json.dumps(fits, ensure_ascii=False).encode()) == limit
    ArticleIn.model_validate({"title": "t", "body": "b", "metadata": fits})
    with pytest.raises(ValidationError, match="larger than"):
        ArticleIn.model_validate({"title": "t", "body": "b", "metadata": {"k": [fits["k"][0], ":"]}})
