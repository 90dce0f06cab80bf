"""Prometheus counters for every outcome, shared by the services and the worker."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ARTICLES_ACCEPTED = Counter("tidings_articles_accepted_total", "Articles accepted by the ingest service", ["channel"])
ARTICLES_REPLAYED = Counter("tidings_articles_replayed_total", "Replays answered with the first article's id")
ARTICLES_REJECTED = Counter("tidings_articles_rejected_total", "Articles refused as invalid", ["reason"])
ENQUEUE_FAILURES = Counter("tidings_enqueue_failures_total", "Committed articles whose task could not be queued")
ARTICLES_PROCESSED = Counter("tidings_articles_processed_total", "Articles through the pipeline", ["outcome"])
STAGE_SECONDS = Histogram("tidings_stage_seconds", "Time per pipeline stage per batch", ["stage"])
DEAD_LETTERED = Counter("tidings_articles_dead_lettered_total", "Articles parked after repeated failures", ["stage"])
RATE_LIMITED = Counter("tidings_requests_rate_limited_total", "Requests refused with 429")
RATE_LIMIT_UNCHECKED = Counter("tidings_rate_limit_unchecked_total", "Requests let through because Redis was down")
AUTH_FAILURES = Counter("tidings_auth_failures_total", "Requests refused for a missing or bad API key", ["reason"])
WEBHOOK_DELIVERIES = Counter("tidings_webhook_deliveries_total", "Webhook deliveries by outcome", ["outcome"])
FEED_POLLS = Counter("tidings_feed_polls_total", "Feed polls by outcome", ["outcome"])
