"""The SQL the query service runs for each request, as it sends it to psycopg (``python -m benchmarks.query_capture``).

The service's own app is started in this process (its lifespan: engine, session settings), the requests are
sent to it one after the other through httpx's ASGI transport, and every statement its engine executes is
recorded with its parameters, exactly as SQLAlchemy hands them to the driver. The benchmark replays these
statements directly with psycopg beside the service.

One process serves every round: importing the app and starting it cost seconds, more than a round's capture.
Each line on stdin names two files, ``IN OUT``: the requests are read (pickled) from IN and
``[(status, [(sql, params), ...]), ...]`` is written (pickled) to OUT, then ``READY`` is printed on a line of
its own. The environment names the database; end of input ends the process.
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

READY = "READY"


async def serve() -> None:
    from services.query.main import create_app

    app = create_app()
    current: list[tuple[str, Any]] = []
    async with app.router.lifespan_context(app):
        engine = app.state.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            current.append((statement, parameters))

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            while line := await asyncio.to_thread(sys.stdin.readline):
                src, dst = line.split()
                requests: list[Request] = pickle.loads(await asyncio.to_thread(Path(src).read_bytes))
                out: list[tuple[int, list[tuple[str, Any]]]] = []
                for req in requests:
                    current.clear()
                    response = await client.get(req.path, params=req.as_params())
                    out.append((response.status_code, list(current)))
                await asyncio.to_thread(Path(dst).write_bytes, pickle.dumps(out))
                print(READY, flush=True)


def main() -> int:
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
