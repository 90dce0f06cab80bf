"""Reading events: the newest or largest of a time window and one event with its members, each with its
copy clusters, sources and top entities and places, fetched for a whole page in a few statements."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ARRAY, Text, func, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.cursor import decode_cursor, decode_key, encode_cursor
from services.query.schemas import EventCluster, EventDetail, EventMember, EventOut, EventPage, EventSource, EventTag
from services.query.search import id_in
from shared.api.errors import ApiError
from shared.db.models import Article, ArticleTag, Event, EventDecision
from shared.search.filters import live_conditions
from shared.tagging.vocabulary import PLACE, vocabulary

EventSort = Literal["newest", "largest"]
_LISTED = 10  # clusters and sources per event in a listing
_TOP_TAGS = 5


async def _summaries(session: AsyncSession, events: list[Event], *, include_withdrawn: bool) -> list[EventOut]:
    live = live_conditions(include_withdrawn=include_withdrawn)
    ids = [e.id for e in events]
    if not ids:
        return []
    clusters: dict[uuid.UUID | None, list[EventCluster]] = defaultdict(list)
    first_title = func.array_agg(
        aggregate_order_by(Article.title, Article.published_at, Article.id), type_=ARRAY(Text)
    )[1]
    rows = await session.execute(
        select(Article.event_id, Article.cluster_id, func.count(), func.min(Article.published_at), first_title)
        .where(id_in(Article.event_id, ids), *live)
        .group_by(Article.event_id, Article.cluster_id)
    )
    for event_id, cluster_id, n, first, titled in rows:
        clusters[event_id].append(EventCluster(id=cluster_id, size=n, title=titled, first_published_at=first))
    sources: dict[uuid.UUID | None, list[EventSource]] = defaultdict(list)
    for event_id, source, n in await session.execute(
        select(Article.event_id, Article.source, func.count())
        .where(id_in(Article.event_id, ids), *live)
        .group_by(Article.event_id, Article.source)
    ):
        sources[event_id].append(EventSource(source=source, articles=n))
    tags: dict[uuid.UUID | None, list[EventTag]] = defaultdict(list)
    for event_id, kind, value, name, n in await session.execute(
        select(Article.event_id, ArticleTag.kind, ArticleTag.value, func.min(ArticleTag.name), func.count())
        .join(ArticleTag, ArticleTag.article_id == Article.id)
        .where(id_in(Article.event_id, ids), ArticleTag.kind.in_(vocabulary().entity_kinds), *live)
        .group_by(Article.event_id, ArticleTag.kind, ArticleTag.value)
    ):
        tags[event_id].append(EventTag(kind=kind, value=value, name=name, articles=n))
    out = []
    for e in events:
        cs = sorted(clusters[e.id], key=lambda c: (-c.size, c.first_published_at, str(c.id)))
        ts = sorted(tags[e.id], key=lambda t: (-t.articles, t.kind, t.value))
        out.append(
            EventOut(
                id=e.id,
                size=e.size,
                cluster_count=e.cluster_count,
                source_count=e.source_count,
                first_seen=e.first_published_at,
                last_seen=e.last_published_at,
                title=cs[0].title if cs else None,
                clusters=cs[:_LISTED],
                sources=sorted(sources[e.id], key=lambda s: (-s.articles, s.source))[:_LISTED],
                entities=[t for t in ts if t.kind != PLACE.name][:_TOP_TAGS],
                places=[t for t in ts if t.kind == PLACE.name][:_TOP_TAGS],
                merged_into=e.merged_into,
            )
        )
    return out


def _sort_key(e: Event, sort: EventSort) -> list[Any]:
    last = e.last_published_at.isoformat() if e.last_published_at else None
    return [last, str(e.id)] if sort == "newest" else [e.size, last, str(e.id)]


async def list_events(
    session: AsyncSession,
    *,
    date_from: datetime,
    date_to: datetime,
    sort: EventSort,
    min_size: int,
    cursor: str | None,
    limit: int,
    include_withdrawn: bool = False,
) -> EventPage:
    """Events whose span overlaps the window, newest (latest article) or largest first, keyset-paginated.
    Without ``include_withdrawn`` their clusters, sources, entities and places leave withdrawn articles out
    (the stored size and counts are of every article)."""
    window = f"{date_from.isoformat()}/{date_to.isoformat()}/{min_size}/{sort}"
    stmt = select(Event).where(
        Event.size >= max(min_size, 1),
        Event.last_published_at >= date_from,
        Event.first_published_at < date_to,
    )
    order: tuple[Any, ...] = (
        (Event.last_published_at, Event.id) if sort == "newest" else (Event.size, Event.last_published_at, Event.id)
    )
    if cursor:
        state = decode_cursor(cursor, required=("w", "k"))
        if state["w"] != window:
            raise ApiError(400, "invalid cursor: it belongs to another window or order", field="cursor")
        parts = ("int", "moment", "uuid") if sort == "largest" else ("moment", "uuid")
        stmt = stmt.where(tuple_(*order) < tuple_(*decode_key(state["k"], *parts)))
    stmt = stmt.order_by(*(c.desc() for c in order)).limit(limit + 1)
    events = list((await session.scalars(stmt)).all())
    has_more = len(events) > limit
    events = events[:limit]
    next_cursor = encode_cursor({"w": window, "k": _sort_key(events[-1], sort)}) if has_more else None
    return EventPage(
        items=await _summaries(session, events, include_withdrawn=include_withdrawn), next_cursor=next_cursor
    )


async def event_detail(
    session: AsyncSession, event_id: uuid.UUID, *, limit: int, include_withdrawn: bool = False
) -> EventDetail | None:
    """The event with its members; without ``include_withdrawn`` the withdrawn ones are left out."""
    event = await session.get(Event, event_id)
    if event is None:
        return None
    (summary,) = await _summaries(session, [event], include_withdrawn=include_withdrawn)
    rows = (
        await session.execute(
            select(
                Article.id,
                Article.title,
                Article.source,
                Article.url,
                Article.published_at,
                Article.cluster_id,
                Article.is_canonical,
                EventDecision.rule,
                EventDecision.matched_id,
                EventDecision.score,
                EventDecision.text_similarity,
                EventDecision.shared_entities,
            )
            .outerjoin(EventDecision, EventDecision.article_id == Article.id)
            .where(Article.event_id == event_id, *live_conditions(include_withdrawn=include_withdrawn))
            .order_by(Article.published_at, Article.id)
            .limit(limit + 1)
        )
    ).all()
    members = [
        EventMember(
            id=r.id,
            title=r.title,
            source=r.source,
            url=r.url,
            published_at=r.published_at,
            cluster_id=r.cluster_id,
            is_canonical=r.is_canonical,
            rule=r.rule,
            matched_id=r.matched_id,
            score=r.score,
            text_similarity=r.text_similarity,
            shared_entities=list(r.shared_entities or []),
        )
        for r in rows[:limit]
    ]
    return EventDetail(**summary.model_dump(), members=members, members_truncated=len(rows) > limit)
