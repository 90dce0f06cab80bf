"""Who is signed in to the web interface, and the CSRF check on every form post.

The API key is the credential, as for the API: sign-in checks it like a request header would be checked
(``shared.api.auth.verify_key``: known, not revoked or expired, holding the ``query`` scope, within its rate
limit) and keeps it in a cookie the page's scripts cannot read (HttpOnly), sent only to ``/ui`` and only on
same-site requests (SameSite=Lax), and only over TLS when the page was served over it. Every page checks
the key again, so a revoked key signs its user out at the next click.

CSRF: double-submit. A random token lives in its own cookie and in a hidden field of every form; a post is
refused unless both are present and equal. Another site can make a browser send our cookies (not with
SameSite=Lax on a post, but older browsers ignore it) but cannot read them to fill in the field.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from shared.api.auth import Principal, verify_key
from shared.api.errors import ApiError
from shared.api.keys import Scope

KEY_COOKIE = "tidings_ui_key"
CSRF_COOKIE = "tidings_ui_csrf"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/ui"


class SignInRequired(Exception):
    """No valid key in the cookie: the page answers with a redirect to the sign-in form."""


class PageError(Exception):
    """A refusal shown as an HTML page with its status (403 for a missing scope or a failed CSRF check)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_key_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(KEY_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request))


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one that ``remember_csrf`` will set."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def remember_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        set_cookie(response, request, CSRF_COOKIE, new, max_age=None)


async def check_csrf(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matched the cookie's; else a 403 page."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise PageError(403, "The form's security token did not match. Reload the page and try again.")
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def principal_for(request: Request, key: str) -> Principal:
    """The key's principal for the web interface, which needs the ``query`` scope; raises ``ApiError``."""
    return await verify_key(request, key, Scope.query)


async def current_user(request: Request) -> Principal:
    """The signed-in principal; anonymous with the ``query`` scope when the query API is open."""
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        if request.app.state.auth_policy.open:
            return Principal(key_id=None, name="anonymous", scopes=frozenset({Scope.query.value}))
        raise SignInRequired
    try:
        principal = await principal_for(request, key)
    except ApiError as exc:
        if exc.status == 429:
            raise PageError(429, exc.message) from exc
        raise SignInRequired from exc
    request.state.principal = principal
    return principal


def require(principal: Principal, scope: Scope) -> None:
    """Refuse (403) what the key may not do, whatever the page showed."""
    if not principal.allows(scope):
        raise PageError(403, f"Your API key lacks the {scope.value!r} scope needed for this action.")


UserDep = Annotated[Principal, Depends(current_user)]
