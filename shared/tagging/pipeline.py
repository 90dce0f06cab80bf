"""Runs the enabled taggers over a batch: the entity recogniser once (if a tagger needs its mentions), then
each tagger over the whole batch. A tagger that fails on a document costs that document those tags, never the
article: the failure is logged and the other taggers' tags stand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import structlog

from shared.tagging.base import Document, Tag, Tagger
from shared.tagging.entities import EntityTagger
from shared.tagging.keywords import KeywordTagger
from shared.tagging.language import LanguageTagger, detect_language
from shared.tagging.ner import EntityRecognizer
from shared.tagging.places import PlaceTagger
from shared.tagging.rules import Rule, RuleTagger
from shared.tagging.settings import ALL_TAGGERS, TaggingSettings
from shared.tagging.tone import ToneTagger
from shared.tagging.topics import TopicTagger

log = structlog.get_logger(__name__)


def build_tagger(name: str, settings: TaggingSettings) -> Tagger:
    """One of the built-in taggers by name (``rules`` is built per batch from the current rules)."""
    if name == "language":
        return LanguageTagger()
    if name == "entities":
        return EntityTagger()
    if name == "places":
        return PlaceTagger()
    if name == "topics":
        return TopicTagger()
    if name == "keywords":
        return KeywordTagger(limit=settings.keywords_per_article)
    if name == "tone":
        return ToneTagger()
    raise ValueError(f"unknown tagger {name!r}; taggers are {', '.join(ALL_TAGGERS)}")


class TaggingPipeline:
    """The enabled taggers, built once per process (the spaCy model and the gazetteer load here)."""

    def __init__(self, settings: TaggingSettings, *, only: Iterable[str] | None = None) -> None:
        names = list(only if only is not None else settings.enabled)
        unknown = set(names) - set(ALL_TAGGERS)
        if unknown:
            raise ValueError(f"unknown tagger {sorted(unknown)[0]!r}; taggers are {', '.join(ALL_TAGGERS)}")
        self.rules_enabled = "rules" in names
        self.taggers: list[Tagger] = [build_tagger(n, settings) for n in ALL_TAGGERS if n in names and n != "rules"]
        self.recognizer = (
            EntityRecognizer(batch_size=settings.ner_batch_size, max_chars=settings.ner_max_chars)
            if any(t.needs_mentions for t in self.taggers)
            else None
        )

    def versions(self) -> dict[str, str]:
        """Tagger name → version, for the built-in taggers (rules carry their own versions)."""
        return {t.name: t.version for t in self.taggers}

    def tag(self, docs: Sequence[Document], rules: Sequence[Rule] = ()) -> list[list[Tag]]:
        """Tags per document (no two with the same kind, value and tagger), in the order given."""
        if not docs:
            return []
        taggers = list(self.taggers)
        if self.rules_enabled and rules:
            taggers.append(RuleTagger(rules))
        # Every tagger reads the language: settle it first where the article arrived without one.
        for doc in docs:
            if doc.language is None:
                guess = detect_language(doc.text)
                doc.language, doc.language_score = guess.code, guess.score
        if self.recognizer is not None:
            self.recognizer.annotate(docs)
        found: list[dict[tuple[str, str, str], Tag]] = [{} for _ in docs]
        for tagger in taggers:
            for i, tags in enumerate(_run(tagger, docs)):
                for tag in tags:
                    kept = found[i].get(tag.key)
                    if kept is None or kept.score < tag.score:
                        found[i][tag.key] = tag
        return [list(d.values()) for d in found]


def _run(tagger: Tagger, docs: Sequence[Document]) -> list[list[Tag]]:
    try:
        return tagger.tag(docs)
    except Exception:
        log.exception("tagger failed on a batch; retrying its documents one by one", tagger=tagger.name)
    out: list[list[Tag]] = []
    for doc in docs:
        try:
            out.append(tagger.tag([doc])[0])
        except Exception:
            log.exception("tagger failed on a document", tagger=tagger.name, article_id=str(doc.id))
            out.append([])
    return out
