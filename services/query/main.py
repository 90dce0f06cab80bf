"""The query service's FastAPI app (``uvicorn services.query.main:app``)."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import make_asgi_app

from services.query.routers import articles
from shared.api.app import create_service_app
from shared.config import get_settings


def create_app() -> FastAPI:
    app = create_service_app(
        get_settings(),
        service="query",
        title="Tidings query API",
        description="Search, filter and read processed news articles.",
    )
    app.include_router(articles.router)
    app.mount("/metrics", make_asgi_app())
    return app


app = create_app()
