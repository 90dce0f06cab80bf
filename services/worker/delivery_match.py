"""Match newly processed articles against the saved searches, and write the deliveries to send.

The worker appends each processed article to a Redis stream after its commit; this matcher reads it through a
consumer group, so every entry is handled by one matcher even with many workers, and an entry a dead matcher
read is claimed again after ``claim_idle_s``. Per batch of entries: one statement matches every active search
against the batch's articles (a UNION ALL of one filtered SELECT per search); the new pairs go into
``saved_search_matches`` with ``ON CONFLICT DO NOTHING``, whose RETURNING gives exactly the pairs never matched
before (a replayed entry or a re-processed article is not delivered twice); the deliveries are written in the
same transaction, and only after the commit are the entries acknowledged and the send tasks queued. A crash in
between leaves pending deliveries that the stale-pending sweep queues again.

Only articles processed after a search was saved are delivered to it. A match is keyed by the article's
revision too: a revised article that (still) matches is delivered again, in a message of type
``article.revised``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import structlog
from pydantic import ValidationError
from sqlalchemy import literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from services.worker.events import STREAM
from shared.config import get_settings
from shared.dates import STORED
from shared.db.models import Article, Delivery, DeliveryStatus, SavedSearch, SavedSearchMatch
from shared.delivery.messages import EVENT_TYPE, message_body
from shared.delivery.settings import DeliverySettings
from shared.ids import uuid7
from shared.revisions import EVENT_REVISED
from shared.search.filters import SearchFilters, conditions

log = structlog.get_logger(__name__)

SEARCHES_PER_STATEMENT = 200


@dataclass
class MatchOutcome:
    entries: int = 0
    matched: int = 0
    deliveries: list[uuid.UUID] = field(default_factory=list)
    requeued: list[uuid.UUID] = field(default_factory=list)


def ensure_group(client: redis.Redis, group: str) -> None:
    """Create the consumer group (and the stream) once; entries already in the stream are read too, and
    filtered by each search's creation time."""
    try:
        client.xgroup_create(STREAM, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _read(client: redis.Redis, settings: DeliverySettings, consumer: str) -> list[tuple[str, str | None]]:
    """(entry id, article id) pairs: first entries other matchers left unacknowledged, then new ones."""
    claimed: Any = client.xautoclaim(
        STREAM,
        settings.consumer_group,
        consumer,
        min_idle_time=settings.claim_idle_s * 1000,
        count=settings.match_batch,
    )
    batch = list(claimed[1]) if claimed else []
    if len(batch) < settings.match_batch:
        fresh: Any = client.xreadgroup(
            settings.consumer_group, consumer, {STREAM: ">"}, count=settings.match_batch - len(batch)
        )
        for _, entries in fresh or []:
            batch.extend(entries)
    out = []
    for entry_id, fields in batch:
        raw = (fields or {}).get(b"id")
        out.append((_text(entry_id), _text(raw) if raw else None))
    return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _article_ids(pairs: Sequence[tuple[str, str | None]]) -> list[uuid.UUID]:
    ids = []
    for _, raw in pairs:
        try:
            ids.append(uuid.UUID(raw or ""))
        except ValueError:
            continue  # a malformed entry is acknowledged and dropped, never retried forever
    return list(dict.fromkeys(ids))


def _matches(
    session: Session, searches: Sequence[SavedSearch], ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """(search, article, the article's current revision) for every match."""
    pairs: list[tuple[uuid.UUID, uuid.UUID, int]] = []
    for start in range(0, len(searches), SEARCHES_PER_STATEMENT):
        selects = []
        for s in searches[start : start + SEARCHES_PER_STATEMENT]:
            try:
                filters = SearchFilters.model_validate(s.filters, context=STORED)
            except ValidationError as exc:
                # One definition that no longer reads (a filter whose meaning changed) must not stall the
                # deliveries of every other search: it is skipped, loudly.
                log.error("saved search filters do not validate", saved_search_id=str(s.id), error=str(exc))
                continue
            selects.append(
                select(literal(s.id).label("saved_search_id"), Article.id.label("article_id"), Article.revision).where(
                    Article.id.in_(ids), Article.processed_at >= s.created_at, *conditions(filters)
                )
            )
        if selects:
            pairs += [(r.saved_search_id, r.article_id, r.revision) for r in session.execute(union_all(*selects))]
    return pairs


def _summaries(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = session.execute(
        select(
            Article.id, Article.title, Article.summary, Article.url, Article.source, Article.language,
            Article.published_at, Article.cluster_id, Article.is_canonical, Article.revision,
        ).where(Article.id.in_(ids))
    )  # fmt: skip
    ingest = get_settings().ingest  # subscribers follow the link from outside: the query service's address
    return {
        r.id: {
            "id": str(r.id),
            "title": r.title,
            "summary": r.summary,
            "url": r.url,
            "source": r.source,
            "language": r.language,
            "published_at": r.published_at.isoformat(),
            "cluster_id": str(r.cluster_id) if r.cluster_id else None,
            "is_canonical": r.is_canonical,
            "revision": r.revision,
            "article_url": ingest.query_article_url(r.id),
        }
        for r in rows
    }


def create_deliveries(
    session: Session, settings: DeliverySettings, ids: Sequence[uuid.UUID]
) -> tuple[int, list[uuid.UUID]]:
    """Match ``ids`` against the active searches; write the new matches and their deliveries. No commit."""
    searches = list(
        session.scalars(select(SavedSearch).where(SavedSearch.active.is_(True), SavedSearch.webhook_url.is_not(None)))
    )
    if not searches or not ids:
        return 0, []
    pairs = _matches(session, searches, ids)
    if not pairs:
        return 0, []
    fresh = session.execute(
        insert(SavedSearchMatch)
        .values([{"saved_search_id": s, "article_id": a, "revision": r} for s, a, r in pairs])
        .on_conflict_do_nothing()
        .returning(SavedSearchMatch.saved_search_id, SavedSearchMatch.article_id, SavedSearchMatch.revision)
    ).all()
    # A first match and a revision of an article matched (or not) before go in messages of their own type.
    by_search: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = defaultdict(list)
    for s, a, r in fresh:
        by_search[(s, EVENT_REVISED if r > 1 else EVENT_TYPE)].append(a)
    summaries = _summaries(session, [a for _, a, _ in fresh])
    names = {s.id: s.name for s in searches}
    now = datetime.now(UTC)
    created = []
    for (search_id, kind), article_ids in by_search.items():
        article_ids.sort(key=lambda a: summaries.get(a, {}).get("published_at", ""))
        for start in range(0, len(article_ids), settings.max_articles_per_delivery):
            chunk = article_ids[start : start + settings.max_articles_per_delivery]
            delivery_id = uuid7()
            body = message_body(
                saved_search={"id": str(search_id), "name": names[search_id]},
                articles=[summaries[a] for a in chunk if a in summaries],
                at=now,
                kind=kind,
            )
            session.add(
                Delivery(
                    id=delivery_id,
                    saved_search_id=search_id,
                    article_ids=chunk,
                    body=body,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=now,
                )
            )
            created.append(delivery_id)
    session.flush()
    return len(fresh), created


def stale_pending(session: Session, settings: DeliverySettings) -> list[uuid.UUID]:
    """Pending deliveries whose task was lost (Redis restarted, a worker died mid-send): due again now."""
    cutoff = datetime.now(UTC) - timedelta(seconds=settings.stale_pending_s)
    rows = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at < cutoff)
        .values(next_attempt_at=datetime.now(UTC))
        .returning(Delivery.id)
    )
    return [r.id for r in rows]


def match_once(
    sessions: sessionmaker, client: redis.Redis, settings: DeliverySettings, *, consumer: str
) -> MatchOutcome:
    """One batch: read, match, write, commit, then acknowledge. The caller queues the send tasks."""
    ensure_group(client, settings.consumer_group)
    outcome = MatchOutcome()
    entries = _read(client, settings, consumer)
    outcome.entries = len(entries)
    if entries:
        with sessions.begin() as session:
            outcome.matched, outcome.deliveries = create_deliveries(session, settings, _article_ids(entries))
        client.xack(STREAM, settings.consumer_group, *[entry_id for entry_id, _ in entries])
    with sessions.begin() as session:
        outcome.requeued = stale_pending(session, settings)
    if outcome.matched or outcome.requeued:
        log.info(
            "saved searches matched",
            entries=outcome.entries,
            matched=outcome.matched,
            deliveries=len(outcome.deliveries),
            requeued=len(outcome.requeued),
        )
    return outcome
