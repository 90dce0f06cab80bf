"""Adaptive interval, back-off, per-host spacing and the health verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.channels.polling import (
    HealthInput,
    failure_delay,
    health_status,
    items_per_day,
    next_interval,
    per_host_share,
    stagger_by_host,
)

NOW = datetime(2024, 3, 5, 12, tzinfo=UTC)
QUIET = timedelta(days=3)


def test_new_items_shorten_and_silence_lengthens_the_interval() -> None:
    assert next_interval(3600, new_items=5, min_s=300, max_s=86400) == 1800
    assert next_interval(3600, new_items=0, min_s=300, max_s=86400) == 5400
    assert next_interval(400, new_items=1, min_s=300, max_s=86400) == 300
    assert next_interval(80000, new_items=0, min_s=300, max_s=86400) == 86400


@given(
    current=st.floats(min_value=1, max_value=10**7),
    new_items=st.integers(min_value=0, max_value=1000),
    low=st.integers(min_value=1, max_value=10**4),
    span=st.integers(min_value=0, max_value=10**6),
)
def test_the_interval_never_leaves_its_bounds(current: float, new_items: int, low: int, span: int) -> None:
    assert low <= next_interval(current, new_items=new_items, min_s=low, max_s=low + span) <= low + span


def test_failures_back_off_exponentially_to_the_cap() -> None:
    assert [failure_delay(600, failures=n, max_s=86400) for n in (1, 2, 3, 10)] == [1200, 2400, 4800, 86400]


def test_fetches_to_one_host_are_spaced() -> None:
    planned = stagger_by_host([("a", "x.com"), ("b", "y.com"), ("c", "x.com"), ("d", "x.com")], 2.0)
    assert planned == [("a", 0.0), ("b", 0.0), ("c", 2.0), ("d", 4.0)]
    assert per_host_share(30, 2) == 15
    assert per_host_share(30, 0) > 1000


def _health(**changes: object) -> HealthInput:
    base = {
        "active": True,
        "created_at": NOW - timedelta(days=10),
        "last_polled_at": NOW - timedelta(minutes=5),
        "last_success_at": NOW - timedelta(minutes=5),
        "last_new_item_at": NOW - timedelta(hours=1),
        "consecutive_failures": 0,
    }
    return HealthInput(**{**base, **changes})  # type: ignore[arg-type]


def test_health_verdicts() -> None:
    assert health_status(_health(), now=NOW, quiet_after=QUIET) == "ok"
    assert health_status(_health(last_polled_at=None, last_success_at=None), now=NOW, quiet_after=QUIET) == "new"
    assert health_status(_health(consecutive_failures=2), now=NOW, quiet_after=QUIET) == "failing"
    assert health_status(_health(active=False), now=NOW, quiet_after=QUIET) == "dead"
    quiet = _health(last_new_item_at=NOW - timedelta(days=4))
    assert health_status(quiet, now=NOW, quiet_after=QUIET) == "quiet"
    never_new = _health(last_new_item_at=None)
    assert health_status(never_new, now=NOW, quiet_after=QUIET) == "quiet"


def test_items_per_day_over_the_window_or_the_feed_life() -> None:
    week = NOW - timedelta(days=7)
    assert items_per_day(70, window_start=week, created_at=NOW - timedelta(days=30), now=NOW) == 10
    assert items_per_day(20, window_start=week, created_at=NOW - timedelta(days=2), now=NOW) == 10
    assert items_per_day(20, window_start=week, created_at=NOW - timedelta(hours=1), now=NOW) == 20
