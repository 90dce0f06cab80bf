"""Adding the web interface to the query service's app: its routers, its static files, its error pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.query.ui import operations, pages, signin
from services.query.ui.render import HERE, render
from services.query.ui.session import PageError, SignInRequired

# The service's key check leaves these paths to the interface, which reads its key from a cookie.
PUBLIC_PREFIX = "/ui/"


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?next={quote(target, safe='')}", status_code=303)


async def _page_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageError)
    user = getattr(request.state, "principal", None)
    return render(
        request, "error.html", {"message": exc.message, "status": exc.status}, user=user, status_code=exc.status
    )


def install_ui(app: FastAPI) -> None:
    for module in (signin, pages, operations):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(PageError, _page_error)
