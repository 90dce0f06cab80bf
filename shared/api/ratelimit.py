"""Per-key rate limits in Redis: one atomic script call per key per event-loop turn (GCRA, the generic cell
rate algorithm).

GCRA keeps one number per key, the "theoretical arrival time", so a check is a single round trip and the
limit holds across any number of API processes. The requests of one key that reach the check in the same
turn of a process's event loop are counted by one call, which decides them in order exactly as that many
calls at the same instant would: keep-alive clients sharing a key cost one round trip per turn, not one each. A key may send ``burst`` requests at once, then one every
``60 / per_minute`` seconds. A key's limit is its own (``rate_limit_per_minute``) when it has one, else the
server's default for its scopes (``TIDINGS_RATE_LIMIT_SCOPE_PER_MINUTE``, the highest of its scopes'), else
``TIDINGS_RATE_LIMIT_PER_MINUTE``; a key with the ``unlimited`` scope is never limited. When Redis does not answer, requests are let through (fail open): the limit
protects capacity, while the articles' durability rests on PostgreSQL alone; the event is logged and counted.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.exceptions import RedisError

from shared.api.keys import Scope
from shared.config import settings_getter
from shared.metrics import RATE_LIMIT_UNCHECKED

log = structlog.get_logger(__name__)

# KEYS[1]: the key's counter, KEYS[2]: the key epoch. ARGV: emission interval (ms), burst tolerance (ms), the
# number of requests to count. Redis' own clock, so several API hosts agree. The requests are decided one after
# the other, the same arithmetic as one call each: once one is refused the rest are (the time does not move).
# Returns {allowed, retry_after_ms, key_epoch, remaining...}: how many were let through, the wait of the
# refused, the epoch (so the key cache learns of changes to keys in the same round trip), and each admitted
# request's remaining allowance.
_GCRA = """
local epoch = tonumber(redis.call('GET', KEYS[2]) or '0')
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local out = {0, 0, epoch}
for _ = 1, count do
  local new_tat = tat + interval
  local allow_at = new_tat - tolerance
  if allow_at > now then
    out[2] = allow_at - now
    break
  end
  tat = new_tat
  out[1] = out[1] + 1
  out[#out + 1] = math.floor((now - allow_at) / interval)
end
if out[1] > 0 then
  redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now) + 1000)
end
return out
"""


class RateLimitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_RATE_LIMIT_", extra="ignore")

    enabled: bool = True
    per_minute: int = 1_200  # the default for keys without their own limit
    # Defaults per scope, for keys without their own limit, e.g. '{"ingest": 6000}' for write-heavy keys.
    scope_per_minute: dict[str, int] = {}
    burst_seconds: float = 10.0  # how many seconds' worth of requests may arrive at once
    redis_timeout_s: float = 1.0  # past this the request goes through unchecked


get_rate_limit_settings = settings_getter(RateLimitSettings)


# Bumped by every change to an API key (``keys_changed``): the processes' key caches start afresh.
KEY_EPOCH = "tidings:api-keys:epoch"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    remaining: int = 0
    key_epoch: int | None = None  # None: Redis did not answer


async def keys_changed(client: aioredis.Redis) -> None:
    """Tell every API process that an API key changed (revoked, granted other sources). After the commit;
    should Redis not answer, the caches' TTL still bounds how long the old key is trusted."""
    try:
        await client.incr(KEY_EPOCH)
    except (RedisError, OSError) as exc:
        log.warning("key change not announced; caches expire it within their TTL", error=type(exc).__name__)


def keys_changed_sync(redis_url: str) -> None:
    """:func:`keys_changed` for a command-line process."""
    import redis

    try:
        with redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2) as client:
            client.incr(KEY_EPOCH)
    except (RedisError, OSError) as exc:
        log.warning("key change not announced; caches expire it within their TTL", error=type(exc).__name__)


def limit_for(settings: RateLimitSettings, *, scopes: Iterable[str], own: int | None) -> int | None:
    """Requests per minute a key may make, or None when it is not limited (the ``unlimited`` scope)."""
    scopes = set(scopes)
    if Scope.unlimited.value in scopes:
        return None
    if own is not None:
        return own
    by_scope = [settings.scope_per_minute[s] for s in scopes if s in settings.scope_per_minute]
    return max(by_scope) if by_scope else settings.per_minute


class RateLimiter:
    """Checks requests against their key's limit; created once per app, on the app's Redis client. Concurrent
    checks of one key (or of the key epoch alone) wait for the end of the loop's turn and share one call."""

    def __init__(self, client: aioredis.Redis, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._client = client
        self._script = client.register_script(_GCRA)
        # The checks gathered this turn, by key and limit (None: the epoch alone, for unlimited keys).
        self._gathering: dict[tuple[str, int] | None, list[asyncio.Future[Decision]]] = {}
        self._calls: set[asyncio.Task[None]] = set()

    async def hit(self, key_id: str, per_minute: int | None) -> Decision:
        """Count one request of ``key_id`` against ``per_minute`` (None: not limited, only the key epoch is
        read); one round trip shared with the key's other requests of this turn."""
        limited = self.settings.enabled and per_minute is not None
        slot = (key_id, max(1, per_minute)) if limited and per_minute is not None else None
        loop = asyncio.get_running_loop()
        waiting = self._gathering.get(slot)
        if waiting is None:
            waiting = self._gathering[slot] = []
            loop.call_soon(self._call, slot)
        decision: asyncio.Future[Decision] = loop.create_future()
        waiting.append(decision)
        return await decision

    def _call(self, slot: tuple[str, int] | None) -> None:
        waiting = self._gathering.pop(slot)
        call = asyncio.get_running_loop().create_task(
            _answering(waiting, self._decide(slot, waiting) if slot is not None else self._epoch_for(waiting))
        )
        # Its own task: a caller that goes away does not cancel the call the others wait on.
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)

    async def _decide(self, slot: tuple[str, int], waiting: list[asyncio.Future[Decision]]) -> None:
        key_id, limit = slot
        interval_ms = 60_000 / limit
        burst = max(1, math.ceil(limit * self.settings.burst_seconds / 60))
        tolerance_ms = interval_ms * burst
        try:
            async with asyncio.timeout(self.settings.redis_timeout_s):
                allowed, retry_ms, epoch, *remaining = await self._script(
                    keys=[f"tidings:ratelimit:{key_id}", KEY_EPOCH], args=[interval_ms, tolerance_ms, len(waiting)]
                )
        except (RedisError, OSError, TimeoutError) as exc:
            RATE_LIMIT_UNCHECKED.inc(len(waiting))
            log.warning("rate limit not checked: redis unavailable", error=type(exc).__name__)
            _settle(waiting, [Decision(allowed=True)] * len(waiting))
            return
        refused = Decision(allowed=False, retry_after_s=max(1, math.ceil(int(retry_ms) / 1000)), key_epoch=int(epoch))
        decisions = [Decision(allowed=True, retry_after_s=1, remaining=int(r), key_epoch=int(epoch)) for r in remaining]
        _settle(waiting, decisions + [refused] * (len(waiting) - int(allowed)))

    async def _epoch_for(self, waiting: list[asyncio.Future[Decision]]) -> None:
        epoch = await self._key_epoch()
        _settle(waiting, [Decision(allowed=True, key_epoch=epoch)] * len(waiting))

    async def _key_epoch(self) -> int | None:
        try:
            async with asyncio.timeout(self.settings.redis_timeout_s):
                value = await self._client.get(KEY_EPOCH)
        except (RedisError, OSError, TimeoutError):
            return None
        return int(value or 0)


async def _answering(waiting: list[asyncio.Future[Decision]], call: Coroutine[Any, Any, None]) -> None:
    """Run ``call``; should it fail in a way it does not answer itself, its callers hear of it, not hang."""
    try:
        await call
    except BaseException as exc:
        for future in waiting:
            if not future.done():
                future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("rate limit check stopped"))
        raise


def _settle(waiting: list[asyncio.Future[Decision]], decisions: list[Decision]) -> None:
    for future, decision in zip(waiting, decisions, strict=True):
        if not future.done():  # its request was cancelled meanwhile
            future.set_result(decision)
