"""The Celery app of the worker and beat (``celery -A services.worker.app ...``)."""

from __future__ import annotations

import os
from typing import Any

import structlog
from celery import signals

from services.worker import resources
from services.worker.heap import freeze_loaded
from services.worker.metrics import Collector, start_exporter
from shared.channels.settings import get_channel_settings
from shared.config import get_settings
from shared.dedup.settings import get_dedup_settings
from shared.delivery.settings import get_delivery_settings
from shared.events.settings import get_event_settings
from shared.logging import configure_logging
from shared.metrics import MULTIPROC_ENV, get_metrics_settings, process_exited
from shared.search.settings import get_search_settings
from shared.tagging.settings import get_tagging_settings
from shared.tasks import TaskName, make_celery

log = structlog.get_logger(__name__)
settings = get_settings()
app = make_celery(settings, "tidings-worker")
app.conf.include = [
    "services.worker.tasks",  # pipeline and maintenance
    "services.worker.dedup_tasks",  # dedup index expiry
    "services.worker.event_tasks",  # event index expiry
    "services.worker.backfill",  # re-tagging after rule or tagger changes
    "services.worker.delivery",  # saved-search webhooks
    "services.worker.tag_stats",  # /v1/tags counts
    "services.worker.feeds",  # feed polling
]
app.conf.beat_schedule = {
    "sweep-stalled": {
        "task": TaskName.SWEEP_STALLED,
        "schedule": settings.pipeline.sweep_interval_s,
        "options": {"expires": settings.pipeline.sweep_interval_s},
    },
    "purge-expired": {
        "task": TaskName.PURGE_EXPIRED,
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "poll-feeds": {
        "task": TaskName.POLL_DUE_FEEDS,
        "schedule": get_channel_settings().feed_schedule_s,
        "options": {"expires": get_channel_settings().feed_schedule_s},
    },
    "backfill-sweep": {  # tagger version changes start backfills; stalled backfills resume
        "task": TaskName.BACKFILL_SWEEP,
        "schedule": get_tagging_settings().backfill_sweep_interval_s,
        "options": {"expires": get_tagging_settings().backfill_sweep_interval_s},
    },
    "expire-dedup-index": {
        "task": TaskName.EXPIRE_DEDUP_INDEX,
        "schedule": get_dedup_settings().expiry_interval_s,
        "options": {"expires": get_dedup_settings().expiry_interval_s},
    },
    "expire-event-index": {
        "task": TaskName.EXPIRE_EVENT_INDEX,
        "schedule": get_event_settings().expiry_interval_s,
        "options": {"expires": get_event_settings().expiry_interval_s},
    },
    "match-saved-searches": {
        "task": TaskName.DELIVERY_MATCH,
        "schedule": get_delivery_settings().match_interval_s,
        "options": {"expires": get_delivery_settings().match_interval_s},
    },
    "refresh-tag-stats": {
        "task": TaskName.REFRESH_TAG_STATS,
        "schedule": get_search_settings().tag_stats_refresh_s,
        "options": {"expires": get_search_settings().tag_stats_refresh_s},
    },
}


@signals.setup_logging.connect
def _logging(**_: Any) -> None:
    configure_logging(settings.observability, service="worker")


@signals.worker_init.connect
def _worker_exporter(**_: Any) -> None:
    # In the main process, before the pool forks: it outlives the children it serves the metrics of.
    metrics = get_metrics_settings()
    if not os.environ.get(MULTIPROC_ENV):
        log.warning(f"{MULTIPROC_ENV} is not set: the worker's exporter shows its main process only")
    start_exporter(metrics.worker_port, metrics.host)
    Collector(settings, queues=False).start()


@signals.beat_init.connect
def _beat_exporter(**_: Any) -> None:
    metrics = get_metrics_settings()
    start_exporter(metrics.beat_port, metrics.host)
    Collector(settings, queues=True).start()


@signals.worker_process_init.connect
def _fresh_resources(**_: Any) -> None:
    # Connections made before the fork must not be shared by the children.
    resources.reset()
    # Load models now rather than on the first article, so the first article is as fast as the rest.
    for stage in resources.resources().stages:
        warm_up = getattr(stage, "warm_up", None)
        if callable(warm_up):
            warm_up()
    freeze_loaded()


@signals.worker_process_shutdown.connect
def _close_resources(**_: Any) -> None:
    resources.resources().close()
    process_exited(os.getpid())
