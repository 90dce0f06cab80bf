"""Send one delivery as a signed Standard Webhook, and log the attempt.

No transaction stays open across the HTTP call: a short one takes a lease on the delivery (pushes its
``next_attempt_at`` past the request's timeout, so a duplicate task skips it), the request goes out, and a
second one logs the attempt and decides: 2xx delivered; a refusal that will not change (most 4xx) failed at
once, and 410 Gone also switches the saved search off; anything else (5xx, 408, 429, a timeout, a refused
connection) is retried with exponential backoff and jitter, honouring ``Retry-After``, until ``max_attempts``.
Every attempt carries the same ``webhook-id`` and body, with its own timestamp and signature.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy import func, update
from sqlalchemy.orm import sessionmaker

from shared.channels.signing import webhook_headers
from shared.config import Environment
from shared.db.models import Delivery, DeliveryAttempt, DeliveryStatus, SavedSearch
from shared.delivery.messages import message_id
from shared.delivery.settings import DeliverySettings
from shared.delivery.targets import TargetRefused, check_target, private_targets_allowed
from shared.retry import backoff_s as retry_backoff_s
from shared.retry import parse_retry_after

log = structlog.get_logger(__name__)

RETRYABLE_STATUS = {408, 425, 429}
CLOCK_SKEW_S = 2
USER_AGENT = "Tidings-Webhooks/1.0"


@dataclass
class SendOutcome:
    status: str  # delivered | retry | failed | skipped
    retry_in_s: float | None = None


def backoff_s(attempt: int, settings: DeliverySettings, retry_after_s: float | None = None) -> float:
    """Delay before attempt ``attempt + 1``: base × 4^(attempt-1), ±50% jitter, capped; at least Retry-After."""
    return retry_backoff_s(
        attempt - 1,
        base=settings.backoff_base_s,
        cap=settings.backoff_max_s,
        factor=4.0,
        jitter=(0.5, 1.5),
        at_least=retry_after_s,
        spread_at_cap=False,
    )


def _lease(
    sessions: sessionmaker, delivery_id: uuid.UUID, settings: DeliverySettings
) -> tuple[Delivery, SavedSearch] | None:
    lease_until = datetime.now(UTC) + timedelta(seconds=settings.timeout_s * 3 + 30)
    with sessions.begin() as session:
        taken = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == DeliveryStatus.PENDING,
                # A retry's task may run a moment before its recorded time (clocks differ between hosts);
                # a lease, or a retry still waiting, lies further ahead.
                Delivery.next_attempt_at <= func.now() + timedelta(seconds=CLOCK_SKEW_S),
            )
            .values(next_attempt_at=lease_until)
            .returning(Delivery.id)
        ).first()
        if taken is None:
            return None
        delivery = session.get(Delivery, delivery_id)
        saved = session.get(SavedSearch, delivery.saved_search_id) if delivery else None
        if delivery is None or saved is None:
            return None
        session.expunge_all()
        return delivery, saved


def failure_reason(status_code: int) -> str:
    """What ``last_error`` says about a refused delivery: the status and its class, never the subscriber's
    body, which the client that made the saved search could read back (a probe of internal services)."""
    if status_code in RETRYABLE_STATUS:
        kind = "busy or timed out, will retry"
    elif status_code >= 500:
        kind = "server error, will retry"
    elif status_code >= 400:
        kind = "refused by the subscriber"
    else:
        kind = "unexpected status"
    return f"HTTP {status_code} ({kind})"


def transport_reason(exc: httpx.HTTPError) -> str:
    """A short class of a transport failure, without the library's text (addresses, internal host names)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.TooManyRedirects | httpx.UnsupportedProtocol):
        return "redirected or refused by protocol"
    return "transport error"


def send_delivery(
    sessions: sessionmaker,
    settings: DeliverySettings,
    delivery_id: uuid.UUID,
    *,
    client: httpx.Client,
    env: Environment,
) -> SendOutcome:
    leased = _lease(sessions, delivery_id, settings)
    if leased is None:
        return SendOutcome("skipped")
    delivery, saved = leased
    attempt = delivery.attempts + 1
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    detail: str | None = None  # for the operator's log only
    started = time.perf_counter()
    if not saved.active or not saved.webhook_url:
        error, final = "the saved search is inactive or has no webhook_url", DeliveryStatus.FAILED
    else:
        try:
            url = check_target(saved.webhook_url, allow_private=private_targets_allowed(settings, env))
            body = delivery.body.encode()
            headers = {
                **webhook_headers(saved.secret, body, msg_id=message_id(delivery.id)),
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            }
            response = client.post(url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                detail = response.text[: settings.max_response_log_chars]
            if 200 <= status_code < 300:
                final = DeliveryStatus.DELIVERED
            elif status_code >= 500 or status_code in RETRYABLE_STATUS:
                final = DeliveryStatus.PENDING
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                error = failure_reason(status_code)
            else:
                final = DeliveryStatus.FAILED
                error = failure_reason(status_code)
        except TargetRefused as exc:
            error, final = f"target refused: {exc}", DeliveryStatus.FAILED
        except httpx.HTTPError as exc:
            error, final = transport_reason(exc), DeliveryStatus.PENDING
            detail = f"{type(exc).__name__}: {exc}"[: settings.max_response_log_chars]
    duration_ms = (time.perf_counter() - started) * 1000
    retry_in: float | None = None
    if final == DeliveryStatus.PENDING:
        if attempt >= settings.max_attempts:
            final = DeliveryStatus.FAILED
            error = f"gave up after {attempt} attempts; last: {error}"
        else:
            retry_in = backoff_s(attempt, settings, retry_after)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempt=attempt,
                attempted_at=now,
                status_code=status_code,
                error=error,
                duration_ms=round(duration_ms, 2),
            )
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id)
            .values(
                attempts=attempt,
                status=final,
                last_status_code=status_code,
                last_error=error,
                delivered_at=now if final == DeliveryStatus.DELIVERED else None,
                next_attempt_at=now + timedelta(seconds=retry_in) if retry_in is not None else None,
            )
        )
        if status_code == 410:  # the subscriber says the endpoint is gone for good
            session.execute(
                update(SavedSearch)
                .where(SavedSearch.id == saved.id)
                .values(active=False, disabled_reason="the webhook answered 410 Gone", updated_at=now)
            )
    log.info(
        "delivery attempted",
        delivery_id=str(delivery.id),
        attempt=attempt,
        status=final,
        status_code=status_code,
        retry_in_s=retry_in,
        error=error,
        detail=detail,
    )
    if final == DeliveryStatus.PENDING:
        return SendOutcome("retry", retry_in)
    return SendOutcome(final)
