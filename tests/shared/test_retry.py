"""The one backoff formula every retry loop uses: grows by its factor, stays under its cap, honours a
server's ``Retry-After``, and spreads retries so that workers failing together do not return together."""

from __future__ import annotations

from shared.retry import backoff_s


def test_backoff_grows_by_its_factor_within_the_jitter() -> None:
    for attempt in range(4):
        delays = [backoff_s(attempt, base=1.0, cap=1_000.0, factor=3.0, jitter=(0.5, 1.0)) for _ in range(50)]
        assert all(0.5 * 3**attempt <= d <= 3**attempt for d in delays) and len(set(delays)) > 1


def test_backoff_without_jitter_is_exact_and_capped() -> None:
    assert [backoff_s(n, base=600, cap=86_400, jitter=(1.0, 1.0)) for n in (1, 2, 3, 10)] == [1200, 2400, 4800, 86400]
    assert backoff_s(10_000, base=1.0, cap=60.0, jitter=(1.0, 1.0)) == 60.0  # no overflow after long failure


def test_at_the_cap_retries_still_spread_unless_the_cap_is_promised() -> None:
    spread = {backoff_s(20, base=1.0, cap=10.0, jitter=(0.5, 1.0)) for _ in range(50)}
    assert all(5.0 <= d <= 10.0 for d in spread) and len(spread) > 1
    assert {backoff_s(20, base=1.0, cap=10.0, jitter=(0.5, 1.5), spread_at_cap=False) for _ in range(50)} == {10.0}


def test_a_retry_after_raises_the_delay_but_not_past_the_cap() -> None:
    assert backoff_s(0, base=1.0, cap=100.0, jitter=(1.0, 1.0), at_least=30.0) == 30.0
    assert backoff_s(0, base=1.0, cap=100.0, jitter=(1.0, 1.0), at_least=500.0) == 100.0
