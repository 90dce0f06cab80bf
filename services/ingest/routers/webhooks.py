"""``/v1/webhooks/{source}``: signed deliveries from partners, agencies and WebSub hubs.

Authenticity first, before the body is parsed: Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``) checked against every valid secret of the source with a
five-minute tolerance, or WebSub's ``X-Hub-Signature-256``. A failure is a 401 naming the reason, and nothing
is stored; a source that does not exist (or receives no webhooks) answers exactly as a bad signature does, so
the endpoint cannot be used to list source names. The delivery id is the idempotency key, so a redelivery
answers the first result. Articles are stored and queued exactly as the article endpoints do it.

Replays after the 24-hour idempotency record is gone: a Standard Webhooks delivery carries its signed
timestamp, refused once older than the tolerance (minutes), so a captured one is dead long before. A WebSub
delivery signs its body only, no time and no id, so its signature never goes stale while the secret lives:
its digest is kept in ``websub_deliveries`` for as long as a secret that could have signed it is valid, and
a replay is refused (409) however late it comes.
"""

from __future__ import annotations

import hashlib
import time
from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers

from services.ingest.deps import SessionDep
from services.ingest.intake import IntakeDep
from services.ingest.parsing import load_json, media_type, validate_article
from services.ingest.routers.articles import accepted_item, conflict_item
from services.ingest.secrets import webhook_secrets
from shared.api.errors import ApiError
from shared.channels.common import Item
from shared.channels.errors import ChannelError
from shared.channels.payloads import Delivery, is_xml, json_items, xml_items
from shared.channels.settings import get_channel_settings
from shared.channels.signing import SignatureError, new_secret, verify, verify_websub
from shared.channels.websub import already_received, remember_delivery
from shared.intake import IdempotencyKeyRef, Stored, request_fingerprint
from shared.intake.idempotency import NO_OWNER, check_key
from shared.metrics import WEBHOOK_DELIVERIES
from shared.schemas.articles import ArticleIn
from shared.schemas.errors import error_responses
from shared.schemas.ingestions import BatchItemRejected
from shared.schemas.webhooks import WebhookAccepted

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

CHANNEL = "webhook"
WEBSUB_HEADERS = ("x-hub-signature-256", "x-hub-signature")

_DELIVERY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ArticleIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/ArticleIn"}},
                        {"type": "object", "description": "IPTC ninjs 1.x, 2.x or 3.0 (one item or a list)"},
                    ]
                }
            },
            "application/rss+xml": {"schema": {"type": "string", "description": "RSS 2.0 (WebSub delivery)"}},
            "application/atom+xml": {"schema": {"type": "string", "description": "Atom (WebSub delivery)"}},
            "application/xml": {"schema": {"type": "string", "description": "RSS, Atom, NewsML-G2 or NITF"}},
        },
    },
    "parameters": [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"}, "description": desc}
        for name, desc in [
            ("webhook-id", "Standard Webhooks: the delivery id, unique per message (the idempotency key)"),
            ("webhook-timestamp", "Standard Webhooks: seconds since the epoch; at most 5 minutes off"),
            ("webhook-signature", "Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`"),
            ("X-Hub-Signature-256", "WebSub content delivery: `sha256=<hex HMAC-SHA256 of the body>`"),
            ("X-Hub-Signature", "WebSub content delivery: `sha1=`, `sha256=`, `sha384=` or `sha512=` + hex HMAC"),
        ]
    ],
}


def _unauthorised(exc: SignatureError) -> ApiError:
    return ApiError(
        401, exc.reason, code="invalid_signature", field=exc.header, headers={"WWW-Authenticate": "Webhook"}
    )


WEBSUB_PREFIX = "websub:"


def authenticate(headers: Headers, raw: bytes, secrets: list[str], *, now: float, tolerance_s: int) -> str:
    """Verify the delivery; returns its id. Raises a 401 :class:`ApiError` with the reason.

    With no secret to check against (an unknown source, or one without webhooks) a fresh random one stands
    in, so the answer is the very one a wrong signature gets."""
    secrets = secrets or [new_secret()]
    websub = next((h for h in WEBSUB_HEADERS if h in headers), None)
    try:
        if "webhook-signature" not in headers and websub is not None:
            verify_websub(secrets, signature=headers[websub], body=raw, header=websub)
            # WebSub has no delivery id: the body's hash makes a redelivery of the same content a replay.
            return WEBSUB_PREFIX + hashlib.sha256(raw).hexdigest()
        verify(
            secrets,
            msg_id=headers.get("webhook-id"),
            timestamp=headers.get("webhook-timestamp"),
            signature=headers.get("webhook-signature"),
            body=raw,
            now=now,
            tolerance_s=tolerance_s,
        )
    except SignatureError as exc:
        WEBHOOK_DELIVERIES.labels(outcome="unauthorized").inc()
        raise _unauthorised(exc) from exc
    delivery_id = headers["webhook-id"]
    check_key(delivery_id, "webhook-id")
    return delivery_id


def read_delivery(raw: bytes, content_type: str | None, source: str) -> tuple[Delivery, list[ArticleIn | ApiError]]:
    """Parse and validate the body (CPU work: run in a thread). Each item is an article or its error."""
    kind, charset = media_type(content_type)
    try:
        if kind == "application/json" or kind.endswith("+json"):
            delivery = json_items(load_json(raw, charset), source=source)
        elif is_xml(kind):
            delivery = xml_items(raw, source=source)
        else:
            raise ApiError(
                415,
                f"unsupported content type {kind or '(none)'!r}: send application/json or XML "
                "(RSS, Atom, NewsML-G2, NITF)",
                field="content-type",
            )
    except ChannelError as exc:
        raise ApiError(exc.status, exc.message, code=exc.code, field=exc.field) from exc
    return delivery, [_validated(item, len(delivery.items)) for item in delivery.items]


def _validated(item: Item, count: int) -> ArticleIn | ApiError:
    prefix = f"items.{item.index}" if count > 1 else ""
    if item.data is None:
        field = f"{prefix}.{item.field}" if prefix and item.field else (item.field or prefix or "body")
        return ApiError(422, item.error or "unreadable item", code="invalid_payload", field=field)
    try:
        return validate_article(item.data, prefix=prefix)
    except ApiError as exc:
        return exc


@router.post(
    "/{source}",
    status_code=202,
    response_model=WebhookAccepted,
    summary="Receive a signed delivery: Tidings JSON (one or a list), ninjs, RSS/Atom, NewsML-G2 or NITF",
    openapi_extra=_DELIVERY_BODY,
    responses=error_responses(400, 401, 409, 413, 415, 422, 503),
)
async def receive(
    source: str,
    request: Request,
    session: SessionDep,
    intake: IntakeDep,
) -> JSONResponse:
    raw = await request.body()
    found, secrets = await webhook_secrets(session, source)
    receiving = found is not None and found.webhooks and found.active
    delivery_id = authenticate(
        request.headers,
        raw,
        secrets if receiving else [],
        now=time.time(),
        tolerance_s=get_channel_settings().webhook_tolerance_s,
    )
    assert found is not None  # authenticate refuses every delivery to a source that is not receiving

    # The delivery id is the idempotency key, under the sender's own header name in every error.
    key = IdempotencyKeyRef(
        owner=NO_OWNER,
        scope=f"webhooks:{source}",
        key=delivery_id,
        fingerprint=request_fingerprint("POST", request.url.path, request.headers.get("content-type"), raw),
        header="webhook-id",
        what="delivery",
        reused_code="delivery_id_reused",
    )
    if replay := await intake.replay(key):
        WEBHOOK_DELIVERIES.labels(outcome="replayed").inc()
        return replay
    websub_digest = (
        bytes.fromhex(delivery_id.removeprefix(WEBSUB_PREFIX)) if delivery_id.startswith(WEBSUB_PREFIX) else None
    )
    if websub_digest is not None and await already_received(session, source_id=found.id, digest=websub_digest):
        await session.rollback()
        WEBHOOK_DELIVERIES.labels(outcome="replayed").inc()
        raise ApiError(
            409,
            "this WebSub delivery was received before: a replay is not stored again",
            code="delivery_replayed",
            field="X-Hub-Signature-256",
        )

    try:
        delivery, results = await anyio.to_thread.run_sync(
            partial(read_delivery, raw, request.headers.get("content-type"), source)
        )
    except ApiError:
        WEBHOOK_DELIVERIES.labels(outcome="invalid").inc()
        raise
    valid = [(item.index, r) for item, r in zip(delivery.items, results, strict=True) if isinstance(r, ArticleIn)]
    rejected = [
        BatchItemRejected(index=item.index, error={"code": r.code, "message": r.message, "details": r.details})
        for item, r in zip(delivery.items, results, strict=True)
        if isinstance(r, ApiError)
    ]
    if not valid:
        WEBHOOK_DELIVERIES.labels(outcome="invalid").inc()
        first = rejected[0].error if len(rejected) == 1 else None
        if first is not None:
            raise ApiError(422, first["message"], code=first["code"], details=first["details"])
        raise ApiError(
            422, "no valid article in the delivery", details={"rejected": [r.model_dump() for r in rejected]}
        )

    def answer(stored: list[Stored]) -> dict[str, Any]:
        conflicts = [
            conflict_item(index, s.conflict, field=f"{index}.revision")
            for (index, _), s in zip(valid, stored, strict=True)
            if s.conflict is not None
        ]
        return WebhookAccepted(
            delivery_id=delivery_id,
            format=delivery.format,
            accepted=[
                accepted_item(index, s) for (index, _), s in zip(valid, stored, strict=True) if s.conflict is None
            ],
            rejected=sorted([*rejected, *conflicts], key=lambda r: r.index),
        ).model_dump(mode="json")

    async def remember_websub(session: AsyncSession) -> None:
        if websub_digest is not None:
            await remember_delivery(session, source_id=found.id, digest=websub_digest)

    taken = await intake.take_in(
        [a for _, a in valid],
        channel=CHANNEL,
        answer=answer,
        key=key,
        before_commit=remember_websub,
        rejected=[r.error["code"] for r in rejected],
    )
    WEBHOOK_DELIVERIES.labels(outcome="accepted").inc()
    return JSONResponse(taken.answer, status_code=202)


@router.get(
    "/{source}",
    response_class=PlainTextResponse,
    summary="WebSub subscription check: echo hub.challenge for a source receiving webhooks",
    responses=error_responses(400, 404),
)
async def websub_verify(
    source: str,
    session: SessionDep,
    mode: str = Query(alias="hub.mode", pattern="^(subscribe|unsubscribe)$"),
    challenge: str = Query(alias="hub.challenge", min_length=1, max_length=1000),
    topic: str | None = Query(default=None, alias="hub.topic", max_length=2048),
) -> PlainTextResponse:
    found, _ = await webhook_secrets(session, source)
    if found is None or not found.webhooks or not found.active:
        raise ApiError(404, f"no source {source!r} receiving webhooks", field="source")
    return PlainTextResponse(challenge)
