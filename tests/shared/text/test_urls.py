"""Canonical URLs: one spelling per page."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.text.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://WWW.Example.COM:80/news/story/", "https://example.com/news/story"),
        ("https://example.com:443/a?utm_source=x&utm_medium=y&id=3#comments", "https://example.com/a?id=3"),
        ("https://example.com/a?b=2&a=1&fbclid=abc&gclid=z&mc_cid=1", "https://example.com/a?a=1&b=2"),
        ("https://amp.example.com/news/story/amp/", "https://example.com/news/story"),
        ("https://example.com/amp/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
    ],
)
def test_canonical_forms(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", [None, "", "ftp://example.com/x", "not a url", "https://", "http://[::1"])
def test_not_http_urls_have_no_canonical_form(url: str | None) -> None:
    assert canonical_url(url) is None


@given(
    host=st.from_regex(r"[a-z]{1,10}\.(com|org|net)", fullmatch=True),
    path=st.lists(st.from_regex(r"[a-z0-9\-]{1,8}", fullmatch=True), max_size=4),
    params=st.dictionaries(
        st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True), max_size=4
    ),
)
def test_canonicalisation_is_idempotent_and_drops_tracking(host: str, path: list[str], params: dict[str, str]) -> None:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = f"https://{host}/{'/'.join(path)}?{query}&utm_campaign=spring"
    once = canonical_url(url)
    assert once is not None
    assert canonical_url(once) == once
    assert "utm_" not in once
