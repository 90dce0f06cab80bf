"""The tagging stage: the enabled taggers over the batch, then the tags written in ``after_store`` (one statement
for the whole batch).

The taggers (the spaCy model, the gazetteer) are built once in the worker's main process before it forks its
pool, so every child has them from its first article (``warm_up`` only finds them there). The rules are
read once per batch, under a shared advisory lock that a rule backfill waits on (see ``backfill``).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from celery import signals

from services.worker.context import BatchContext
from services.worker.stages import Stage
from shared.config import Settings
from shared.metrics import TAGS_WRITTEN
from shared.tagging.pipeline import TaggingPipeline
from shared.tagging.settings import get_tagging_settings
from shared.tagging.store import document_from_record, load_rules, lock_rules_shared, replace_tags


@lru_cache(maxsize=16)
def pipeline(only: tuple[str, ...] | None = None) -> TaggingPipeline:
    """The process's pipeline of the enabled taggers (or of ``only`` these, for a backfill)."""
    return TaggingPipeline(get_tagging_settings(), only=only)


@signals.worker_init.connect
def _load_in_the_parent(**_: object) -> None:
    # The worker's main process loads the models before it forks its pool: each child then has them at once
    # (copy-on-write), instead of loading for seconds in worker_process_init, where Celery gives a child only
    # worker_proc_alive_timeout (4 s) to come up before it kills it.
    if get_tagging_settings().enabled:
        pipeline()


class TaggingStage:
    name = "tagging"

    def warm_up(self) -> None:
        pipeline()

    def process(self, ctx: BatchContext) -> None:
        tagging = pipeline()
        rules = []
        if tagging.rules_enabled:
            lock_rules_shared(ctx.session)
            rules = load_rules(ctx.session)
        docs = [document_from_record(item.record) for item in ctx.items]
        for item, tags in zip(ctx.items, tagging.tag(docs, rules), strict=True):
            item.extras["tags"] = tags

    def after_store(self, ctx: BatchContext) -> None:
        tags = {item.id: item.extras.get("tags", []) for item in ctx.items}
        replace_tags(ctx.session, tags)
        for kind, count in Counter(t.kind for ts in tags.values() for t in ts).items():
            TAGS_WRITTEN.labels(kind=kind).inc(count)


def tagging_stages(settings: Settings) -> list[Stage]:
    return [TaggingStage()] if get_tagging_settings().enabled else []
