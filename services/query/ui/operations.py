"""Operations: queue depths, backfills, feeds with their health, dead letters and their replay.

Queue depths and backfills are read here (Redis and PostgreSQL); feeds and dead letters come from the ingest
API with the user's key, which also decides whether they may see them (feeds need ``ingest``, dead letters
``admin``). A replay is refused here first when the key lacks ``admin``, and the ingest API refuses it again.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.query.deps import RedisDep, SessionDep
from services.query.ui import data
from services.query.ui.ingest_api import IngestApi, IngestRefusal
from services.query.ui.render import render
from services.query.ui.session import KEY_COOKIE, PageError, UserDep, check_csrf, require
from services.query.ui.settings import get_ui_settings
from shared.api.keys import Scope

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/operations", response_class=HTMLResponse)
async def operations(request: Request, session: SessionDep, redis: RedisDep, user: UserDep) -> HTMLResponse:
    settings = get_ui_settings()
    context: dict[str, Any] = {
        "queues": await data.queue_depths(redis),
        "backfills": await data.recent_backfills(session, limit=20),
        "feeds": None,
        "feeds_error": None,
        "letters": None,
        "letters_error": None,
        "replayed": request.query_params.get("replayed"),
    }
    async with IngestApi(settings, request.cookies.get(KEY_COOKIE)) as ingest:
        if user.allows(Scope.ingest):
            try:
                context["feeds"] = (await ingest.feeds(limit=100)).items
            except IngestRefusal as exc:
                context["feeds_error"] = exc.message
        if user.allows(Scope.admin):
            try:
                context["letters"] = (await ingest.dead_letters(status="all", limit=50)).items
            except IngestRefusal as exc:
                context["letters_error"] = exc.message
    return render(request, "operations.html", context, user=user)


@router.post("/operations/dead-letters/{dead_letter_id}/replay")
async def replay(request: Request, dead_letter_id: str, user: UserDep) -> RedirectResponse:
    await check_csrf(request)
    require(user, Scope.admin)
    try:
        letter = uuid.UUID(dead_letter_id)
    except ValueError as exc:
        raise PageError(404, f"No dead letter {dead_letter_id}.") from exc
    async with IngestApi(get_ui_settings(), request.cookies.get(KEY_COOKIE)) as ingest:
        try:
            await ingest.replay(letter)
        except IngestRefusal as exc:
            raise PageError(exc.status, f"The replay was refused: {exc.message}") from exc
    return RedirectResponse(f"/ui/operations?replayed={letter}#dead-letters", status_code=303)
