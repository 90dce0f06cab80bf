"""One JSON error envelope for every error, validation included, installed on each FastAPI app."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError as BrokerError
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 5
MAX_FIELD_ERRORS = 20

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """An error a handler raises on purpose; rendered in the envelope with its status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _STATUS_CODES.get(status, "error")
        self.message = message
        if field is not None and details is None:
            details = [{"field": field, "message": message}]
        self.details = details
        self.headers = headers


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def field_errors(exc: ValidationError | RequestValidationError, *, prefix: str = "") -> list[dict[str, Any]]:
    """Pydantic errors as ``{field, message, type}``, the field as a dotted path."""
    out: list[dict[str, Any]] = []
    # FastAPI prefixes locations with where the value came from; a model validated by hand does not.
    from_request = isinstance(exc, RequestValidationError)
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if from_request and loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:] if loc[0] == "body" or len(loc) > 1 else loc
        path = ".".join(loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = err.get("msg", "invalid")
        message = message.removeprefix("Value error, ")
        out.append({"field": path or "body", "message": message, "type": err.get("type")})
        if len(out) >= MAX_FIELD_ERRORS:  # an object with 100,000 unknown fields gets a short answer
            break
    return out


def _unavailable(what: str) -> JSONResponse:
    return JSONResponse(
        envelope("unavailable", f"{what} is unavailable; retry shortly"),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(envelope(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = field_errors(exc)
        first = details[0]["field"] if details else "request"
        # A malformed query parameter is a bad request; a well-formed body that breaks the schema is 422.
        in_query = all(err.get("loc", ("",))[0] in ("query", "path") for err in exc.errors())
        status, code = (400, "bad_request") if in_query else (422, "validation_error")
        return JSONResponse(
            envelope(code, f"invalid request: {first}: {details[0]['message']}", details), status_code=status
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        # FastAPI raises a bare 400 when a JSON body does not parse: the field at fault is the body.
        details = [{"field": "body", "message": str(exc.detail)}] if exc.status_code == 400 else None
        return JSONResponse(
            envelope(code, str(exc.detail), details),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _db(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated or _is_connection_error(exc):
            log.warning("database unavailable", error=str(exc.orig))
            return _unavailable("the database")
        if isinstance(exc, DataError):
            # A value the database cannot hold (a NUL in text, a number out of range) that validation let
            # through: the caller's input, so a 422, and logged so the validation gap gets closed.
            log.warning("value refused by the database", error=type(exc.orig).__name__)
            return JSONResponse(
                envelope("validation_error", "a value is out of range or not storable"), status_code=422
            )
        if isinstance(exc, IntegrityError):
            log.warning("constraint violated", error=type(exc.orig).__name__)
            return JSONResponse(envelope("conflict", "the request conflicts with existing data"), status_code=409)
        log.exception("database error")
        return JSONResponse(envelope("internal_error", "internal error"), status_code=500)

    @app.exception_handler(PoolTimeoutError)
    async def _pool(_: Request, exc: PoolTimeoutError) -> JSONResponse:
        log.warning("database pool exhausted")
        return _unavailable("the database")

    for broker_exc in (BrokerError, RedisConnectionError, RedisTimeoutError):

        @app.exception_handler(broker_exc)
        async def _broker(_: Request, exc: Exception) -> JSONResponse:
            log.warning("redis unavailable", error=str(exc))
            return _unavailable("the queue")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(envelope("internal_error", "internal error"), status_code=500)


def _is_connection_error(exc: DBAPIError) -> bool:
    import psycopg

    return isinstance(exc.orig, psycopg.OperationalError | psycopg.errors.AdminShutdown)
