"""The enabled taggers over a batch: the entity recogniser once (if a tagger needs its mentions), then each
tagger over the whole batch. A tagger that fails on a document costs that document those tags, never the
article: the failure is logged and the other taggers' tags stand.

Documents arrive with their language decided (the worker's language stage, or
:func:`shared.tagging.language.settle_language` for a caller without a stored one): no tagger detects it
again, so every tag of an article is made under the language stored on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import structlog

from shared.tagging.base import Document, Tag, Tagger
from shared.tagging.ner import EntityRecognizer
from shared.tagging.rules import Rule, RuleTagger
from shared.tagging.settings import TaggingSettings
from shared.tagging.vocabulary import RULES, vocabulary

log = structlog.get_logger(__name__)


ENTITIES = "entities"  # the tagger that needs the recogniser; the fast profile leaves it out


def _default_names(settings: TaggingSettings, registered: Iterable[str]) -> list[str]:
    if settings.enabled is not None:
        return list(settings.enabled)
    return [n for n in registered if not (settings.profile == "fast" and n == ENTITIES)]


class UndeclaredKind(ValueError):
    """A tagger emitted a kind the vocabulary lacks: the tag would be stored but found by no search or facet."""


class Taggers:
    """The enabled taggers, built once per process (the spaCy model and the gazetteer load here)."""

    def __init__(self, settings: TaggingSettings, *, only: Iterable[str] | None = None) -> None:
        registered = vocabulary().taggers
        names = list(only if only is not None else _default_names(settings, registered))
        if settings.profile == "fast" and ENTITIES in names:
            raise ValueError("the fast tagging profile runs no entity recogniser: leave 'entities' out of the list")
        unknown = set(names) - set(registered)
        if unknown:
            raise ValueError(f"unknown tagger {sorted(unknown)[0]!r}; taggers are {', '.join(registered)}")
        self.rules_enabled = RULES in names
        self.taggers: list[Tagger] = [
            entry.build(settings) for name, entry in registered.items() if name in names and name != RULES
        ]
        self.recognizer = (
            EntityRecognizer(batch_size=settings.ner_batch_size, max_chars=settings.ner_max_chars)
            if any(t.needs_mentions for t in self.taggers)
            else None
        )

    def versions(self) -> dict[str, str]:
        """Tagger name → version, for the registered taggers (rules carry their own versions)."""
        return {t.name: t.version for t in self.taggers}

    def tag(
        self,
        docs: Sequence[Document],
        rules: Sequence[Rule] = (),
        *,
        inherited: Sequence[Sequence[Tag] | None] | None = None,
    ) -> list[list[Tag]]:
        """Tags per document (no two with the same kind, value and tagger), in the order given.

        ``inherited[i]``, when not None, stands for what the registered taggers would say of ``docs[i]`` (the
        tags of an exact copy already tagged): they are taken as they are and only the rules run on it.
        """
        if not docs:
            return []
        fresh = [i for i in range(len(docs)) if inherited is None or inherited[i] is None]
        fresh_docs = [docs[i] for i in fresh]
        found: list[dict[tuple[str, str, str], Tag]] = [{} for _ in docs]

        def keep(i: int, tags: Iterable[Tag]) -> None:
            for tag in tags:
                kept = found[i].get(tag.key)
                if kept is None or kept.score < tag.score:
                    found[i][tag.key] = tag

        if fresh_docs:
            if self.recognizer is not None:
                self.recognizer.annotate(fresh_docs)
            for tagger in self.taggers:
                for i, tags in zip(fresh, _run(tagger, fresh_docs), strict=True):
                    keep(i, tags)
        for i, given in enumerate(inherited or ()):
            if given is not None:
                keep(i, given)
        if self.rules_enabled and rules:
            for i, ruled in enumerate(_run(RuleTagger(rules), docs)):
                keep(i, ruled)
        return [list(d.values()) for d in found]


def _checked(tagger: Tagger, out: list[list[Tag]]) -> list[list[Tag]]:
    known = vocabulary().kinds
    for tags in out:
        for tag in tags:
            if tag.kind not in known:
                raise UndeclaredKind(
                    f"tagger {tagger.name!r} emitted kind {tag.kind!r}, which no registry entry declares"
                )
    return out


def _run(tagger: Tagger, docs: Sequence[Document]) -> list[list[Tag]]:
    try:
        return _checked(tagger, tagger.tag(docs))
    except Exception:
        log.exception("tagger failed on a batch; retrying its documents one by one", tagger=tagger.name)
    out: list[list[Tag]] = []
    for doc in docs:
        try:
            out.append(_checked(tagger, tagger.tag([doc]))[0])
        except Exception:
            log.exception("tagger failed on a document", tagger=tagger.name, article_id=str(doc.id))
            out.append([])
    return out
