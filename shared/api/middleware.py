"""ASGI middleware: request ids carried into logs and tasks, a hard limit on request body size, a sanity
check of the URL (NUL bytes, too many parameters) before any route sees it, a deadline so a request
never hangs on a dependency that stopped answering, and request metrics."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import unquote_to_bytes

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.errors import RETRY_AFTER_S, ApiError, envelope
from shared.metrics import ARTICLES_REJECTED, HTTP_REQUESTS, HTTP_SECONDS

REQUEST_ID_HEADER = "x-request-id"


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes", field="body")


class RequestContextMiddleware:
    """Binds a request id (the caller's ``X-Request-ID`` or a new one) to logs and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")[:100]
        request_id = given or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")


class BodySizeLimitMiddleware:
    """Refuses bodies over ``limit`` bytes with 413, by Content-Length or while streaming (chunked uploads)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        for name, value in scope.get("headers") or []:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                too_large = BodyTooLarge(limit)
                response = JSONResponse(envelope(too_large.code, too_large.message, too_large.details), 413)
                await response(scope, receive, send)
                return
        await self.app(scope, limited_receive, send)


MAX_QUERY_PARAMS = 100
MAX_QUERY_BYTES = 8 * 1024


class RequestSanityMiddleware:
    """Refuses URLs no route should see, with 400 in the envelope: a NUL byte in the path or a query value
    (PostgreSQL cannot store one in text, so it would otherwise surface as a database error), more than
    ``MAX_QUERY_PARAMS`` parameters or an oversized query string. Marks every response ``nosniff`` so a
    browser never renders a JSON body (which may quote user-supplied HTML) as a page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _url_problem(scope)
        if problem is not None:
            field, message = problem
            error = ApiError(400, message, field=field)
            response = JSONResponse(
                envelope(error.code, error.message, error.details),
                400,
                headers={"X-Content-Type-Options": "nosniff"},
            )
            await response(scope, receive, send)
            return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-content-type-options", b"nosniff"))
            await send(message)

        await self.app(scope, receive, send_nosniff)


def _url_problem(scope: Scope) -> tuple[str, str] | None:
    if "\x00" in scope.get("path", ""):
        return "path", "the path must not contain NUL characters"
    raw: bytes = scope.get("query_string") or b""
    if len(raw) > MAX_QUERY_BYTES:
        return "query", f"the query string exceeds {MAX_QUERY_BYTES} bytes"
    if not raw:
        return None
    pairs = raw.split(b"&")
    if len(pairs) > MAX_QUERY_PARAMS:
        return "query", f"at most {MAX_QUERY_PARAMS} query parameters are accepted"
    for pair in pairs:
        if b"\x00" in unquote_to_bytes(pair.replace(b"+", b" ")):
            name = unquote_to_bytes(pair.partition(b"=")[0]).decode("utf-8", "replace").replace("\x00", "")
            return name or "query", "query parameters must not contain NUL characters"
    return None


class RequestDeadlineMiddleware:
    """Answers 503 with ``Retry-After`` when a request has not started its response within ``timeout_s``
    (a database or Redis that accepts connections but never answers). Once the response has started, as
    with a stream, the deadline no longer applies."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                await self.app(scope, receive, send_started)
        except TimeoutError:
            if started:
                raise
            structlog.get_logger(__name__).warning("request deadline passed", path=scope.get("path"))
            response = JSONResponse(
                envelope("unavailable", f"no answer within {self.timeout_s:g} s; retry shortly"),
                503,
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
            await response(scope, receive, send)


# Paths whose POST carries articles: a 4xx there is an article refused.
ARTICLE_PATHS = frozenset({"/v1/articles", "/v1/articles/batch"})
ARTICLE_PREFIXES = ("/v1/webhooks/",)
MAX_ERROR_BODY = 64 * 1024  # an error envelope is small; never hold a large body


class HttpMetricsMiddleware:
    """Counts and times every request by route template (``/v1/articles/{article_id}``, so ids do not make
    new series) and status, and counts each 4xx answer to an article POST as a rejected article, with the
    error envelope's code as the reason. Outermost, so the refusals of the other middleware are counted."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding
        carries_articles = scope.get("method") == "POST" and _carries_articles(scope.get("path", ""))
        error_body = bytearray()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and carries_articles and 400 <= status < 500:
                error_body.extend(message.get("body", b"")[: MAX_ERROR_BODY - len(error_body)])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUESTS.labels(service=self.service, route=route, status=str(status)).inc()
            HTTP_SECONDS.labels(service=self.service, route=route).observe(time.perf_counter() - started)
            if carries_articles and 400 <= status < 500:
                ARTICLES_REJECTED.labels(reason=_error_code(bytes(error_body), status)).inc()


def _carries_articles(path: str) -> bool:
    return path in ARTICLE_PATHS or path.startswith(ARTICLE_PREFIXES)


def _error_code(body: bytes, status: int) -> str:
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"http_{status}"
    return code if isinstance(code, str) and len(code) <= 64 else f"http_{status}"
