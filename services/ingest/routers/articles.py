"""``/v1/articles``: accept one article (JSON or plain text) or a batch, and report an article's status."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from services.ingest.authority import refusal, refused_sources, require_sources
from services.ingest.deps import PrincipalDep, SessionDep, SettingsDep
from services.ingest.intake import IntakeDep
from services.ingest.parsing import (
    article_from_request,
    articles_from_json_bytes,
    load_json,
    media_type,
    validate_article,
)
from shared.api.errors import ApiError
from shared.db.models import Ingestion
from shared.intake import IdempotencyKeyRef, Stored, request_fingerprint
from shared.intake.idempotency import owner_of
from shared.revisions import RevisionConflict
from shared.schemas.articles import ArticleIn
from shared.schemas.errors import error_responses
from shared.schemas.ingestions import (
    Accepted,
    BatchAccepted,
    BatchItemAccepted,
    BatchItemRejected,
    IngestionStatus,
    Withdrawal,
    Withdrawn,
)

router = APIRouter(prefix="/v1/articles", tags=["articles"])

_INLINE_PARSE_BYTES = 16 * 1024

_ARTICLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ArticleIn"}},
            "text/plain": {
                "schema": {"type": "string"},
                "example": "Headline\n\nStandfirst.\n\nFirst paragraph.\n\nSource: Reuters",
            },
        },
    },
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": desc}
        for name, desc in [
            ("source", "text/plain only: who sent it"),
            ("external_id", "text/plain only: the sender's id"),
            ("url", "text/plain only: the article's URL"),
            ("published_at", "text/plain only: ISO 8601"),
            ("language", "text/plain only: ISO 639-1"),
            ("section", "text/plain only"),
        ]
    ],
}
_BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
    }
}


def status_url(article_id: uuid.UUID) -> str:
    return f"/v1/articles/{article_id}/status"


def accepted_item(index: int, stored: Stored) -> BatchItemAccepted:
    """A batch or delivery item's answer."""
    return BatchItemAccepted(
        index=index,
        id=stored.id,
        status=stored.state,
        status_url=status_url(stored.id),
        duplicate=stored.duplicate,
        revision=stored.revision,
        outcome=stored.outcome.value,
    )


def receipt(stored: Stored) -> dict[str, Any]:
    """The JSON of :class:`Accepted` for ``stored``, built as a dict: the hot path writes thousands a second,
    and a model round trip per article cost more than the rest of its answer."""
    return {
        "id": str(stored.id),
        "status": stored.state,
        "status_url": status_url(stored.id),
        "duplicate": stored.duplicate,
        "revision": stored.revision,
        "outcome": stored.outcome.value,
    }


def _accepted(stored: Stored) -> dict[str, Any]:
    if stored.conflict is not None:
        raise conflict_error(stored.conflict)
    return receipt(stored)


def _json(body: dict[str, Any], *, headers: dict[str, str] | None = None) -> Response:
    """A 202 with ``body`` as compact JSON, as ``JSONResponse`` writes it, by orjson's native encoder."""
    return Response(orjson.dumps(body), status_code=202, media_type="application/json", headers=headers)


def conflict_error(conflict: RevisionConflict, *, field: str | None = None) -> ApiError:
    """``409 revision_conflict`` (a ``revision`` field) or ``412 precondition_failed`` (``If-Match``), with the
    current revision so the client can read it and decide again."""
    code = "precondition_failed" if conflict.status == 412 else "revision_conflict"
    detail = {"field": field or conflict.field, "message": conflict.message, "current_revision": conflict.current}
    return ApiError(conflict.status, conflict.message, code=code, details=[detail])


def conflict_item(index: int, conflict: RevisionConflict, *, field: str) -> BatchItemRejected:
    error = conflict_error(conflict, field=field)
    return BatchItemRejected(
        index=index, error={"code": error.code, "message": error.message, "details": error.details}
    )


def if_match_revision(value: str | None) -> int | None:
    """``If-Match: 3`` or ``If-Match: "3"`` (the ETag the query service serves an article with)."""
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError(400, 'If-Match must be an article revision, e.g. "3"', field="If-Match")
    return int(raw)


def _key(request: Request, key: str | None, raw: bytes, *, owner: str, scope: str) -> IdempotencyKeyRef | None:
    if key is None:
        return None
    fingerprint = request_fingerprint(request.method, request.url.path, request.headers.get("content-type"), raw)
    return IdempotencyKeyRef(owner=owner, scope=scope, key=key, fingerprint=fingerprint)


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    summary="Accept one article (JSON or the plain newsroom format)",
    openapi_extra=_ARTICLE_BODY,
    responses=error_responses(400, 403, 409, 412, 413, 415, 422, 503),
)
async def post_article(
    request: Request,
    session: SessionDep,
    intake: IntakeDep,
    principal: PrincipalDep,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
    if_match: str | None = Header(
        default=None,
        alias="If-Match",
        description='Revise only if the current revision is this one (412 otherwise): `"3"`.',
    ),
) -> Response:
    expected = if_match_revision(if_match)
    raw = await request.body()
    content_type = request.headers.get("content-type")
    if len(raw) <= _INLINE_PARSE_BYTES and b'"html"' not in raw:
        # A small article parses in well under a millisecond: cheaper here than the hop to a thread.
        article = article_from_request(raw, content_type, request.query_params)
    else:  # off the event loop: a large body, or an article sent as `html` (the main-text extraction)
        article = await anyio.to_thread.run_sync(article_from_request, raw, content_type, request.query_params)
    await require_sources(session, principal, [article.source])
    key = _key(request, idempotency_key, raw, owner=owner_of(principal.key_id), scope="articles")
    # A refused precondition raises in `answer`: nothing is kept for this article.
    taken = await intake.take_in_one(article, answer=_accepted, key=key, if_match=expected)
    if isinstance(taken, JSONResponse):  # the key's first answer
        return taken
    body, stored = taken
    return _json(body, headers={"Location": status_url(stored.id)})


@router.post(
    "/batch",
    status_code=202,
    response_model=BatchAccepted,
    summary="Accept up to 1,000 articles; invalid items are answered individually",
    openapi_extra=_BATCH_BODY,
    responses=error_responses(400, 403, 409, 413, 415, 422, 503),
)
async def post_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    intake: IntakeDep,
    principal: PrincipalDep,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Response:
    raw = await request.body()
    kind, charset = media_type(request.headers.get("content-type"))
    if kind != "application/json":
        raise ApiError(415, "a batch is sent as application/json", field="content-type")
    valid, rejected = await anyio.to_thread.run_sync(_validate_batch, raw, charset, settings.ingest.max_batch_items)
    refused = await refused_sources(session, principal, {a.source for _, a in valid})
    if refused:
        rejected = sorted(
            rejected + [_forbidden_item(index, a.source) for index, a in valid if a.source in refused],
            key=lambda r: r.index,
        )
        valid = [(index, a) for index, a in valid if a.source not in refused]
    if not valid:
        if rejected and all(r.error["code"] == "source_forbidden" for r in rejected):
            raise ApiError(
                403,
                "this API key may write to none of the batch's sources",
                code="source_forbidden",
                details=[detail for r in rejected for detail in r.error["details"]][:20],
            )
        raise ApiError(422, "no valid article in the batch", details={"rejected": [r.model_dump() for r in rejected]})

    key = _key(request, idempotency_key, raw, owner=owner_of(principal.key_id), scope="articles/batch")
    if replay := await intake.replay(key):
        return replay

    def answer(stored: list[Stored]) -> dict[str, Any]:
        conflicts = [
            conflict_item(index, s.conflict, field=f"articles.{index}.revision")
            for (index, _), s in zip(valid, stored, strict=True)
            if s.conflict is not None
        ]
        if conflicts and len(conflicts) == len(stored) and not rejected:
            first = conflicts[0].error
            raise ApiError(409, first["message"], code=first["code"], details=first["details"])
        accepted = [
            {**receipt(s), "index": index} for (index, _), s in zip(valid, stored, strict=True) if s.conflict is None
        ]
        every = sorted([*rejected, *conflicts], key=lambda r: r.index)
        return {"accepted": accepted, "rejected": [r.model_dump(mode="json") for r in every]}

    taken = await intake.take_in(
        [a for _, a in valid], channel="batch", answer=answer, key=key, rejected=[r.error["code"] for r in rejected]
    )
    assert taken.answer is not None
    return _json(taken.answer)


def _validate_batch(
    raw: bytes, charset: str | None, limit: int
) -> tuple[list[tuple[int, ArticleIn]], list[BatchItemRejected]]:
    """A batch body's valid articles by index, and its refused items (CPU work, run in a thread). A batch
    valid throughout is validated from its bytes in one pass; any other is read item by item."""
    articles = articles_from_json_bytes(raw, charset)
    if articles is not None:
        _check_batch_size(len(articles), limit)
        return list(enumerate(articles)), []
    data = load_json(raw, charset)
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        raise ApiError(422, 'expected an object {"articles": [...]}', field="articles")
    if extra := sorted(set(data) - {"articles"}):
        raise ApiError(422, f"unknown field {extra[0]!r}", field=extra[0])
    _check_batch_size(len(data["articles"]), limit)
    return _validate_items(data["articles"])


def _check_batch_size(size: int, limit: int) -> None:
    if not size:
        raise ApiError(422, "the batch is empty", field="articles")
    if size > limit:
        raise ApiError(422, f"a batch holds at most {limit} articles; got {size}", field="articles")


def _validate_items(items: list[Any]) -> tuple[list[tuple[int, ArticleIn]], list[BatchItemRejected]]:
    """Validate a batch item by item (CPU work, run in a thread: `html` items are extracted here)."""
    valid: list[tuple[int, ArticleIn]] = []
    rejected: list[BatchItemRejected] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, validate_article(item, prefix=f"articles.{index}")))
        except ApiError as exc:
            rejected.append(
                BatchItemRejected(index=index, error={"code": exc.code, "message": exc.message, "details": exc.details})
            )
    return valid, rejected


def _forbidden_item(index: int, source: str) -> BatchItemRejected:
    error = refusal(source, field=f"articles.{index}.source")
    return BatchItemRejected(
        index=index, error={"code": error.code, "message": error.message, "details": error.details}
    )


@router.post(
    "/{article_id}/withdraw",
    response_model=Withdrawn,
    summary="Kill or withdraw an article: hidden from search, facets and exports; still readable by id",
    responses=error_responses(400, 403, 404, 412, 422, 503),
)
async def post_withdraw(
    article_id: uuid.UUID,
    session: SessionDep,
    intake: IntakeDep,
    principal: PrincipalDep,
    withdrawal: Withdrawal,
    if_match: str | None = Header(default=None, alias="If-Match", description="Only if this is the current revision."),
) -> Withdrawn:
    expected = if_match_revision(if_match)
    row = await session.get(Ingestion, article_id)
    if row is None:
        raise ApiError(404, f"no article {article_id}", field="article_id")
    await require_sources(session, principal, [row.source])
    stored = await intake.withdraw(article_id, reason=withdrawal.reason, if_match=expected)
    if stored is None:  # deleted in between
        raise ApiError(404, f"no article {article_id}", field="article_id")
    if stored.conflict is not None:
        raise conflict_error(stored.conflict)
    state = (
        await session.execute(
            select(Ingestion.withdrawn_at, Ingestion.withdrawal_reason).where(Ingestion.id == article_id)
        )
    ).one()
    assert state.withdrawn_at is not None
    return Withdrawn(
        id=article_id,
        revision=stored.revision,
        withdrawn_at=state.withdrawn_at,
        reason=state.withdrawal_reason,
        already_withdrawn=stored.duplicate,
    )


@router.get(
    "/{article_id}/status",
    response_model=IngestionStatus,
    summary="Where an accepted article is in the pipeline",
    responses=error_responses(404, 422),
)
async def get_status(article_id: uuid.UUID, session: SessionDep, settings: SettingsDep) -> IngestionStatus:
    row = await session.get(Ingestion, article_id)
    if row is None:
        raise ApiError(404, f"no article {article_id}", field="article_id")
    return IngestionStatus(
        id=row.id,
        status=row.state,
        error=row.error,
        attempts=row.attempts,
        received_at=row.received_at,
        updated_at=row.updated_at,
        processed_at=row.processed_at,
        article_url=(settings.ingest.query_article_url(row.id) if row.state == "processed" else None),
    )
