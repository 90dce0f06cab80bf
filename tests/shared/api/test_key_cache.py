"""The per-process key cache: requests that miss on the same key at the same moment share one look-up."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest

from shared.api.auth import KeyCache, Principal

PRINCIPAL = Principal(key_id=uuid.uuid4(), name="producer", scopes=frozenset({"ingest"}))


def test_concurrent_misses_on_one_key_share_one_look_up() -> None:
    cache = KeyCache(ttl_s=5.0)
    calls: list[bytes] = []

    async def go() -> list[tuple[Principal, datetime | None] | None]:
        release = asyncio.Event()

        async def lookup() -> tuple[Principal, datetime | None]:
            calls.append(b"k")
            await release.wait()  # every caller asks while this one is still running
            return PRINCIPAL, None

        async def answer() -> None:
            release.set()

        # gather starts its tasks in order: all 32 reach the cache before the look-up is let answer.
        *answers, _ = await asyncio.gather(*(cache.load(b"k", lookup) for _ in range(32)), answer())
        return answers

    answers = asyncio.run(go())
    assert calls == [b"k"]
    assert answers == [(PRINCIPAL, None)] * 32


def test_a_caller_going_away_does_not_cancel_the_others_look_up() -> None:
    cache = KeyCache(ttl_s=5.0)

    async def go() -> tuple[Principal, datetime | None] | None:
        started, release = asyncio.Event(), asyncio.Event()

        async def lookup() -> tuple[Principal, datetime | None]:
            started.set()
            await release.wait()
            return PRINCIPAL, None

        first = asyncio.create_task(cache.load(b"k", lookup))
        second = asyncio.create_task(cache.load(b"k", lookup))
        await started.wait()  # both callers are waiting on the one look-up by now
        first.cancel()  # its client disconnected
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert asyncio.run(go()) == (PRINCIPAL, None)


def test_a_finished_look_up_is_not_reused_for_the_next_miss() -> None:
    """Once answered, the look-up is forgotten: a later miss (a lapsed entry, a revoked key) reads again."""
    cache = KeyCache(ttl_s=5.0)
    answers: list[tuple[Principal, datetime | None] | None] = [(PRINCIPAL, None), None]

    async def lookup() -> tuple[Principal, datetime | None] | None:
        return answers.pop(0)

    async def go() -> list[tuple[Principal, datetime | None] | None]:
        return [await cache.load(b"k", lookup), await cache.load(b"k", lookup)]

    assert asyncio.run(go()) == [(PRINCIPAL, None), None]
