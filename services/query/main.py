"""The query service's FastAPI app (``uvicorn services.query.main:app``)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from prometheus_client import make_asgi_app
from psycopg.types.json import set_json_loads
from sqlalchemy import event

from services.query.routers import (
    articles,
    clusters,
    events,
    export,
    facets,
    saved_searches,
    stream,
    tags,
    timeseries,
)
from services.query.settings import get_query_settings, session_statements
from services.query.ui.mount import PUBLIC_PREFIX, install_ui
from shared.api.app import create_service_app
from shared.config import get_settings
from shared.db.engine import make_async_sessionmaker
from shared.metrics import registry


async def _on_startup(app: FastAPI) -> None:
    settings = get_query_settings()
    app.state.query_settings = settings
    # Reads run in autocommit: a search's statements need no common snapshot (the page is fetched by id and
    # a row gone in between is simply left out), and skipping BEGIN and ROLLBACK spares two round trips.
    app.state.read_sessionmaker = make_async_sessionmaker(
        app.state.engine.execution_options(isolation_level="AUTOCOMMIT")
    )

    @event.listens_for(app.state.engine.sync_engine, "connect")
    def _planner_settings(dbapi_connection: Any, _: Any) -> None:
        # Once per pooled connection. JIT compiles for tens of milliseconds, more than these queries run;
        # a generic plan ignores how selective a search term is, so every execution is planned for its values.
        # Serial plans: parallel workers only compete with the other requests for the same cores.
        cursor = dbapi_connection.cursor()
        for statement in session_statements(settings):
            cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()
        # A page of results carries each article's tags as JSON: orjson parses it several times faster than
        # the standard library, which was a sixth of the service's CPU on a listing.
        set_json_loads(orjson.loads, dbapi_connection.driver_connection)


def create_app() -> FastAPI:
    app = create_service_app(
        get_settings(),
        service="query",
        title="Tidings query API",
        description="Search, filter, count and follow processed news articles; saved searches delivered as "
        "signed webhooks.",
        on_startup=_on_startup,
        # The web interface checks the key in its own cookie (services/query/ui/session.py).
        public_prefixes=(PUBLIC_PREFIX,),
        max_body_bytes=get_query_settings().max_body_bytes,
    )
    for module in (articles, facets, timeseries, clusters, events, tags, stream, export, saved_searches):
        app.include_router(module.router)
    install_ui(app)
    app.mount("/metrics", make_asgi_app(registry=registry()))
    return app


app = create_app()
