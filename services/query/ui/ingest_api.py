"""Calls to the ingest API for the operations pages, made with the signed-in user's own key.

Feeds, dead letters and their replay belong to the ingest service (replaying enqueues a Celery task, which
only it does): rather than import its code, the interface asks it over HTTP, so it keeps checking scopes
and the query service keeps reading only.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.query.ui.settings import UISettings
from shared.schemas.dead_letters import DeadLetterPage, ReplayAccepted
from shared.schemas.feeds import FeedPage


class IngestRefusal(Exception):
    """The ingest API said no (or could not be reached): the status and the message its envelope carried."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class IngestApi:
    def __init__(self, settings: UISettings, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.AsyncClient(
            base_url=settings.ingest_url, headers=headers, timeout=settings.ingest_timeout_s
        )

    async def __aenter__(self) -> IngestApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise IngestRefusal(503, f"the ingest service could not be reached ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise IngestRefusal(response.status_code, _message(response))
        return response

    async def feeds(self, *, limit: int) -> FeedPage:
        return FeedPage.model_validate_json((await self._call("GET", "/v1/feeds", params={"limit": limit})).content)

    async def dead_letters(self, *, status: str, limit: int) -> DeadLetterPage:
        response = await self._call("GET", "/v1/dead-letters", params={"status": status, "limit": limit})
        return DeadLetterPage.model_validate_json(response.content)

    async def replay(self, dead_letter_id: uuid.UUID) -> ReplayAccepted:
        response = await self._call("POST", f"/v1/dead-letters/{dead_letter_id}/replay")
        return ReplayAccepted.model_validate_json(response.content)


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
