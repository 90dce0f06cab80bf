"""Prometheus metrics for every outcome, shared by the services, the worker and beat, and how each exports them.

The Celery worker runs its tasks in prefork children, each with its own memory: with
``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts, as ``make run`` and the deploy files do),
prometheus_client keeps every process's values in files there and ``registry()`` sums them for the exporter.
The directory must be empty when the worker starts. Without it, an exporter shows only its own process.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_METRICS_", extra="ignore")

    worker_port: int = 9101  # the worker's exporter (all its pool children); 0 turns it off
    beat_port: int = 9102
    host: str = "0.0.0.0"
    collect_interval_s: float = 15.0  # queue depth, oldest task, dependencies: about one scrape interval


get_metrics_settings = settings_getter(MetricsSettings)


ARTICLES_ACCEPTED = Counter("tidings_articles_accepted_total", "Articles accepted by the ingest service", ["channel"])
ARTICLES_REPLAYED = Counter("tidings_articles_replayed_total", "Replays answered with the first article's id")
ARTICLES_REJECTED = Counter("tidings_articles_rejected_total", "Articles refused with a 4xx", ["reason"])
ENQUEUE_FAILURES = Counter("tidings_enqueue_failures_total", "Committed articles whose task could not be queued")
ARTICLES_PROCESSED = Counter("tidings_articles_processed_total", "Articles through the pipeline", ["outcome"])
STAGE_SECONDS = Histogram("tidings_stage_seconds", "Time per pipeline stage per batch", ["stage"])
# CPU rather than wall time: what each stage costs the worker's core, whatever else the machine runs.
STAGE_CPU_SECONDS = Counter("tidings_stage_cpu_seconds_total", "Worker CPU seconds per pipeline stage", ["stage"])
DEAD_LETTERED = Counter("tidings_articles_dead_lettered_total", "Articles parked after repeated failures", ["stage"])
RATE_LIMITED = Counter("tidings_requests_rate_limited_total", "Requests refused with 429")
RATE_LIMIT_UNCHECKED = Counter("tidings_rate_limit_unchecked_total", "Requests let through because Redis was down")
AUTH_FAILURES = Counter("tidings_auth_failures_total", "Requests refused for a missing or bad API key", ["reason"])
WEBHOOK_DELIVERIES = Counter("tidings_webhook_deliveries_total", "Webhook deliveries by outcome", ["outcome"])
FEED_POLLS = Counter("tidings_feed_polls_total", "Feed polls by outcome", ["outcome"])
DEDUP_DECISIONS = Counter("tidings_dedup_decisions_total", "Dedup decisions by the method that decided", ["method"])
TAGS_WRITTEN = Counter("tidings_tags_written_total", "Tags written by the tagging stage and backfills", ["kind"])
DELIVERIES = Counter("tidings_deliveries_total", "Saved-search webhook deliveries by outcome", ["outcome"])
HTTP_REQUESTS = Counter("tidings_http_requests_total", "HTTP requests answered", ["service", "route", "status"])
HTTP_SECONDS = Histogram("tidings_http_request_seconds", "Time to answer an HTTP request", ["service", "route"])
# Gauges measured by one process at a time: the value of the process that measured last is the one to show.
QUEUE_DEPTH = Gauge(
    "tidings_queue_depth", "Tasks waiting in each Celery queue", ["queue"], multiprocess_mode="mostrecent"
)
QUEUE_OLDEST_AGE = Gauge(
    "tidings_queue_oldest_task_age_seconds",
    "How long the oldest task waiting in each queue has waited (0 when the queue is empty)",
    ["queue"],
    multiprocess_mode="mostrecent",
)
FEED_LAST_SUCCESS = Gauge(
    "tidings_feed_last_success_timestamp_seconds",
    "Unix time of the feed's last successful poll that found new entries",
    ["feed"],
    multiprocess_mode="max",
)
DEPENDENCY_UP = Gauge(
    "tidings_dependency_up",
    "1 when the dependency answered this process's last check, else 0",
    ["dependency"],
    multiprocess_mode="livemostrecent",
)


def registry() -> CollectorRegistry:
    """What an exporter serves: every process's files in multiprocess mode, else this process's metrics."""
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    from prometheus_client import multiprocess

    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


def process_exited(pid: int) -> None:
    """Drop a finished process's live gauges (multiprocess mode only)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
