"""The Prometheus exporters of the worker and beat, and the periodic checks they publish.

The worker's main process serves every pool child's metrics (multiprocess mode, ``shared.metrics``) on
``TIDINGS_METRICS_WORKER_PORT``; beat serves its own on ``TIDINGS_METRICS_BEAT_PORT``. Each runs a collector
thread that records whether PostgreSQL, Redis and the broker answer it. Beat's also measures the queues:
depth is the length of each queue's Redis list; the oldest task's age comes from the ``enqueued_at`` header
every producer stamps (``shared.tasks``), read from the list's tail. The queue itself is measured, rather
than the ingestions table's oldest queued row, because every queue has tasks (maintenance, feeds, backfills,
deliveries) and only the pipeline's have rows; beat is the process to do it because there is exactly one,
and it keeps measuring when the workers are down, which is when the figures matter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import redis
import structlog
from kombu import Connection
from prometheus_client import start_http_server
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from shared.config import Settings
from shared.metrics import DEPENDENCY_UP, QUEUE_DEPTH, QUEUE_OLDEST_AGE, get_metrics_settings, registry
from shared.tasks import QueueName, celery_config, message_enqueued_at

log = structlog.get_logger(__name__)


def start_exporter(port: int, host: str) -> bool:
    """Serve ``/metrics`` on ``port``; a port already taken is logged, never fatal to the worker."""
    if port <= 0:
        return False
    try:
        start_http_server(port, addr=host, registry=registry())
    except OSError as exc:
        log.warning("metrics exporter not started", port=port, error=str(exc))
        return False
    log.info("metrics exporter started", port=port)
    return True


def measure_queues(client: redis.Redis, queues: Sequence[str], now: float) -> dict[str, tuple[int, float]]:
    """``{queue: (depth, oldest task's age in seconds)}`` in one round trip (kombu pops from the tail)."""
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        pipe.llen(queue)
        pipe.lindex(queue, -1)
    replies = pipe.execute()
    measured = {}
    for i, queue in enumerate(queues):
        depth, tail = int(replies[2 * i]), replies[2 * i + 1]
        enqueued_at = message_enqueued_at(tail) if tail is not None else None
        measured[queue] = (depth, max(0.0, now - enqueued_at) if enqueued_at is not None else 0.0)
    return measured


class Collector(threading.Thread):
    """Every ``collect_interval_s``: the dependencies as this process sees them, and the queues if asked."""

    def __init__(self, settings: Settings, *, queues: bool) -> None:
        super().__init__(name="tidings-metrics", daemon=True)
        self.settings = settings
        self.queues = queues
        self.interval_s = get_metrics_settings().collect_interval_s
        self._stop_event = threading.Event()
        # No pool: the worker's main process forks pool children at any time, and a child must never inherit
        # an open connection of this thread's.
        self.engine = create_engine(
            settings.database.url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": settings.database.connect_timeout_s,
                "application_name": "tidings-metrics",
            },
        )
        self.redis = redis.Redis.from_url(
            settings.redis.url,
            socket_timeout=settings.redis.socket_timeout_s,
            socket_connect_timeout=settings.redis.socket_timeout_s,
        )

    def collect(self) -> None:
        DEPENDENCY_UP.labels(dependency="postgres").set(self._postgres_up())
        DEPENDENCY_UP.labels(dependency="redis").set(self._redis_up())
        DEPENDENCY_UP.labels(dependency="broker").set(self._broker_up())
        if self.queues:
            try:
                measured = measure_queues(self.redis, QueueName.ALL, time.time())
            except (redis.RedisError, OSError) as exc:
                log.warning("queues not measured", error=type(exc).__name__)
                return
            for queue, (depth, age) in measured.items():
                QUEUE_DEPTH.labels(queue=queue).set(depth)
                QUEUE_OLDEST_AGE.labels(queue=queue).set(age)

    def _postgres_up(self) -> int:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return 1
        except Exception:  # any failure means "down" to this gauge; the error is the database's to log
            return 0

    def _redis_up(self) -> int:
        try:
            return int(bool(self.redis.ping()))
        except (redis.RedisError, OSError):
            return 0

    def _broker_up(self) -> int:
        try:
            broker_url = celery_config(self.settings)["broker_url"]
            with Connection(broker_url, connect_timeout=self.settings.redis.socket_timeout_s) as c:
                c.ensure_connection(max_retries=1)
            return 1
        except Exception:  # kombu raises the transport's own errors
            return 0

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.collect()
            except Exception:  # the collector must outlive any one failed round
                log.exception("metrics collection failed")
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.engine.dispose()
