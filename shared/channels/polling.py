"""Feed polling decisions as pure functions: the adaptive interval, failure back-off, per-host spacing and
the health verdict. The poller (``services/worker/feeds.py``) applies them; tests call them directly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from shared.retry import backoff_s

K = TypeVar("K")

# New items since the last poll halve the interval; nothing new stretches it by half. Halving reacts fast
# to a feed waking up, the gentler stretch avoids overshooting when a busy feed has one quiet spell.
SPEED_UP = 0.5
SLOW_DOWN = 1.5


def clamp(value: float, low: float, high: float) -> float:
    """``value`` held within ``[low, high]``."""
    return max(low, min(high, value))


def next_interval(current_s: float, *, new_items: int, min_s: float, max_s: float) -> float:
    """The interval after a successful poll: shorter when new items keep coming, longer when not."""
    factor = SPEED_UP if new_items > 0 else SLOW_DOWN
    return clamp(current_s * factor, min_s, max_s)


def failure_delay(interval_s: float, *, failures: int, max_s: float) -> float:
    """How long to wait after the ``failures``-th failure in a row: the interval doubled per failure, capped.
    The adaptive interval itself is kept, so a feed that recovers resumes its old pace."""
    return backoff_s(failures, base=interval_s, cap=max_s, jitter=(1.0, 1.0))


def per_host_share(schedule_s: float, delay_s: float) -> int:
    """How many fetches to one host fit in one scheduling round at ``delay_s`` apart."""
    return max(1, int(schedule_s // delay_s)) if delay_s > 0 else 1_000_000


def stagger_by_host(feeds: Iterable[tuple[K, str]], delay_s: float) -> list[tuple[K, float]]:
    """Delay (seconds) before each feed's fetch so that two fetches to one host are ``delay_s`` apart."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for key, host in feeds:
        out.append((key, seen[host] * delay_s))
        seen[host] += 1
    return out


@dataclass(frozen=True)
class HealthInput:
    active: bool
    created_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    consecutive_failures: int


def health_status(h: HealthInput, *, now: datetime, quiet_after: timedelta) -> str:
    """``dead`` (given up), ``new`` (never polled), ``failing``, ``quiet`` (answers, nothing new for
    ``quiet_after``) or ``ok``."""
    if not h.active:
        return "dead"
    if h.last_polled_at is None:
        return "new"
    if h.consecutive_failures > 0:
        return "failing"
    if gone_quiet(h, now=now, quiet_after=quiet_after):
        return "quiet"
    return "ok"


def gone_quiet(h: HealthInput, *, now: datetime, quiet_after: timedelta) -> bool:
    """The feed answers but has brought nothing new for ``quiet_after``."""
    if h.last_success_at is None:
        return False
    return (h.last_new_item_at or h.created_at) < now - quiet_after


def items_per_day(new_items: int, *, window_start: datetime, created_at: datetime, now: datetime) -> float:
    """New items per day over the window, or over the feed's life when it is younger (at least one day)."""
    span = now - max(window_start, created_at)
    days = max(span.total_seconds() / 86400, 1.0)
    return round(new_items / days, 2)
