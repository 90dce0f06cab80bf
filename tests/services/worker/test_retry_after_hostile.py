"""A ``Retry-After`` from a feed publisher or a subscriber is their input: any value is a delay or none,
never an exception that fails the poll or the send."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from shared.retry import parse_retry_after

NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("²", None),  # a digit to str.isdigit, not to float(); a Latin-1 byte any server can send
        ("٣", 3.0),  # Arabic-Indic three: a decimal digit float() reads
        ("Mon, 02 Mar 2026 07:32:00 GMT", 120.0),
        ("Mon, 01 Jan 0001 00:00:00 +1400", 0.0),
        ("yesterday", None),
        ("", None),
    ],
)
def test_any_retry_after_is_a_delay_or_none(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected
    # What a server sends is bytes; httpx reads a header's bytes as Latin-1.
    sent = value.encode("latin-1", "replace")
    got = parse_retry_after(httpx.Response(503, headers=[(b"Retry-After", sent)]).headers.get("retry-after"))
    assert got is None or got >= 0.0
