"""Bodies the ingest service cannot read as text, and JSON it must not store: each a 4xx naming the field,
never a 500 (which also closed the keep-alive connection)."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.parsing import decode_text
from shared.api.errors import ApiError

# Codecs Python knows that are no character set: bytes-to-bytes or str-to-str transforms, or no text at all.
NOT_CHARSETS = ["rot13", "zlib", "uu", "base64", "hex", "bz2", "punycode", "undefined", "idna", "unicode_escape"]
STORY = {
    "title": "Tram line extension opens",
    "body": "The first trams ran on the new eastern extension on Saturday morning.\n\nThe line adds four stops.",
}
PLAIN = f"{STORY['title']}\n\n{STORY['body']}"


def _error(r: httpx.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"}, body
    return body["error"]


@pytest.mark.parametrize("charset", [*NOT_CHARSETS, "x-bogus"])
def test_a_charset_that_is_no_text_encoding_is_a_415_naming_it(ingest: httpx.Client, charset: str) -> None:
    for path, content_type, body in (
        ("/v1/articles", "application/json", json.dumps(STORY)),
        ("/v1/articles/batch", "application/json", json.dumps({"articles": [STORY]})),
        ("/v1/articles", "text/plain", PLAIN),
    ):
        r = ingest.post(path, content=body.encode(), headers={"Content-Type": f"{content_type}; charset={charset}"})
        assert r.status_code == 415, (path, content_type, r.text)
        error = _error(r)
        assert error["details"][0]["field"] == "content-type"
        assert charset in error["message"]
        assert r.headers.get("connection") != "close"


@pytest.mark.parametrize("charset", ["utf-8", "latin-1", "cp1252", "utf-16"])
def test_real_charsets_still_decode(ingest: httpx.Client, charset: str) -> None:
    r = ingest.post(
        "/v1/articles",
        content=json.dumps({**STORY, "title": "Café reopens on the quay"}, ensure_ascii=False).encode(charset),
        headers={"Content-Type": f"application/json; charset={charset}"},
    )
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"title": "Tram line", "body": "Trams ran.", "metadata": {"score": NaN}}', "metadata.score"),
        ('{"title": "Tram line", "body": "Trams ran.", "metadata": {"w": [1, Infinity]}}', "metadata.w.1"),
        ('{"title": "Tram line", "body": "Trams ran.", "published_at": -Infinity}', "published_at"),
        # Finite in the text, infinite as a double: refused too, not stored as something else.
        ('{"title": "Tram line", "body": "Trams ran.", "metadata": {"score": 1e999}}', "metadata.score"),
        ('{"title": "Tram line", "body": "Trams ran.", "metadata": {"w": [-2.5E+400]}}', "metadata.w.0"),
    ],
)
def test_nan_and_infinity_are_refused_naming_the_field(ingest: httpx.Client, raw: str, field: str) -> None:
    r = ingest.post("/v1/articles", content=raw.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert _error(r)["details"][0]["field"] == field
    batch = ingest.post(
        "/v1/articles/batch", content=f'{{"articles": [{raw}]}}'.encode(), headers={"Content-Type": "application/json"}
    )
    assert batch.status_code == 400, batch.text
    assert _error(batch)["details"][0]["field"] == f"articles.0.{field}"


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    charset=st.one_of(
        st.sampled_from([*NOT_CHARSETS, "utf-8", "utf-16", "utf-32", "utf-7", "latin-1", "cp037", "shift_jis"]),
        st.text(min_size=1, max_size=20),
    ),
    raw=st.binary(max_size=200),
)
def test_decoding_any_bytes_in_any_charset_is_text_or_a_4xx(charset: str, raw: bytes) -> None:
    try:
        decoded = decode_text(raw, charset)
    except ApiError as exc:
        assert exc.status in (400, 415)
        assert exc.details and exc.details[0]["field"] in ("body", "content-type")  # type: ignore[index]
    else:
        assert isinstance(decoded, str)
