"""The tagging stage: the enabled taggers over the batch, then the tags written in ``after_store`` (one statement
for the whole batch).

The taggers (the spaCy model, the gazetteer) are built once in the worker's main process before it forks its
pool, so every child has them from its first article (``warm_up`` only finds them there). The rules are
read once per batch, under a shared advisory lock that a rule backfill waits on (see ``backfill``).

Exact copies are not tagged again (a wire story arrives many times): an article whose text the taggers would
read exactly as they read an article already stored takes that article's tags (one query per batch), and copies
within the batch take the first one's; only the rules run on each. Where no tagged copy exists, it is tagged.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from celery import signals

from services.worker.context import BatchContext
from services.worker.heap import freeze_loaded
from services.worker.stages import Stage
from shared.metrics import TAGS_WRITTEN
from shared.tagging.base import Tag
from shared.tagging.settings import get_tagging_settings
from shared.tagging.store import (
    CopyKey,
    copy_key,
    document_of,
    load_rules,
    lock_rules_shared,
    replace_tags,
    tags_of_copies,
)
from shared.tagging.taggers import Taggers
from shared.tagging.vocabulary import RULE


@lru_cache(maxsize=16)
def taggers(only: tuple[str, ...] | None = None) -> Taggers:
    """The process's enabled taggers (or ``only`` these, for a backfill)."""
    return Taggers(get_tagging_settings(), only=only)


@signals.worker_init.connect
def _load_in_the_parent(**_: object) -> None:
    # The worker's main process loads the models before it forks its pool: each child then has them at once
    # (copy-on-write), instead of loading for seconds in worker_process_init, where Celery gives a child only
    # worker_proc_alive_timeout (4 s) to come up before it kills it.
    if _enabled():
        taggers()
        freeze_loaded()


class TaggingStage:
    name = "tagging"

    def warm_up(self) -> None:
        taggers()

    def process(self, ctx: BatchContext) -> None:
        tagging = taggers()
        rules = []
        if tagging.rules_enabled:
            lock_rules_shared(ctx.session)
            rules = load_rules(ctx.session)
        records = [item.record for item in ctx.items]
        docs = [document_of(r) for r in records]
        keys = [copy_key(r) for r in records]
        stored = tags_of_copies(ctx.session, records, tagging.versions())
        first: dict[CopyKey, int] = {}
        inherited: list[list[Tag] | None] = []
        for i, key in enumerate(keys):
            if key in stored:
                inherited.append(stored[key])
            elif key in first:
                inherited.append([])  # filled from the first copy once it is tagged
            else:
                first[key] = i
                inherited.append(None)
        tagged = tagging.tag(docs, rules, inherited=inherited)
        for i, key in enumerate(keys):
            leader = first.get(key, i)
            if leader != i:
                tagged[i] = [t for t in tagged[leader] if t.kind != RULE.name] + tagged[i]
        for item, tags in zip(ctx.items, tagged, strict=True):
            item.tags = tags

    def after_store(self, ctx: BatchContext) -> None:
        tags = {item.id: item.tags for item in ctx.items}
        replace_tags(ctx.session, tags)
        for kind, count in Counter(t.kind for ts in tags.values() for t in ts).items():
            TAGS_WRITTEN.labels(kind=kind).inc(count)


def _enabled() -> bool:
    # None enables every registered tagger; an empty list switches tagging off.
    return get_tagging_settings().enabled != ()


def tagging_stages() -> list[Stage]:
    return [TaggingStage()] if _enabled() else []
