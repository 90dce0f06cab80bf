"""The ingest service's FastAPI app (``uvicorn services.ingest.main:app``)."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from prometheus_client import make_asgi_app

from services.ingest.group_commit import GroupCommit
from services.ingest.routers import (
    api_keys,
    articles,
    corrections,
    dead_letters,
    events,
    feeds,
    rules,
    sources,
    webhooks,
)
from shared.api.app import create_service_app
from shared.api.auth import Scope, require_scope
from shared.config import get_settings
from shared.intake import Enqueuer
from shared.metrics import registry
from shared.schemas.articles import ArticleIn, BatchIn
from shared.tasks import make_celery


async def _start(app: FastAPI) -> None:
    app.state.celery = make_celery(app.state.settings, "tidings-ingest")
    ingest = app.state.settings.ingest
    app.state.enqueuer = Enqueuer(app.state.celery, chunk=ingest.task_chunk_size)
    app.state.group_commit = (
        GroupCommit(
            app.state.sessionmaker,
            app.state.celery,
            window_s=ingest.group_commit_window_ms / 1000,
            max_size=ingest.group_commit_max,
            chunk=ingest.task_chunk_size,
        )
        if ingest.group_commit_window_ms > 0
        else None
    )


async def _stop(app: FastAPI) -> None:
    if app.state.group_commit is not None:
        await app.state.group_commit.close()
    await app.state.enqueuer.close()
    app.state.celery.pool.force_close_all()


def create_app() -> FastAPI:
    settings = get_settings()
    app = create_service_app(
        settings,
        service="ingest",
        title="Tidings ingest API",
        description="Send news articles: they are stored durably, answered with 202, deduplicated and tagged.",
        on_startup=_start,
        on_shutdown=_stop,
        # Partners' webhooks prove themselves with their signature (Standard Webhooks), not an API key.
        public_prefixes=("/v1/webhooks/",),
        max_body_bytes=settings.ingest.max_body_bytes,
    )
    for module in (articles, corrections, events, rules, webhooks, feeds, dead_letters, api_keys):
        app.include_router(module.router)
    # Sources hand out webhook signing secrets: admin keys only.
    app.include_router(sources.router, dependencies=[Depends(require_scope(Scope.admin))])
    app.mount("/metrics", make_asgi_app(registry=registry()))
    _register_schemas(app)
    return app


def _register_schemas(app: FastAPI) -> None:
    """The article endpoints read their bodies by hand (two content types); publish the schemas anyway."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ArticleIn, BatchIn):
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(model_schema.pop("$defs", {}))
            components[model.__name__] = model_schema
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
