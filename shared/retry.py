"""How long to wait before trying again: the one backoff formula, and the one ``Retry-After`` reader.

Every retry loop of the platform (pipeline tasks, failed articles, backfills, outbound deliveries, feed
polls, the Python client) waits ``base × factor^attempt``, capped, spread by jitter so that many workers
failing together do not come back together.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def backoff_s(
    attempt: int,
    *,
    base: float,
    cap: float,
    factor: float = 2.0,
    jitter: tuple[float, float] = (0.0, 1.0),
    at_least: float | None = None,
    spread_at_cap: bool = True,
) -> float:
    """``min(cap, base × factor^attempt)`` scaled by a uniform draw from ``jitter`` (``(1, 1)``: none), then
    raised to ``at_least`` (a server's ``Retry-After``) and capped again. ``attempt`` counts from 0.

    ``spread_at_cap=False`` draws the jitter before the cap instead, so that once the delays have grown past
    it they wait the cap itself: for a schedule that promises its longest wait."""
    # Bounded exponent: a long-failing source must not overflow the float.
    delay = base * factor ** min(max(0, attempt), 64)
    if spread_at_cap:
        delay = min(cap, delay)
    low, high = jitter
    delay *= random.uniform(low, high) if low != high else low
    if at_least is not None:
        delay = max(delay, at_least)
    return min(delay, cap)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():  # not isdigit: float() refuses '²'
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - (now or datetime.now(UTC))).total_seconds())
    except (TypeError, ValueError):
        return None
