"""The URL sanity check and the request deadline, on small ASGI apps (no services needed)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from shared.api.middleware import RequestDeadlineMiddleware, RequestSanityMiddleware


async def _hangs(_: Request) -> JSONResponse:
    await asyncio.Event().wait()  # a dependency that accepted the connection and never answers
    raise AssertionError("unreachable")


async def _streams(_: Request) -> StreamingResponse:
    async def chunks():
        for n in range(3):
            yield f"{n}\n".encode()
            await asyncio.sleep(0.2)  # a slow stream, longer in total than the deadline

    return StreamingResponse(chunks(), media_type="text/plain")


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse(dict(request.query_params))


APP = Starlette(routes=[Route("/hangs", _hangs), Route("/streams", _streams), Route("/echo", _echo)])


def _call(app: object, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_a_request_that_never_gets_an_answer_is_cut_with_503() -> None:
    r = _call(RequestDeadlineMiddleware(APP, timeout_s=0.3), "/hangs")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.json()["error"]["code"] == "unavailable"


def test_a_started_stream_outlives_the_deadline() -> None:
    r = _call(RequestDeadlineMiddleware(APP, timeout_s=0.3), "/streams")
    assert r.status_code == 200 and r.text == "0\n1\n2\n"


def test_urls_with_nul_or_too_many_parameters_are_refused() -> None:
    app = RequestSanityMiddleware(APP)
    ok = _call(app, "/echo?q=caf%C3%A9+%27%3B--")
    assert ok.json() == {"q": "café ';--"} and ok.headers["x-content-type-options"] == "nosniff"
    nul = _call(app, "/echo?q=a%00b")
    assert nul.status_code == 400 and nul.json()["error"]["details"][0]["field"] == "q"
    assert _call(app, "/echo%00").status_code == 400
    assert _call(app, "/echo?" + "&".join(f"p{n}=1" for n in range(101))).status_code == 400
    assert _call(app, "/echo?q=" + "x" * 9000).status_code == 400
