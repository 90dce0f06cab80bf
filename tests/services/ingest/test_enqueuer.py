"""The ingest service's background enqueue: the caller goes on at once, and closing waits for every send."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import redis

from shared.config import get_settings
from shared.intake import Enqueuer
from shared.tasks import TaskName, make_celery


def test_close_waits_for_the_sends_in_flight(redis_client: redis.Redis, side_queue: str) -> None:
    app = make_celery(get_settings(), "tidings-test")
    app.conf.task_routes = {TaskName.PROCESS_BATCH: {"queue": side_queue}}
    ids = [uuid.uuid4() for _ in range(5)]

    async def run() -> int:
        enqueuer = Enqueuer(app, chunk=2)
        enqueuer.enqueue(ids[:4], request_id="req-a")
        enqueuer.enqueue(ids[4:], request_id="req-b")
        enqueuer.enqueue([], request_id="req-c")  # nothing to send
        queued_at_once = int(redis_client.llen(side_queue))
        await enqueuer.close()
        return queued_at_once

    try:
        queued_at_once = asyncio.run(run())
    finally:
        app.close()
    # Not sent while the caller went on (the sends wait for the loop), every chunk sent once it closed.
    assert queued_at_once == 0
    messages = [json.loads(m) for m in redis_client.lrange(side_queue, 0, -1)]
    assert len(messages) == 3
    # Protocol 2: the body is base64 JSON of (args, kwargs, embed); the one argument is the chunk of ids.
    chunks = sorted((m["headers"]["request_id"], json.loads(base64.b64decode(m["body"]))[0][0]) for m in messages)
    assert chunks == sorted(
        [("req-a", [str(i) for i in ids[:2]]), ("req-a", [str(i) for i in ids[2:4]]), ("req-b", [str(ids[4])])]
    )
