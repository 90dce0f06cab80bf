"""Decide each article's language, once: the worker stores it on the article and every tagger reads it.

When the model is unsure of an article (a brief, a table), the language its source is known to publish in
is one of the fallbacks (see ``detect_language``): each worker process learns it from the source's articles
the model was sure of, so no query is needed per batch.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from services.worker.context import BatchContext
from shared.tagging.language import decide_language, detect_language

# A source's language is known once this many of its articles were detected with this much confidence,
# and this share of them agree.
SURE_SCORE = 0.9
MIN_ARTICLES = 3
MIN_SHARE = 0.8
MAX_SOURCES = 10_000  # bounded memory: past this, sources seen since are not remembered


class SourceLanguages:
    """What each source publishes in, learnt from its confidently detected articles."""

    def __init__(self) -> None:
        self._seen: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def learn(self, source: str, code: str | None, score: float) -> None:
        if code and score >= SURE_SCORE and (source in self._seen or len(self._seen) < MAX_SOURCES):
            self._seen[source][code] += 1

    def known(self, source: str) -> str | None:
        counts = self._seen.get(source)
        if not counts:
            return None
        code, n = counts.most_common(1)[0]
        total = counts.total()
        return code if total >= MIN_ARTICLES and n >= MIN_SHARE * total else None


class LanguageStage:
    name = "language"

    def __init__(self) -> None:
        self.sources = SourceLanguages()

    def warm_up(self) -> None:
        detect_language("Loading the language model before the first article arrives.")

    def process(self, ctx: BatchContext) -> None:
        for item in ctx.items:
            record = item.record
            decision = decide_language(
                title=record.title,
                summary=record.summary,
                body=record.body,
                declared=item.payload.get("language"),
                source_language=self.sources.known(record.source),
            )
            if decision.guess.method == "model":
                self.sources.learn(record.source, decision.guess.code, decision.guess.score)
            record.language, record.language_score = decision.code, decision.score
