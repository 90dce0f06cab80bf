"""Signing in with an API key and out again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.query.ui.render import render
from services.query.ui.session import KEY_COOKIE, check_csrf, clear_key_cookie, principal_for, set_cookie
from services.query.ui.settings import get_ui_settings
from shared.api.errors import ApiError

router = APIRouter(prefix="/ui", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a page of the interface itself: never another site (an open redirect) nor a scheme-relative URL."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/search"


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> HTMLResponse:
    return render(request, "sign_in.html", {"next": safe_next(request.query_params.get("next")), "error": None})


@router.post("/sign-in", response_class=HTMLResponse, response_model=None)
async def sign_in(request: Request) -> HTMLResponse | RedirectResponse:
    form = await check_csrf(request)
    key = form.get("api_key", "").strip()
    target = safe_next(form.get("next"))
    try:
        await principal_for(request, key)
    except ApiError as exc:
        message = (
            exc.message if exc.status in (403, 429) else "That API key is not valid (unknown, expired or revoked)."
        )
        status = exc.status if exc.status in (403, 429) else 401
        return render(request, "sign_in.html", {"next": target, "error": message}, status_code=status)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, KEY_COOKIE, key, max_age=get_ui_settings().session_max_age_s)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> RedirectResponse:
    await check_csrf(request)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    clear_key_cookie(response, request)
    return response
