"""Outbound delivery of saved-search matches as signed webhooks.

Two tasks, thin wrappers over ``delivery_match`` and ``delivery_send``: beat runs the matcher every few
seconds; the matcher queues one send task per delivery; a send that fails transiently retries itself with
backoff (Celery ``retry`` with a countdown), its attempts counted in the database.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

import httpx
from celery import Task

from services.worker.app import app
from services.worker.delivery_match import match_once
from services.worker.delivery_send import send_delivery
from services.worker.resources import resources
from shared.delivery.settings import get_delivery_settings
from shared.metrics import DELIVERIES
from shared.tasks import QueueName, TaskName

MATCH_BUDGET_S = 10.0  # a run catches up on a backlog for at most this long, then leaves it to the next

_client: httpx.Client | None = None


def _http() -> httpx.Client:
    # One client per worker process (made after the fork), reused across sends for its connection pool.
    global _client
    if _client is None:
        settings = get_delivery_settings()
        _client = httpx.Client(timeout=settings.timeout_s, follow_redirects=False)
    return _client


@app.task(name=TaskName.DELIVERY_MATCH, queue=QueueName.DELIVERY)
def match_task() -> dict[str, int]:
    res = resources()
    settings = get_delivery_settings()
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    totals = {"entries": 0, "matched": 0, "deliveries": 0, "requeued": 0}
    started = time.monotonic()
    while True:
        outcome = match_once(res.sessions, res.redis, settings, consumer=consumer)
        totals["entries"] += outcome.entries
        totals["matched"] += outcome.matched
        totals["deliveries"] += len(outcome.deliveries)
        totals["requeued"] += len(outcome.requeued)
        for delivery_id in [*outcome.deliveries, *outcome.requeued]:
            send_task.apply_async(args=[str(delivery_id)])
        if outcome.entries < settings.match_batch or time.monotonic() - started > MATCH_BUDGET_S:
            return totals


@app.task(name=TaskName.DELIVERY_SEND, bind=True, queue=QueueName.DELIVERY)
def send_task(self: Task, delivery_id: str) -> dict[str, Any]:
    res = resources()
    outcome = send_delivery(
        res.sessions, get_delivery_settings(), uuid.UUID(delivery_id), client=_http(), env=res.settings.env
    )
    DELIVERIES.labels(outcome=outcome.status).inc()
    if outcome.status == "retry":
        # The attempts are counted in the database, which decides when to give up.
        raise self.retry(countdown=outcome.retry_in_s, max_retries=None)
    return {"status": outcome.status}
