"""Task names, queues and the Celery configuration every process shares.

Services enqueue by name (``send_task``), so the API images never import worker code. Payloads are ids and
small JSON, never ORM objects.
"""

from __future__ import annotations

import json
import time
from typing import Any

from celery import Celery, signals
from kombu import Queue

from shared.config import Settings


class TaskName:
    PROCESS_BATCH = "tidings.pipeline.process_batch"
    SWEEP_STALLED = "tidings.maintenance.sweep_stalled"
    PURGE_EXPIRED = "tidings.maintenance.purge_expired"
    BACKFILL_RUN = "tidings.backfill.run"  # one chunk of a re-tagging job
    BACKFILL_SWEEP = "tidings.backfill.sweep"  # tagger version changes, stalled jobs
    POLL_DUE_FEEDS = "tidings.feeds.poll_due"
    POLL_FEED = "tidings.feeds.poll"
    EXPIRE_DEDUP_INDEX = "tidings.maintenance.expire_dedup_index"
    EXPIRE_EVENT_INDEX = "tidings.maintenance.expire_event_index"
    DELIVERY_MATCH = "tidings.delivery.match"  # saved searches against newly processed articles
    DELIVERY_SEND = "tidings.delivery.send"  # one signed webhook message
    REFRESH_TAG_STATS = "tidings.maintenance.refresh_tag_stats"  # /v1/tags counts


class QueueName:
    PIPELINE = "pipeline"  # ingest → dedup → tag → store
    MAINTENANCE = "maintenance"  # sweeper, purges
    FEEDS = "feeds"  # feed polling
    BACKFILL = "backfill"  # re-tagging after rule or tagger changes
    DELIVERY = "delivery"  # outbound webhooks

    ALL = (PIPELINE, MAINTENANCE, FEEDS, BACKFILL, DELIVERY)


TASK_ROUTES: dict[str, dict[str, str]] = {
    "tidings.pipeline.*": {"queue": QueueName.PIPELINE},
    "tidings.maintenance.*": {"queue": QueueName.MAINTENANCE},
    "tidings.feeds.*": {"queue": QueueName.FEEDS},
    "tidings.backfill.*": {"queue": QueueName.BACKFILL},
    "tidings.delivery.*": {"queue": QueueName.DELIVERY},
}


def _broker(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The broker URL and its transport options: Redis unless ``TIDINGS_BROKER_URL`` names RabbitMQ."""
    if settings.broker.url is not None and settings.broker.is_amqp:
        # Publisher confirms: a send returns once RabbitMQ has the message, so "enqueued" means queued.
        # RabbitMQ redelivers an unacknowledged task when its consumer's connection closes, not on a timer.
        return settings.broker.url, {"confirm_publish": True}
    redis_transport = {
        # Must exceed the longest task, or Redis hands an unacknowledged task to a second worker.
        "visibility_timeout": settings.pipeline.visibility_timeout_s,
        "socket_timeout": settings.redis.socket_timeout_s,
        "socket_connect_timeout": settings.redis.socket_timeout_s,
    }
    return settings.broker.url or settings.redis.broker_url, redis_transport


def celery_config(settings: Settings) -> dict[str, Any]:
    p = settings.pipeline
    broker_url, transport_options = _broker(settings)
    return {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": QueueName.PIPELINE,
        "task_queues": [Queue(name) for name in QueueName.ALL],
        "task_routes": TASK_ROUTES,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": p.task_soft_time_limit_s,
        "task_time_limit": p.task_time_limit_s,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "enable_utc": True,
    }


# The Redis stream on which the worker announces each processed article (field ``id``); the query service's
# live stream and the saved-search matcher read it.
PROCESSED_STREAM = "tidings:articles:processed"

ENQUEUED_AT_HEADER = "enqueued_at"


def _stamp_enqueued_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    # Lets the sweeper read how old the next task in a queue is, so it re-enqueues only what a backlog
    # cannot explain (services/worker/sweeper.py). Every producer goes through here, retries included.
    if headers is not None:
        headers[ENQUEUED_AT_HEADER] = time.time()


def message_enqueued_at(raw: bytes | str) -> float | None:
    """The ``enqueued_at`` stamp of a message as kombu's Redis transport stores it; None when it has none
    (a producer that does not stamp) or is not such a message."""
    try:
        return float(json.loads(raw)["headers"][ENQUEUED_AT_HEADER])
    except (ValueError, KeyError, TypeError):
        return None


signals.before_task_publish.connect(_stamp_enqueued_at, weak=False, dispatch_uid="tidings-enqueued-at")


def make_celery(settings: Settings, name: str) -> Celery:
    """A Celery app configured for the platform; the ingest service uses it as a producer only."""
    app = Celery(name)
    app.conf.update(celery_config(settings))
    return app
