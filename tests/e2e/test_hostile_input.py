"""Hostile input against every operation of both services: never a 5xx, always the envelope, nothing stored
that should not be, HTML kept as inert text.

The operations are read from each service's OpenAPI schema, so routers added later are covered too.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.support import wait_for

pytestmark = pytest.mark.e2e

# Endpoints that answer with an endless stream: probed apart, never read to the end.
STREAMING = {"/v1/stream"}

SQL_METACHARACTERS = [
    "' OR '1'='1",
    "1; DROP TABLE articles; --",
    "x') UNION SELECT NULL, version() --",
    "'; SELECT pg_sleep(10); --",
    '" OR ""="',
    "%",
    "_%_",
    "\\",
    "\\x27",
    "$$",
    "1e999999",
    "-1",
    "99999999999999999999999999",
    "\u202e<script>alert(1)</script>",
    "ünï©ødé 漢字 🙂",
    "a" * 3000,
]


@pytest.fixture(scope="module")
def operations(platform: dict[str, str], api_key_headers: dict[str, str]) -> dict[str, list[tuple[str, str, dict]]]:
    """(method, path, operation) per service, from the live OpenAPI schemas."""
    found: dict[str, list[tuple[str, str, dict]]] = {}
    for service in ("ingest", "query"):
        schema = httpx.get(f"{platform[service]}/openapi.json", headers=api_key_headers, timeout=30).json()
        found[service] = [
            (method.upper(), path, op)
            for path, ops in schema["paths"].items()
            for method, op in ops.items()
            if path not in ("/healthz", "/readyz")
        ]
    return found


@pytest.fixture
def clients(platform: dict[str, str], db: Engine, api_key_headers: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    with (
        httpx.Client(base_url=platform["ingest"], headers=api_key_headers, timeout=30) as ingest,
        httpx.Client(base_url=platform["query"], headers=api_key_headers, timeout=30) as query,
    ):
        yield {"ingest": ingest, "query": query}


def _fill(path: str) -> str:
    """Path parameters get a plausible value: an id that does not exist, or a short name."""
    return re.sub(r"\{([^}]+)\}", lambda m: str(uuid.uuid4()) if "id" in m.group(1) else "hostile-test", path)


def _assert_handled(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), f"{what}: {body}"


def _is_free_text(param: dict) -> bool:
    schema = param.get("schema", {})
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and "enum" not in o and "format" not in o for o in options)


def _tables(db: Engine) -> set[str]:
    with db.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}


def test_sql_metacharacters_in_every_query_parameter(
    clients: dict[str, httpx.Client], operations: dict[str, list[tuple[str, str, dict]]], db: Engine
) -> None:
    tables = _tables(db)
    probed = 0
    for service, ops in operations.items():
        client = clients[service]
        for method, path, op in ops:
            if method != "GET" or path in STREAMING:
                continue
            for param in (p for p in op.get("parameters", []) if p["in"] == "query"):
                # Typed parameters are refused by validation before any SQL; strings reach the queries.
                values = SQL_METACHARACTERS if _is_free_text(param) else SQL_METACHARACTERS[:3]
                for value in values:
                    r = client.get(_fill(path), params={param["name"]: value})
                    _assert_handled(r, f"{service} GET {path}?{param['name']}={value[:30]!r}")
                    probed += 1
            for value in SQL_METACHARACTERS[:6]:  # path parameters too
                if "{" in path:
                    r = client.get(re.sub(r"\{[^}]+\}", value.replace("/", ""), path))
                    _assert_handled(r, f"{service} GET {path} with {value!r} in the path")
    assert probed > 100, "the schemas list the query parameters"
    assert _tables(db) == tables


def test_nul_bytes_in_the_url_are_refused_naming_the_parameter(
    clients: dict[str, httpx.Client], operations: dict[str, list[tuple[str, str, dict]]]
) -> None:
    for service, ops in operations.items():
        for method, path, op in ops:
            if method != "GET" or path in STREAMING:
                continue
            for param in (p for p in op.get("parameters", []) if p["in"] == "query"):
                r = clients[service].get(_fill(path), params={param["name"]: "a\x00b"})
                assert r.status_code == 400, f"{service} {path} {param['name']}"
                assert r.json()["error"]["details"][0]["field"] == param["name"]
    too_many = "&".join(f"p{n}=1" for n in range(150))
    assert clients["query"].get(f"/v1/articles?{too_many}").status_code == 400


def _json_body_operations(operations: dict[str, list[tuple[str, str, dict]]]) -> Iterator[tuple[str, str, str]]:
    for service, ops in operations.items():
        for method, path, op in ops:
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield service, method, path


HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("deeply nested arrays", b"[" * 100_000 + b"]" * 100_000),
    ("deeply nested objects", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
    ("invalid UTF-8", b'{"title": "\xff\xfe\xc3\x28", "body": "x"}'),
    ("a NUL in a string", b'{"title": "a\\u0000b", "body": "x", "name": "a\\u0000b"}'),
    ("a lone surrogate", b'{"title": "\\ud800", "body": "x", "name": "\\ud800"}'),
    ("100,000 fields", json.dumps({f"f{n}": n for n in range(100_000)}).encode()),
    ("a 5,000-digit integer", b'{"title": "t", "body": "b", "limit": ' + b"9" * 5000 + b"}"),
    ("an overflowing float", b'{"title": "t", "body": "b", "score": 1e999}'),
    ("not JSON at all", b"\x00\x01\x02 binary"),
    ("an empty body", b""),
    ("a bare string", b'"just a string"'),
]


def test_hostile_json_bodies_on_every_operation(
    clients: dict[str, httpx.Client], operations: dict[str, list[tuple[str, str, dict]]], db: Engine
) -> None:
    targets = list(_json_body_operations(operations))
    assert len(targets) >= 4
    for service, method, path in targets:
        for what, body in HOSTILE_BODIES:
            r = clients[service].request(
                method, _fill(path), content=body, headers={"Content-Type": "application/json"}
            )
            _assert_handled(r, f"{service} {method} {path} with {what}")
            assert r.status_code >= 400, f"{service} {method} {path} accepted {what}"
            if r.status_code == 422 and isinstance(r.json()["error"]["details"], list):
                assert len(r.json()["error"]["details"]) <= 20, f"{what}: the answer stays short"
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ingestions")) == 0


def test_oversized_bodies_are_refused_before_they_are_read(clients: dict[str, httpx.Client]) -> None:
    huge = b'{"title": "t", "body": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    for path in ("/v1/articles", "/v1/articles/batch", "/v1/api-keys"):
        r = clients["ingest"].post(path, content=huge, headers={"Content-Type": "application/json"})
        assert r.status_code == 413, path
        assert r.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b'{"title": "t", "body": "'
        for _ in range(48):
            yield b"x" * 65536
        yield b'"}'

    r = clients["ingest"].post("/v1/articles", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_html_and_script_are_stored_and_served_as_inert_text(clients: dict[str, httpx.Client], db: Engine) -> None:
    title = '<script>alert("x")</script> Markets & <b>bonds</b>'
    body = 'Prices rose <img src=x onerror=alert(1)> on Monday.\n\nAnalysts said "it\'s" fine; DROP TABLE articles;--'
    r = clients["ingest"].post(
        "/v1/articles", json={"title": title, "body": body, "source": "hostile", "external_id": "html-1"}
    )
    assert r.status_code == 202, r.text
    article_id = r.json()["id"]

    def served() -> httpx.Response | None:
        got = clients["query"].get(f"/v1/articles/{article_id}")
        return got if got.status_code == 200 else None

    got = wait_for(served, timeout=30, what="the article with HTML in it")
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["x-content-type-options"] == "nosniff"
    article = got.json()
    assert article["title"] == title
    assert "<img src=x onerror=alert(1)>" in article["body"] and "DROP TABLE articles;--" in article["body"]
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM articles")) == 1
