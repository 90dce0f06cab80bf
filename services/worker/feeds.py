"""Feed polling. Beat runs ``poll_due`` every few seconds: it claims the feeds whose time has come and hands
each to ``poll``, spaced per host. ``poll`` fetches with a conditional GET, stores new entries as ingestions
(replays fall on the ``(source, external_id)`` index), queues them for the pipeline, adapts the interval and
writes the feed's health record. The tasks are thin wrappers over the plain functions below.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import redis
import structlog
from celery import Celery, Task
from pydantic import ValidationError
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session, sessionmaker

from services.worker.app import app
from services.worker.resources import resources
from shared.api.errors import field_errors
from shared.channels.common import Item
from shared.channels.errors import ChannelError
from shared.channels.feeds import parse_feed
from shared.channels.netguard import UnsafeUrlError, check_url, parse_networks
from shared.channels.polling import failure_delay, next_interval, per_host_share, stagger_by_host
from shared.channels.settings import ChannelSettings, get_channel_settings
from shared.db.models import Feed, FeedPoll
from shared.intake import queue_taken, take_in
from shared.metrics import FEED_LAST_SUCCESS, FEED_POLLS
from shared.retry import parse_retry_after
from shared.schemas.articles import ArticleIn
from shared.tasks import QueueName, TaskName

log = structlog.get_logger(__name__)

_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
_REDIRECTS = {301, 302, 303, 307, 308}
_HOST_SLOT = "tidings:feeds:host:{}"


@dataclass(frozen=True)
class Fetched:
    status: int | None = None
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after_s: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class PollOutcome:
    outcome: str  # fetched, not_modified, failed, gone, deferred, skipped
    new_items: int = 0
    entries: int = 0
    skipped: int = 0
    error: str | None = None


def fetch(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    settings: ChannelSettings,
    client: httpx.Client,
    now: datetime,
) -> Fetched:
    """One conditional GET, following redirects by hand so that every hop is checked against private
    networks, reading at most ``feed_max_bytes`` (after decompression)."""
    allowed = parse_networks(settings.feed_allowed_networks)
    headers = {"Accept": _ACCEPT, "User-Agent": settings.feed_user_agent}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    try:
        for _ in range(settings.feed_max_redirects + 1):
            check_url(current, allowed)
            with client.stream("GET", current, headers=headers) as response:
                if response.status_code in _REDIRECTS and response.headers.get("location"):
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code != 200:
                    return Fetched(
                        status=response.status_code,
                        retry_after_s=parse_retry_after(response.headers.get("retry-after"), now=now),
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > settings.feed_max_bytes:
                        return Fetched(status=200, error=f"the feed is larger than {settings.feed_max_bytes} bytes")
                return Fetched(
                    status=200,
                    body=bytes(body),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
        return Fetched(error=f"more than {settings.feed_max_redirects} redirects")
    except UnsafeUrlError as exc:
        return Fetched(error=f"refused: {exc}")
    except httpx.HTTPError as exc:
        return Fetched(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def claim_due(
    session: Session, *, now: datetime, limit: int, per_host: int, lease_s: float
) -> list[tuple[uuid.UUID, str]]:
    """Take the due feeds (at most ``per_host`` per host) by pushing their next poll out by a lease, so a
    second beat round does not hand them out again while they are queued. Does not commit."""
    rows = session.execute(
        text(
            """
            UPDATE feeds AS f SET next_poll_at = :now + make_interval(secs => :lease), updated_at = now()
            FROM (
                SELECT id FROM (
                    SELECT id, next_poll_at,
                           row_number() OVER (PARTITION BY host ORDER BY next_poll_at) AS place
                    FROM feeds WHERE active AND next_poll_at <= :now
                ) AS due
                WHERE place <= :per_host
                ORDER BY next_poll_at
                LIMIT :limit
            ) AS picked
            WHERE f.id = picked.id AND f.active AND f.next_poll_at <= :now
            RETURNING f.id, f.host
            """
        ),
        {"now": now, "lease": lease_s, "per_host": per_host, "limit": limit},
    ).all()
    return [(r.id, r.host) for r in rows]


def _take_host_slot(client: redis.Redis, host: str, delay_s: float) -> float:
    """0 when this fetch may go ahead (the host's slot is now ours for ``delay_s``), else seconds to wait."""
    if delay_s <= 0:
        return 0.0
    key = _HOST_SLOT.format(host)
    if client.set(key, b"1", nx=True, px=int(delay_s * 1000)):
        return 0.0
    ttl_ms = int(client.pttl(key))
    return max(ttl_ms, 1) / 1000


# Skip reasons kept per poll: enough to see what is wrong with a feed, bounded so a broken feed of thousands of
# entries does not bloat its poll record.
MAX_SKIP_REASONS = 20


def _skip(index: int, ref: object, *, field: str | None, reason: str) -> dict[str, Any]:
    return {
        "index": index,
        "entry": ref[:500] if isinstance(ref, str) else None,
        "field": field,
        "reason": reason[:500],
    }


def _validated(items: list[Item]) -> tuple[list[ArticleIn], list[dict[str, Any]]]:
    """The entries that make articles, and for every other one why it was skipped."""
    valid: list[ArticleIn] = []
    skipped: list[dict[str, Any]] = []
    for item in items:
        if item.data is None:
            skipped.append(_skip(item.index, item.ref, field=item.field, reason=item.error or "unreadable entry"))
            continue
        try:
            valid.append(ArticleIn.model_validate(item.data))
        except ValidationError as exc:
            first = field_errors(exc)[0]
            ref = item.data.get("external_id") or item.data.get("url")
            skipped.append(_skip(item.index, ref, field=first["field"], reason=first["message"]))
    return valid, skipped


def poll_feed(
    sessions: sessionmaker,
    redis_client: redis.Redis,
    settings: ChannelSettings,
    feed_id: uuid.UUID,
    *,
    celery: Celery,
    chunk: int,
    request_id: str | None = None,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> PollOutcome:
    """Poll one feed now; see the module docstring. ``now`` is injectable so tests can move the clock.

    ``request_id`` (by default a fresh one per poll) plays the part an HTTP request's id plays: it is stored
    on the new rows and carried by their tasks, so one poll's articles can be followed through the logs."""
    now = now or datetime.now(UTC)
    request_id = request_id or uuid.uuid4().hex
    with sessions() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.active:
            return PollOutcome(outcome="skipped")
        url, source, host = feed.url, feed.source, feed.host
        etag, last_modified = feed.etag, feed.last_modified
    wait_s = _take_host_slot(redis_client, host, settings.feed_host_delay_s)
    if wait_s:
        with sessions.begin() as session:
            session.execute(
                update(Feed)
                .where(Feed.id == feed_id)
                .values(next_poll_at=now + timedelta(seconds=wait_s), updated_at=now)
            )
        FEED_POLLS.labels(outcome="deferred").inc()
        return PollOutcome(outcome="deferred")

    started = time.perf_counter()
    own_client = client is None
    http = client or httpx.Client(timeout=settings.feed_timeout_s, follow_redirects=False)
    try:
        fetched = fetch(url, etag=etag, last_modified=last_modified, settings=settings, client=http, now=now)
    finally:
        if own_client:
            http.close()

    articles: list[ArticleIn] = []
    entries = 0
    skipped: list[dict[str, Any]] = []
    feed_title = None
    error = fetched.error
    if error is None and fetched.status == 200 and fetched.body is not None:
        try:
            parsed = parse_feed(fetched.body, source=source, url=url)
            feed_title = parsed.title
            entries = len(parsed.items)
            articles, skipped = _validated(parsed.items)
        except ChannelError as exc:
            error = f"not a readable feed: {exc.message}"
    elif error is None and fetched.status not in (200, 304):
        error = f"HTTP {fetched.status}"

    with sessions.begin() as session:
        feed = session.get(Feed, feed_id, with_for_update=True)
        if feed is None:
            return PollOutcome(outcome="skipped")
        taken = take_in(session, articles=articles if error is None else [], channel="feed", request_id=request_id)
        new_ids = taken.fresh
        outcome = _record(feed, settings, fetched=fetched, error=error, new_items=len(new_ids), now=now)
        if feed_title and not feed.title:
            feed.title = feed_title
        session.add(
            FeedPoll(
                feed_id=feed_id,
                polled_at=now,
                outcome=outcome,
                http_status=fetched.status,
                entries=entries,
                new_items=len(new_ids),
                skipped=len(skipped),
                skip_reasons=skipped[:MAX_SKIP_REASONS],
                duration_ms=int((time.perf_counter() - started) * 1000),
                error=error,
            )
        )
    FEED_POLLS.labels(outcome=outcome).inc()
    if new_ids:
        FEED_LAST_SUCCESS.labels(feed=str(feed_id)).set(now.timestamp())
    queue_taken(celery, taken, chunk=chunk)
    log.info(
        "feed polled", feed_id=str(feed_id), outcome=outcome, new_items=len(new_ids), error=error, request_id=request_id
    )
    return PollOutcome(outcome=outcome, new_items=len(new_ids), entries=entries, skipped=len(skipped), error=error)


def _record(
    feed: Feed, settings: ChannelSettings, *, fetched: Fetched, error: str | None, new_items: int, now: datetime
) -> str:
    """Apply one poll's result to the feed row: schedule, validators and health. Returns the outcome."""
    min_s = feed.min_interval_s or settings.feed_min_interval_s
    max_s = feed.max_interval_s or settings.feed_max_interval_s
    feed.last_polled_at = now
    feed.last_status = fetched.status
    feed.updated_at = now
    if error is None:
        feed.last_success_at = now
        feed.last_error = None
        feed.consecutive_failures = 0
        if fetched.status == 200:
            feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        if new_items:
            feed.last_new_item_at = now
            feed.items_total += new_items
        feed.interval_s = round(next_interval(feed.interval_s, new_items=new_items, min_s=min_s, max_s=max_s))
        feed.next_poll_at = now + timedelta(seconds=feed.interval_s)
        return "fetched" if fetched.status == 200 else "not_modified"

    feed.consecutive_failures += 1
    feed.last_error = error[:2000]
    if fetched.status == 410:
        feed.active = False
        feed.last_error = "410 Gone: the publisher removed the feed; polling stopped"
        return "gone"
    if feed.consecutive_failures >= settings.feed_dead_after_failures:
        feed.active = False
        feed.last_error = f"gave up after {feed.consecutive_failures} consecutive failures; last: {error}"[:2000]
        return "failed"
    delay = failure_delay(feed.interval_s, failures=feed.consecutive_failures, max_s=max_s)
    if fetched.retry_after_s is not None:  # the publisher asked for a pause: honour it, within the bound
        delay = min(max(delay, fetched.retry_after_s), max_s)
    feed.next_poll_at = now + timedelta(seconds=delay)
    return "failed"


def prune_polls(session: Session, *, now: datetime, keep_days: int) -> None:
    session.execute(delete(FeedPoll).where(FeedPoll.polled_at < now - timedelta(days=keep_days)))


@app.task(name=TaskName.POLL_DUE_FEEDS, queue=QueueName.FEEDS)
def poll_due_feeds_task() -> dict[str, int]:
    res, settings = resources(), get_channel_settings()
    now = datetime.now(UTC)
    lease_s = settings.feed_schedule_s + 3 * settings.feed_timeout_s + 60
    with res.sessions.begin() as session:
        claimed = claim_due(
            session,
            now=now,
            limit=settings.feed_due_batch,
            per_host=per_host_share(settings.feed_schedule_s, settings.feed_host_delay_s),
            lease_s=lease_s,
        )
        prune_polls(session, now=now, keep_days=settings.feed_poll_history_days)
    for feed_id, countdown in stagger_by_host(claimed, settings.feed_host_delay_s):
        poll_feed_task.apply_async(args=[str(feed_id)], countdown=countdown, expires=lease_s)
    return {"claimed": len(claimed)}


@app.task(name=TaskName.POLL_FEED, queue=QueueName.FEEDS, bind=True)
def poll_feed_task(self: Task, feed_id: str) -> dict[str, Any]:
    res = resources()
    outcome = poll_feed(
        res.sessions,
        res.redis,
        get_channel_settings(),
        uuid.UUID(feed_id),
        celery=app,
        chunk=res.settings.ingest.task_chunk_size,
        request_id=self.request.id,
    )
    return {"outcome": outcome.outcome, "new_items": outcome.new_items, "error": outcome.error}
