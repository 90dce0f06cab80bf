"""The rate limiter on a real Redis: the checks of one key that arrive together share one script call, and
that call decides them exactly as one call each would."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from shared.api.ratelimit import KEY_EPOCH, Decision, RateLimiter, RateLimitSettings, keys_changed

if TYPE_CHECKING:
    from tests.conftest import TestInfra

# 60 a minute with 10 s of burst: ten requests at once, then one a second.
SETTINGS = RateLimitSettings(enabled=True, per_minute=60, burst_seconds=10.0)


class _CountedScript:
    """The limiter's real script, counting its calls (the round trips)."""

    def __init__(self, script: Any) -> None:
        self.script = script
        self.calls: list[int] = []

    async def __call__(self, *, keys: list[str], args: list[float]) -> Any:
        self.calls.append(int(args[2]))
        return await self.script(keys=keys, args=args)


def _run(test_infra: TestInfra, body: Any) -> Any:
    async def go() -> Any:
        client = aioredis.Redis.from_url(test_infra.redis_url)
        try:
            limiter = RateLimiter(client, SETTINGS)
            counted = _CountedScript(limiter._script)
            limiter._script = counted  # type: ignore[assignment]
            return await body(limiter, counted, client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_concurrent_checks_of_one_key_are_one_call_and_limit_exactly(test_infra: TestInfra) -> None:
    key = str(uuid.uuid4())

    async def body(limiter: RateLimiter, counted: _CountedScript, _: aioredis.Redis) -> list[Decision]:
        return list(await asyncio.gather(*(limiter.hit(key, 60) for _ in range(40))))

    decisions = _run(test_infra, body)
    allowed = [d for d in decisions if d.allowed]
    # The burst and not one more, in arrival order, each with the allowance it leaves.
    assert [d.allowed for d in decisions] == [True] * 10 + [False] * 30
    assert [d.remaining for d in allowed] == list(range(9, -1, -1))
    assert all(d.retry_after_s >= 1 for d in decisions if not d.allowed)


def test_one_call_decides_what_one_call_each_decides(test_infra: TestInfra) -> None:
    together, one_by_one = str(uuid.uuid4()), str(uuid.uuid4())

    async def body(limiter: RateLimiter, counted: _CountedScript, _: aioredis.Redis) -> tuple[Any, ...]:
        merged = await asyncio.gather(*(limiter.hit(together, 60) for _ in range(15)))
        calls_merged = list(counted.calls)
        alone = [await limiter.hit(one_by_one, 60) for _ in range(15)]
        return merged, calls_merged, alone, counted.calls[len(calls_merged) :]

    merged, calls_merged, alone, calls_alone = _run(test_infra, body)
    assert calls_merged == [15]  # one round trip for the fifteen
    assert calls_alone == [1] * 15
    assert [d.allowed for d in merged] == [d.allowed for d in alone] == [True] * 10 + [False] * 5
    assert [d.remaining for d in merged] == [d.remaining for d in alone]


def test_keys_checked_together_are_counted_apart(test_infra: TestInfra) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    async def body(limiter: RateLimiter, counted: _CountedScript, _: aioredis.Redis) -> tuple[Any, ...]:
        decisions = await asyncio.gather(*(limiter.hit(k, 60) for _ in range(8) for k in (first, second)))
        return decisions, counted.calls

    decisions, calls = _run(test_infra, body)
    assert sorted(calls) == [8, 8]
    assert all(d.allowed for d in decisions)


def test_unlimited_keys_share_one_epoch_read_and_see_a_change(test_infra: TestInfra) -> None:
    async def body(limiter: RateLimiter, counted: _CountedScript, client: aioredis.Redis) -> tuple[Any, ...]:
        before = await asyncio.gather(*(limiter.hit(str(uuid.uuid4()), None) for _ in range(5)))
        await keys_changed(client)
        after = await asyncio.gather(*(limiter.hit(str(uuid.uuid4()), None) for _ in range(5)))
        return before, after, int(await client.get(KEY_EPOCH) or 0), counted.calls

    before, after, epoch, calls = _run(test_infra, body)
    assert calls == []  # no key was counted
    assert all(d.allowed for d in before + after)
    assert {d.key_epoch for d in before} == {epoch - 1}
    assert {d.key_epoch for d in after} == {epoch}


def test_checks_pass_unchecked_when_redis_does_not_answer() -> None:
    async def go() -> list[Decision]:
        # A port nothing listens on: the limiter fails open for every request it gathered.
        client = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
        try:
            limiter = RateLimiter(client, SETTINGS)
            return list(await asyncio.gather(*(limiter.hit("k", 60) for _ in range(5))))
        finally:
            await client.aclose()

    decisions = asyncio.run(go())
    assert decisions == [Decision(allowed=True)] * 5
