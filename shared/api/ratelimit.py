"""Per-key rate limits in Redis: one atomic script call per request (GCRA, the generic cell rate algorithm).

GCRA keeps one number per key, the "theoretical arrival time", so a check is a single round trip and the
limit holds across any number of API processes. A key may send ``burst`` requests at once, then one every
``60 / per_minute`` seconds. A key's limit is its own (``rate_limit_per_minute``) when it has one, else the
server's default for its scopes (``TIDINGS_RATE_LIMIT_SCOPE_PER_MINUTE``, the highest of its scopes'), else
``TIDINGS_RATE_LIMIT_PER_MINUTE``; a key with the ``unlimited`` scope is never limited. When Redis does not answer, requests are let through (fail open): the limit
protects capacity, while the articles' durability rests on PostgreSQL alone; the event is logged and counted.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.exceptions import RedisError

from shared.api.keys import Scope
from shared.config import settings_getter
from shared.metrics import RATE_LIMIT_UNCHECKED

log = structlog.get_logger(__name__)

# KEYS[1]: the key's counter, KEYS[2]: the key epoch. ARGV: emission interval (ms), burst tolerance (ms).
# Redis' own clock, so several API hosts agree. Returns {allowed, retry_after_ms, remaining, key_epoch}: the
# epoch rides along, so the key cache learns of changes to keys in the same round trip.
_GCRA = """
local epoch = tonumber(redis.call('GET', KEYS[2]) or '0')
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now, 0, epoch}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0, math.floor((now - allow_at) / interval), epoch}
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
    """Checks one request against its key's limit; created once per app, on the app's Redis client."""

    def __init__(self, client: aioredis.Redis, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._client = client
        self._script = client.register_script(_GCRA)

    async def hit(self, key_id: str, per_minute: int | None) -> Decision:
        """Count one request of ``key_id`` against ``per_minute`` (None: not limited, only the key epoch is
        read); one round trip either way."""
        if not self.settings.enabled or per_minute is None:
            return Decision(allowed=True, key_epoch=await self._key_epoch())
        limit = max(1, per_minute)
        interval_ms = 60_000 / limit
        burst = max(1, math.ceil(limit * self.settings.burst_seconds / 60))
        tolerance_ms = interval_ms * burst
        try:
            # A deadline on this task rather than ``wait_for``, which wraps the call in a task of its own.
            async with asyncio.timeout(self.settings.redis_timeout_s):
                allowed, retry_ms, remaining, epoch = await self._script(
                    keys=[f"tidings:ratelimit:{key_id}", KEY_EPOCH], args=[interval_ms, tolerance_ms]
                )
        except (RedisError, OSError, TimeoutError) as exc:
            RATE_LIMIT_UNCHECKED.inc()
            log.warning("rate limit not checked: redis unavailable", error=type(exc).__name__)
            return Decision(allowed=True)
        return Decision(
            allowed=bool(allowed),
            retry_after_s=max(1, math.ceil(int(retry_ms) / 1000)),
            remaining=int(remaining),
            key_epoch=int(epoch),
        )

    async def _key_epoch(self) -> int | None:
        try:
            async with asyncio.timeout(self.settings.redis_timeout_s):
                value = await self._client.get(KEY_EPOCH)
        except (RedisError, OSError, TimeoutError):
            return None
        return int(value or 0)
