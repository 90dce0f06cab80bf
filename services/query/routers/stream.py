"""``/v1/stream``: Server-Sent Events of newly processed articles that match a search.

The worker appends each processed article's id to a Redis stream after its transaction commits. Each client
reads that stream from its own position with ``XREAD BLOCK`` (no consumer group: every client sees every
entry), checks the batch's ids against its filters in one query, and receives an ``article`` event per match
whose SSE ``id`` is the stream entry id. A client that reconnects with ``Last-Event-ID`` resumes right after
that entry; entries that did not match still advance the id (an event with an id and no data), so a resumed
client does not re-read them. If the stream was trimmed past the client's position, a ``gap`` event says so
before the replay continues from the oldest entry kept.

An entry may say that it is a revision or a withdrawal (field ``type``: ``article.revised`` or
``article.withdrawn``, with ``revision``): the client gets that event instead of ``article``. Withdrawn
articles match only their withdrawal (or everything, with ``include_withdrawn=true``).

An entry may also say that its article founded an event or joined one (fields ``event``, ``event_id``):
the client then gets an ``event.created`` or ``event.grew`` event right after the article's, with the same
SSE id (both come from one entry, so a resumed client never gets one without the other).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Header, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select, true

from services.query.deps import QuerySettingsDep, RedisDep
from services.query.params import FiltersDep
from services.query.search import ITEM_COLUMNS, tags_json, to_item
from shared.api.errors import ApiError
from shared.db.models import Article
from shared.revisions import EVENT_REVISED, EVENT_WITHDRAWN
from shared.search.filters import conditions
from shared.tasks import PROCESSED_STREAM

router = APIRouter(prefix="/v1/stream", tags=["stream"])

_ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
_ERRORS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    413: "Payload Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}

_ENTRY_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
_MAX_ID_PART = 2**64 - 1  # Redis stream ids are two unsigned 64-bit integers


def _entry_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def _last_event_id(
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Resume after this event (sent back by EventSource clients on reconnection).",
        ),
    ] = None,
) -> str | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    if not _ENTRY_ID.match(last_event_id.strip()) or max(_entry_key(last_event_id.strip())) > _MAX_ID_PART:
        raise ApiError(400, "Last-Event-ID must be the id of an event of this stream", field="Last-Event-ID")
    return last_event_id.strip()


async def _start(redis: aioredis.Redis, resume_after: str | None) -> tuple[str, str | None]:
    """Where to read from, and the oldest entry kept when the client's position was trimmed away."""
    try:
        info = await redis.xinfo_stream(PROCESSED_STREAM)
    except aioredis.ResponseError:  # no stream yet: everything that arrives is new
        return resume_after or "0-0", None
    last = _text(info["last-generated-id"])
    if resume_after is None:
        return last, None
    first = info.get("first-entry")
    if first and _entry_key(_text(first[0])) > _entry_key(resume_after):
        # Anything after resume_after but before the oldest kept entry is gone.
        oldest = _text(first[0])
        ms, seq = _entry_key(oldest)
        before_oldest = f"{ms}-{seq - 1}" if seq else f"{ms - 1}-18446744073709551615"
        if _entry_key(before_oldest) > _entry_key(resume_after):
            return before_oldest, oldest
    return resume_after, None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_EVENT_CHANGES = frozenset({"event.created", "event.grew"})
_ARTICLE_CHANGES = frozenset({EVENT_REVISED, EVENT_WITHDRAWN})


def _field(fields: Any, name: str) -> str | None:
    raw = fields.get(name.encode()) or fields.get(name)
    return _text(raw) if raw is not None else None


@router.get(
    "",
    response_class=EventSourceResponse,
    summary="Newly processed articles matching a search, as Server-Sent Events",
    description="Takes the same `q` and filters as `/v1/articles`. Events: `article` (data: the article as in "
    "search results), `article.revised` (a new revision became current; same data, with its `revision`), "
    "`article.withdrawn` (the article was killed or withdrawn; sent to every client whose search it matched), "
    "`event.created` / `event.grew` (the article founded or joined an event; data: "
    "`event_id`, `article_id`), `gap` (the stream was trimmed past `Last-Event-ID`; data: the oldest id kept). Resume "
    "with the `Last-Event-ID` header.",
    # Errors are JSON even here: say so, or OpenAPI would list them under the stream's media type.
    responses={
        code: {"description": description, "content": {"application/json": {"schema": _ENVELOPE}}}
        for code, description in _ERRORS.items()
    },
)
async def stream(
    request: Request,
    filters: FiltersDep,
    redis: RedisDep,
    settings: QuerySettingsDep,
    resume_after: Annotated[str | None, Depends(_last_event_id)],
) -> AsyncIterator[ServerSentEvent]:
    position, gap_oldest = await _start(redis, resume_after)
    if gap_oldest is not None:
        yield ServerSentEvent(event="gap", data={"resumed_after": resume_after, "oldest_kept": gap_oldest})
    sessions = request.app.state.sessionmaker
    yield ServerSentEvent(comment="connected", retry=2000)
    while not await request.is_disconnected():
        answer: Any = await redis.xread(
            {PROCESSED_STREAM: position}, count=settings.stream_batch, block=settings.stream_block_ms
        )
        if not answer:
            continue
        entries = [(_text(entry_id), fields) for _, batch in answer for entry_id, fields in batch]
        position = entries[-1][0]
        ids = {}
        announced: dict[str, tuple[str, str]] = {}
        kinds: dict[str, str] = {}
        for entry_id, fields in entries:
            kind = _field(fields, "type")
            if kind in _ARTICLE_CHANGES:
                kinds[entry_id] = kind
            change, event_id = _field(fields, "event"), _field(fields, "event_id")
            if change in _EVENT_CHANGES and event_id:
                announced[entry_id] = (change, event_id)
            raw = fields.get(b"id") or fields.get("id")
            try:
                ids[entry_id] = str(uuid.UUID(_text(raw)))
            except (TypeError, ValueError):
                continue  # a malformed entry is skipped, never fatal to the stream
        # Withdrawn articles are matched too: their withdrawal is news to a client that saw them.
        matched = await _matching(sessions, filters.model_copy(update={"include_withdrawn": True}), list(ids.values()))
        sent_last = False
        for entry_id, _ in entries:
            item = matched.get(ids.get(entry_id, ""))
            kind = kinds.get(entry_id, "article")
            if item is not None and item["withdrawn"] and kind != EVENT_WITHDRAWN and not filters.include_withdrawn:
                item = None
            sent_last = item is not None
            if item is not None:
                yield ServerSentEvent(event=kind, id=entry_id, data=item)
                if entry_id in announced:
                    change, event_id = announced[entry_id]
                    data = {"event_id": event_id, "article_id": ids[entry_id]}
                    yield ServerSentEvent(event=change, id=entry_id, data=data)
        if not sent_last:
            yield ServerSentEvent(id=position, comment="no match")


async def _matching(sessions: Any, filters: Any, ids: list[str]) -> dict[str, Any]:
    if not ids:
        return {}
    tg = tags_json(Article.id, full=False)
    async with sessions() as session:
        rows = await session.execute(
            select(*ITEM_COLUMNS, tg.c.tags).outerjoin(tg, true()).where(Article.id.in_(ids), *conditions(filters))
        )
        return {str(r.id): to_item(r).model_dump(mode="json", warnings=False) for r in rows}
