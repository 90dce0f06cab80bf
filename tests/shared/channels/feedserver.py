"""A real HTTP server in the test process that serves feeds on a free port, honours conditional GETs
(ETag / Last-Modified) and records every request, so tests can see exactly what the poller sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    at: float
    status: int


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = server._answer(self)
                with server._lock:
                    server.requests.append(
                        Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic(), status)
                    )

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._http.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, *, versioned: bool = True, **route: object) -> Route:
        """Serve ``body`` at ``path``; ``versioned`` gives it an ETag and Last-Modified derived from the body."""
        r = Route(body=body, **route)  # type: ignore[arg-type]
        if versioned and r.status == 200:
            r.etag = r.etag or f'"{abs(hash(body)) % 10**12}"'
            r.last_modified = r.last_modified or formatdate(time.time(), usegmt=True)
        self.routes[path] = r
        return r

    def seen(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.requests if s.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> int:
        route = self.routes.get(handler.path)
        if route is None:
            handler.send_error(404)
            return 404
        if route.status != 200:
            handler.send_response(route.status)
            for name, value in route.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return route.status
        etag_match = route.etag is not None and handler.headers.get("If-None-Match") == route.etag
        date_match = route.last_modified is not None and handler.headers.get("If-Modified-Since") == route.last_modified
        if etag_match or (date_match and handler.headers.get("If-None-Match") is None):
            handler.send_response(304)
            handler.end_headers()
            return 304
        handler.send_response(200)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(route.body)))
        if route.etag:
            handler.send_header("ETag", route.etag)
        if route.last_modified:
            handler.send_header("Last-Modified", route.last_modified)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(route.body)
        return 200

    @contextmanager
    def running(self) -> Iterator[FeedServer]:
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join(timeout=5)


def rss(items: list[tuple[str, str, str]], *, title: str = "Test feed") -> bytes:
    """An RSS 2.0 document with (guid, title, body) items."""
    entries = "".join(
        f"<item><guid>{escape(guid)}</guid><title>{escape(t)}</title><description>{escape(body)}</description>"
        f"<link>https://example.com/{escape(guid)}</link><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
        for guid, t, body in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>https://example.com/</link><language>en</language>{entries}</channel></rss>"
    ).encode()


def story(n: int) -> tuple[str, str, str]:
    """A distinct, realistic item: (guid, title, body)."""
    return (
        f"story-{n}",
        f"Council debates plan number {n} for the harbour",
        f"Councillors debated proposal {n} for the harbour district on Tuesday, weighing costs against "
        f"the expected {n * 10} new homes. A vote is expected next month.",
    )
