"""``/v1/feeds``: register RSS/Atom feeds for polling, and read their health.

A feed URL must be http(s) and resolve to public addresses only (no loopback, private, link-local or cloud
metadata addresses), unless the network is allow-listed in ``TIDINGS_CHANNELS_FEED_ALLOWED_NETWORKS``; the
poller checks again on every fetch and redirect. The first poll is due at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingest.authority import require_sources
from services.ingest.deps import PrincipalDep, SessionDep
from shared.api.errors import ApiError
from shared.channels.netguard import UnsafeUrlError, check_url, parse_networks
from shared.channels.polling import HealthInput, clamp, gone_quiet, health_status, items_per_day
from shared.channels.settings import ChannelSettings, get_channel_settings
from shared.db.models import Feed, FeedPoll, Source
from shared.ids import uuid7
from shared.schemas.errors import error_responses
from shared.schemas.feeds import FeedHealth, FeedIn, FeedOut, FeedPage, FeedPatch, FeedPollOut

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])

RATE_WINDOW = timedelta(days=7)


def _bounds(feed_min: int | None, feed_max: int | None, settings: ChannelSettings) -> tuple[int, int]:
    low = feed_min or settings.feed_min_interval_s
    high = feed_max or settings.feed_max_interval_s
    if low > high:
        raise ApiError(422, f"min_interval_s ({low}) exceeds max_interval_s ({high})", field="min_interval_s")
    return low, high


async def _checked_host(url: str, settings: ChannelSettings) -> str:
    try:
        return await anyio.to_thread.run_sync(partial(check_url, url, parse_networks(settings.feed_allowed_networks)))
    except UnsafeUrlError as exc:
        raise ApiError(422, str(exc), code="url_refused", field="url") from exc


async def _rates(session: AsyncSession, feed_ids: list[uuid.UUID], since: datetime) -> dict[uuid.UUID, int]:
    """New items per feed since ``since``, in one query."""
    if not feed_ids:
        return {}
    rows = await session.execute(
        select(FeedPoll.feed_id, func.sum(FeedPoll.new_items))
        .where(FeedPoll.feed_id.in_(feed_ids), FeedPoll.polled_at >= since)
        .group_by(FeedPoll.feed_id)
    )
    return {feed_id: int(total or 0) for feed_id, total in rows}


def _out(feed: Feed, new_in_window: int, now: datetime, settings: ChannelSettings, polls: Any = None) -> FeedOut:
    h = HealthInput(
        active=feed.active,
        created_at=feed.created_at,
        last_polled_at=feed.last_polled_at,
        last_success_at=feed.last_success_at,
        last_new_item_at=feed.last_new_item_at,
        consecutive_failures=feed.consecutive_failures,
    )
    quiet_after = timedelta(seconds=settings.feed_quiet_after_s)
    return FeedOut(
        id=feed.id,
        url=feed.url,
        source=feed.source,
        title=feed.title,
        active=feed.active,
        created_at=feed.created_at,
        health=FeedHealth(
            status=health_status(h, now=now, quiet_after=quiet_after),
            gone_quiet=feed.active and gone_quiet(h, now=now, quiet_after=quiet_after),
            last_polled_at=feed.last_polled_at,
            last_success_at=feed.last_success_at,
            last_new_item_at=feed.last_new_item_at,
            consecutive_failures=feed.consecutive_failures,
            last_status=feed.last_status,
            last_error=feed.last_error,
            items_per_day=items_per_day(
                new_in_window, window_start=now - RATE_WINDOW, created_at=feed.created_at, now=now
            ),
            items_total=feed.items_total,
            interval_s=feed.interval_s,
            next_poll_at=feed.next_poll_at,
        ),
        recent_polls=polls,
    )


async def _now(session: AsyncSession) -> datetime:
    now: datetime = await session.scalar(select(func.now()))  # type: ignore[assignment]
    return now


async def _feed_out(session: AsyncSession, feed: Feed, *, with_polls: bool) -> FeedOut:
    settings, now = get_channel_settings(), await _now(session)
    rates = await _rates(session, [feed.id], now - RATE_WINDOW)
    polls = None
    if with_polls:
        recent = await session.scalars(
            select(FeedPoll).where(FeedPoll.feed_id == feed.id).order_by(FeedPoll.polled_at.desc()).limit(20)
        )
        polls = [
            FeedPollOut(
                polled_at=p.polled_at,
                outcome=p.outcome,
                http_status=p.http_status,
                entries=p.entries,
                new_items=p.new_items,
                skipped=p.skipped,
                skip_reasons=p.skip_reasons,
                duration_ms=p.duration_ms,
                error=p.error,
            )
            for p in recent
        ]
    return _out(feed, rates.get(feed.id, 0), now, settings, polls)


async def _get(session: AsyncSession, feed_id: uuid.UUID, *, lock: bool = False) -> Feed:
    stmt = select(Feed).where(Feed.id == feed_id)
    feed = await session.scalar(stmt.with_for_update() if lock else stmt)
    if feed is None:
        raise ApiError(404, f"no feed {feed_id}", field="feed_id")
    return feed


@router.post(
    "",
    status_code=201,
    response_model=FeedOut,
    summary="Register an RSS or Atom feed; its first poll is due at once",
    responses=error_responses(403, 409, 422),
)
async def create_feed(body: FeedIn, session: SessionDep, principal: PrincipalDep) -> FeedOut:
    settings = get_channel_settings()
    url = body.url.strip()
    host = await _checked_host(url, settings)
    low, high = _bounds(body.min_interval_s, body.max_interval_s, settings)
    source = body.source or host.removeprefix("www.")
    # The poller writes as the feed's source: registering a feed is writing to it.
    await require_sources(session, principal, [source])
    await session.execute(
        insert(Source).values(id=uuid7(), name=source).on_conflict_do_nothing(index_elements=["name"])
    )
    feed_id = await session.scalar(
        insert(Feed)
        .values(
            id=uuid7(),
            url=url,
            source=source,
            host=host.lower(),
            title=body.title,
            interval_s=round(clamp(settings.feed_initial_interval_s, low, high)),
            min_interval_s=body.min_interval_s,
            max_interval_s=body.max_interval_s,
        )
        .on_conflict_do_nothing(index_elements=["url"])
        .returning(Feed.id)
    )
    if feed_id is None:
        existing = await session.scalar(select(Feed.id).where(Feed.url == url))
        raise ApiError(
            409,
            "this feed is registered already",
            code="feed_exists",
            details=[{"field": "url", "message": f"registered as feed {existing}"}],
        )
    feed = await _get(session, feed_id)
    out = await _feed_out(session, feed, with_polls=False)
    await session.commit()
    return out


@router.get(
    "",
    response_model=FeedPage,
    summary="Registered feeds with their health, oldest first",
    responses=error_responses(400),
)
async def list_feeds(
    session: SessionDep,
    source: Annotated[str | None, Query(max_length=200)] = None,
    active: bool | None = None,
    after: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FeedPage:
    stmt = select(Feed)
    if source is not None:
        stmt = stmt.where(Feed.source == source)
    if active is not None:
        stmt = stmt.where(Feed.active.is_(active))
    if after is not None:
        stmt = stmt.where(Feed.id > after)
    feeds = list(await session.scalars(stmt.order_by(Feed.id).limit(limit + 1)))
    more = len(feeds) > limit
    feeds = feeds[:limit]
    settings, now = get_channel_settings(), await _now(session)
    rates = await _rates(session, [f.id for f in feeds], now - RATE_WINDOW)
    return FeedPage(
        items=[_out(f, rates.get(f.id, 0), now, settings) for f in feeds],
        next_after=feeds[-1].id if more else None,
    )


@router.get(
    "/{feed_id}",
    response_model=FeedOut,
    summary="One feed, its health and its last polls",
    responses=error_responses(400, 404),
)
async def get_feed(feed_id: uuid.UUID, session: SessionDep) -> FeedOut:
    return await _feed_out(session, await _get(session, feed_id), with_polls=True)


@router.patch(
    "/{feed_id}",
    response_model=FeedOut,
    summary="Pause, revive or re-bound a feed (keys that may write to its source)",
    responses=error_responses(400, 403, 404, 422),
)
async def patch_feed(feed_id: uuid.UUID, body: FeedPatch, session: SessionDep, principal: PrincipalDep) -> FeedOut:
    feed = await _get(session, feed_id, lock=True)
    # Managing a feed is writing to its source: the same keys that may register it.
    await require_sources(session, principal, [feed.source])
    changes = body.model_dump(exclude_unset=True)
    if "active" in changes and changes["active"] is None:
        raise ApiError(422, "active must be true or false", field="active")
    settings, now = get_channel_settings(), await _now(session)
    low, high = _bounds(
        changes.get("min_interval_s", feed.min_interval_s), changes.get("max_interval_s", feed.max_interval_s), settings
    )
    if changes.get("active") and not feed.active:
        # Revived: start afresh, polling at once.
        feed.consecutive_failures = 0
        feed.last_error = None
        feed.next_poll_at = now
    for field, value in changes.items():
        setattr(feed, field, value)
    feed.interval_s = round(clamp(feed.interval_s, low, high))
    feed.updated_at = now
    await session.flush()
    out = await _feed_out(session, feed, with_polls=True)
    await session.commit()
    return out


@router.delete(
    "/{feed_id}",
    status_code=204,
    summary="Stop polling a feed and forget it (keys that may write to its source)",
    responses=error_responses(400, 403, 404),
)
async def delete_feed(feed_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    feed = await _get(session, feed_id)
    await require_sources(session, principal, [feed.source])
    await session.delete(feed)
    await session.commit()
    return Response(status_code=204)
