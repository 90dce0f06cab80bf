"""The SQL the query service runs for each request, as it sends it to psycopg (``python -m benchmarks.query_capture``).

The service's own app is started in this process (its lifespan: engine, session settings), the requests are
sent to it one after the other through httpx's ASGI transport, and every statement its engine executes is
recorded with its parameters, exactly as SQLAlchemy hands them to the driver. The benchmark replays these
statements directly with psycopg beside the service. Reads the requests (pickled) from argv[1] and writes
``[(status, [(sql, params), ...]), ...]`` (pickled) to argv[2]; the environment names the database.
"""

from __future__ import annotations

import asyncio
import pickle
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from benchmarks.query_mix import Request


async def capture(requests: list[Request]) -> list[tuple[int, list[tuple[str, Any]]]]:
    from services.query.main import create_app

    app = create_app()
    out: list[tuple[int, list[tuple[str, Any]]]] = []
    current: list[tuple[str, Any]] = []
    async with app.router.lifespan_context(app):
        engine = app.state.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            current.append((statement, parameters))

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            for req in requests:
                current.clear()
                response = await client.get(req.path, params=req.as_params())
                out.append((response.status_code, list(current)))
    return out


def main() -> int:
    requests = pickle.loads(Path(sys.argv[1]).read_bytes())
    Path(sys.argv[2]).write_bytes(pickle.dumps(asyncio.run(capture(requests))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
