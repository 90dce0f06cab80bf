"""A typed Python client for the Tidings APIs, for internal services and scripts.

``ingest`` and ``ingest_many`` send articles to the ingest service with an ``Idempotency-Key`` (made up when
not given), so a retry after a timeout or a 5xx can never store an article twice; ``status``, ``search`` and
``get`` read. Transient failures (connection errors, timeouts, 408/429/5xx, a 409 for a request still in
progress) are retried with exponential back-off and jitter, honouring ``Retry-After``. Errors are raised as
:class:`TidingsError` carrying the API's error envelope.

    with TidingsClient("http://localhost:8000", "http://localhost:8001", api_key="tdg_...") as tidings:
        accepted = tidings.ingest({"title": "...", "body": "...", "source": "desk", "external_id": "1"})
        page = tidings.search("harbour", source=["desk"])
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import INGEST_URL, QUERY_URL, settings_getter
from shared.retry import backoff_s, parse_retry_after
from shared.schemas.articles import ArticleIn, ArticleOut, ArticleSummary
from shared.schemas.ingestions import Accepted, BatchAccepted, IngestionStatus

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


class ClientSettings(BaseSettings):
    """Where the services are and how patiently to call them (env prefix ``TIDINGS_CLIENT_``; the key also
    as ``TIDINGS_API_KEY``)."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_CLIENT_", extra="ignore")

    ingest_url: str = INGEST_URL
    query_url: str = QUERY_URL
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TIDINGS_API_KEY", "TIDINGS_CLIENT_API_KEY")
    )
    timeout_s: float = 30.0
    retries: int = 4
    backoff_s: float = 0.5


get_client_settings = settings_getter(ClientSettings)


class TidingsError(Exception):
    """A call that failed: ``status`` (None when no answer came), the envelope's ``code``, ``message`` and
    ``details``, and the whole ``envelope``."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "error",
        details: Any = None,
        envelope: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status or 'no answer'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.envelope = envelope

    @classmethod
    def from_response(cls, response: httpx.Response) -> TidingsError:
        try:
            envelope = response.json()
            error = envelope["error"]
            return cls(
                str(error.get("message", "")),
                status=response.status_code,
                code=str(error.get("code", "error")),
                details=error.get("details"),
                envelope=envelope,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls(response.text[:500] or response.reason_phrase, status=response.status_code)


class TidingsUnavailable(TidingsError):
    """The service did not answer usefully, even after the retries."""


class SearchHit(ArticleSummary):
    """An article in a result list; fields the query service adds (tags, dedup, rank) are kept as extras."""

    model_config = ConfigDict(extra="allow")


class SearchPage(BaseModel):
    model_config = ConfigDict(extra="allow")

    items: list[SearchHit]
    next_cursor: str | None = None


class Article(ArticleOut):
    """A processed article; fields the query service adds (tags) are kept as extras."""

    model_config = ConfigDict(extra="allow")


Payload = ArticleIn | Mapping[str, Any]


def _json(article: Payload) -> dict[str, Any]:
    if isinstance(article, ArticleIn):
        return article.model_dump(mode="json", exclude_none=True)
    return dict(article)


class TidingsClient:
    def __init__(
        self,
        ingest_url: str | None = None,
        query_url: str | None = None,
        *,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        retries: int | None = None,
        backoff_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        s = get_client_settings()
        key = api_key or (s.api_key.get_secret_value() if s.api_key else None)
        common = {"User-Agent": "tidings-client/0.1", **({"Authorization": f"Bearer {key}"} if key else {})}
        common.update(headers or {})
        timeout = httpx.Timeout(timeout_s if timeout_s is not None else s.timeout_s)
        self.retries = s.retries if retries is None else retries
        self.backoff_s = s.backoff_s if backoff_s is None else backoff_s
        self._ingest = httpx.Client(
            base_url=(ingest_url or s.ingest_url).rstrip("/"), headers=common, timeout=timeout, transport=transport
        )
        self._query = httpx.Client(
            base_url=(query_url or s.query_url).rstrip("/"), headers=common, timeout=timeout, transport=transport
        )

    def __enter__(self) -> TidingsClient:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._ingest.close()
        self._query.close()

    # Writes ---------------------------------------------------------------------------------------------------

    def ingest(self, article: Payload, *, idempotency_key: str | None = None) -> Accepted:
        """Send one article; a replay of ``(source, external_id)`` answers the first one (``duplicate``)."""
        key = idempotency_key or str(uuid.uuid4())
        r = self._call(self._ingest, "POST", "/v1/articles", json=_json(article), headers={"Idempotency-Key": key})
        return Accepted.model_validate(r.json())

    def ingest_many(self, articles: Sequence[Payload], *, idempotency_key: str | None = None) -> BatchAccepted:
        """Send up to the batch limit (1,000 by default) in one request; invalid items come back in
        ``rejected`` with their error, the others in ``accepted``. A batch with no valid item raises."""
        key = idempotency_key or str(uuid.uuid4())
        r = self._call(
            self._ingest,
            "POST",
            "/v1/articles/batch",
            json={"articles": [_json(a) for a in articles]},
            headers={"Idempotency-Key": key},
        )
        return BatchAccepted.model_validate(r.json())

    # Reads ----------------------------------------------------------------------------------------------------

    def status(self, article_id: uuid.UUID | str) -> IngestionStatus:
        r = self._call(self._ingest, "GET", f"/v1/articles/{article_id}/status")
        return IngestionStatus.model_validate(r.json())

    def get(self, article_id: uuid.UUID | str) -> Article:
        """A processed article from the query service (a 404 until it is processed)."""
        r = self._call(self._query, "GET", f"/v1/articles/{article_id}")
        return Article.model_validate(r.json())

    def search(
        self,
        q: str | None = None,
        *,
        source: Iterable[str] | None = None,
        language: Iterable[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
        **filters: Any,
    ) -> SearchPage:
        """One page of processed articles, newest first (or as ``sort`` says); extra keyword arguments are
        passed to the query service as parameters."""
        params: dict[str, Any] = {"limit": limit, **{k: v for k, v in filters.items() if v is not None}}
        if q:
            params["q"] = q
        if source:
            params["source"] = list(source)
        if language:
            params["language"] = list(language)
        if date_from:
            params["from"] = date_from.isoformat()
        if date_to:
            params["to"] = date_to.isoformat()
        if cursor:
            params["cursor"] = cursor
        r = self._call(self._query, "GET", "/v1/articles", params=params)
        return SearchPage.model_validate(r.json())

    # Plumbing -------------------------------------------------------------------------------------------------

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = parse_retry_after(response.headers.get("retry-after")) if response is not None else None
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_S)
        return backoff_s(attempt, base=self.backoff_s, cap=MAX_RETRY_AFTER_S)

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The request with retries; returns a 2xx response or raises :class:`TidingsError`."""
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise TidingsUnavailable(
                        f"{type(exc).__name__}: {exc}", code="unavailable", details={"url": str(client.base_url) + path}
                    ) from exc
            else:
                if response.is_success:
                    return response
                transient = response.status_code in RETRY_STATUSES or (
                    response.status_code == 409 and "retry-after" in response.headers
                )
                if not transient or attempt >= self.retries:
                    error = TidingsError.from_response(response)
                    if transient:
                        raise TidingsUnavailable(
                            error.message, status=error.status, code=error.code, details=error.details,
                            envelope=error.envelope,
                        )  # fmt: skip
                    raise error
            time.sleep(self._delay(attempt, response))
            attempt += 1
