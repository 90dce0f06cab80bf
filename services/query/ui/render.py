"""Rendering pages: one Jinja2 environment (autoescaping every value), the context every page shares."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.query.ui.session import csrf_token, remember_csrf
from services.query.ui.text import safe_snippet
from shared.api.auth import Principal
from shared.api.keys import Scope

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape is on for every template


def _when(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.strftime(fmt) if moment else ""


def query_string(params: list[tuple[str, str]], **changes: str | None) -> str:
    """``params`` with ``changes`` replacing (or, with None, removing) keys, as ``?a=b&...``."""
    kept = [(k, v) for k, v in params if k not in changes]
    kept += [(k, v) for k, v in changes.items() if v is not None]
    return "?" + urlencode(kept) if kept else "?"


def _web_url(value: object) -> bool:
    """Only http(s) links are drawn: an article's URL could be ``javascript:`` text."""
    return isinstance(value, str) and urlsplit(value).scheme.lower() in ("http", "https")


templates.env.filters["when"] = _when
templates.env.tests["web_url"] = _web_url
templates.env.filters["snippet"] = safe_snippet
templates.env.globals["query_string"] = query_string


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: Principal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = {
        "request": request,
        "user": user,
        "csrf_token": csrf_token(request),
        "can": (lambda scope: user is not None and user.allows(Scope(scope))),
        **context,
    }
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    # Pages hold what only the signed-in user may see: keep them out of shared caches and other sites' frames.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    remember_csrf(request, response)
    return response
