"""The HTTP/1.1 protocol the APIs are served with: uvicorn's httptools protocol (llhttp, in C) with the
request head bounded.

httptools alone buffers a header line of any length: a client could hold megabytes per connection before a
route saw anything. h11 bounds the head, but parses in Python, at a tenth or more of a small request's CPU.
Here the head (request line and headers) is bounded by ``MAX_REQUEST_HEAD_BYTES`` in two ways: the parser's
callbacks sum the head exactly when it is complete, and the bytes that arrive while no head is complete are
counted as they come, so what is held before the refusal stays within the limit and one read. Either way the
client gets uvicorn's own ``400`` and the connection is closed, as under h11.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Four times h11's default: room for long cookies and signatures.
MAX_REQUEST_HEAD_BYTES = 64 * 1024
# What uvicorn is told to use (``--http``, ``UVICORN_HTTP``).
PROTOCOL = "shared.api.http:BoundedHttpToolsProtocol"


class HeadTooLarge(Exception):
    """Raised in a parser callback: httptools stops parsing and uvicorn answers 400."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` refusing a request head over :data:`MAX_REQUEST_HEAD_BYTES`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._awaiting_head = True  # no head complete since the last message (or the connection) began
        self._head_bytes = 0  # the current head, as the callbacks have seen it
        self._unparsed_head_bytes = 0  # bytes of reads that began while a head was awaited and completed none

    def data_received(self, data: bytes) -> None:
        # A read that starts while a head is awaited and completes none is all head: counted before the
        # parser buffers it. A read in which a head completes resets the count (it holds body bytes too).
        counted = self._awaiting_head
        if counted:
            self._unparsed_head_bytes += len(data)
        super().data_received(data)
        if (
            counted
            and self._awaiting_head
            and self._unparsed_head_bytes > MAX_REQUEST_HEAD_BYTES
            and not self.transport.is_closing()
        ):
            self.send_400_response(f"Request head larger than {MAX_REQUEST_HEAD_BYTES} bytes.")

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url) + 16  # the method, the version and the line's separators
        self._check_head()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4  # ": " and CRLF
        self._check_head()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._unparsed_head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._awaiting_head = True
        super().on_message_complete()

    def _check_head(self) -> None:
        if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
            raise HeadTooLarge(f"request head larger than {MAX_REQUEST_HEAD_BYTES} bytes")
