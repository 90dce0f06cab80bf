"""Settings: one env prefix per concern, one cached getter each, one way to re-read them, and the query service's
own body limit."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

import httpx
import pytest
from pydantic_settings import BaseSettings

import services
import shared
from shared.config import get_ingest_settings, get_settings, reset_settings
from shared.dedup.settings import get_dedup_settings


def _settings_classes() -> list[type[BaseSettings]]:
    """Every settings class of the code base, found by importing every module of ``shared`` and ``services``
    (so a new area's settings are checked without being listed here)."""
    for package in (shared, services):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)
    found: list[type[BaseSettings]] = []
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(("shared.", "services.")) and not cls.__name__.startswith("_"):
            found.append(cls)
    return found


def test_each_settings_class_has_its_own_env_prefix() -> None:
    prefixes: dict[str, list[str]] = {}
    for cls in _settings_classes():
        prefixes.setdefault(cls.model_config.get("env_prefix", ""), []).append(cls.__qualname__)
    shared_prefixes = {prefix: names for prefix, names in prefixes.items() if len(names) > 1}
    assert shared_prefixes == {}
    assert len(prefixes) >= 20  # every area's class was found, not just the core ones


def test_a_getter_builds_its_settings_once_and_the_root_holds_the_same_sections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert get_dedup_settings() is get_dedup_settings()
    assert get_settings().ingest is get_ingest_settings()
    before = get_dedup_settings().bands

    monkeypatch.setenv("TIDINGS_DEDUP_BANDS", str(before + 1))
    assert get_dedup_settings().bands == before  # read once per process: a later change is not seen
    reset_settings()
    assert get_dedup_settings().bands == before + 1


def test_documented_env_names_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_INGEST_PUBLIC_QUERY_URL", "https://news-query.example.com")
    monkeypatch.setenv("TIDINGS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("TIDINGS_LOG_JSON", "true")
    monkeypatch.setenv("TIDINGS_INGEST_MAX_BODY_BYTES", "4096")
    reset_settings()
    settings = get_settings()
    assert settings.ingest.public_query_url == "https://news-query.example.com"
    assert (settings.observability.log_level, settings.observability.log_json) == ("WARNING", True)
    assert settings.ingest.max_body_bytes == 4096


def _post_size(app: object, size: int) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/v1/saved-searches", content=b"x" * size, headers={"Content-Type": "text/plain"})

    return asyncio.run(go())


def test_the_query_service_has_its_own_body_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest limit no longer decides the query service's: each service's app refuses above its own."""
    from services.query.main import create_app as create_query_app

    monkeypatch.setenv("TIDINGS_INGEST_MAX_BODY_BYTES", "100")
    monkeypatch.setenv("TIDINGS_QUERY_MAX_BODY_BYTES", "1000")
    reset_settings()
    query = create_query_app()
    assert _post_size(query, 1001).status_code == 413
    # Between the two limits: past the body check, refused for want of a key (no lifespan, no database).
    assert _post_size(query, 500).status_code == 401
