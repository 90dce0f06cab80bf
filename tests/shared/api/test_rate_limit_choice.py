"""Which limit a key gets: none with the ``unlimited`` scope, else its own, else its scopes' default, else the
server's default."""

from __future__ import annotations

import pytest

from shared.api.ratelimit import RateLimitSettings, limit_for

SETTINGS = RateLimitSettings(per_minute=1_200, scope_per_minute={"ingest": 6_000, "query": 2_400})


@pytest.mark.parametrize(
    ("scopes", "own", "expected"),
    [
        (["query"], None, 2_400),  # the scope's default
        (["ingest", "query"], None, 6_000),  # the highest of its scopes'
        (["admin"], None, 1_200),  # no scope default: the server's
        (["query"], 30, 30),  # its own limit beats the defaults
        (["ingest", "unlimited"], None, None),  # never limited
        (["query", "unlimited"], 30, None),  # even with a limit of its own
    ],
)
def test_a_key_gets_the_limit_that_fits_it(scopes: list[str], own: int | None, expected: int | None) -> None:
    assert limit_for(SETTINGS, scopes=scopes, own=own) == expected


def test_scope_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_RATE_LIMIT_SCOPE_PER_MINUTE", '{"ingest": 9000}')
    assert limit_for(RateLimitSettings(), scopes=["ingest"], own=None) == 9_000
    assert limit_for(RateLimitSettings(), scopes=["query"], own=None) == RateLimitSettings().per_minute
