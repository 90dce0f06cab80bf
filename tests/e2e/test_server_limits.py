"""What the HTTP server itself refuses before the app sees it: a request head larger than 64 KiB (a 1 MiB
header line was accepted under httptools, which bounds nothing)."""

from __future__ import annotations

import socket
from contextlib import suppress
from urllib.parse import urlsplit

import httpx
import pytest

from devtools.processes import MAX_REQUEST_HEAD_BYTES

pytestmark = pytest.mark.e2e


def _raw_request(base_url: str, head: bytes) -> bytes:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):  # the server may refuse before reading it all
            sock.sendall(head)
        answer = b""
        with suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


@pytest.mark.parametrize("service", ["ingest", "query"])
def test_a_one_mebibyte_header_line_is_refused_by_the_server(platform: dict[str, str], service: str) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
    answer = _raw_request(platform[service], head)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 4"), answer[:200]
    assert b"200 OK" not in status_line


def test_a_head_within_the_limit_is_served(platform: dict[str, str]) -> None:
    padding = "a" * (MAX_REQUEST_HEAD_BYTES // 2)
    r = httpx.get(f"{platform['query']}/healthz", headers={"X-Padding": padding}, timeout=30)
    assert r.status_code == 200
