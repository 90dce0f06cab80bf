"""Keyphrases per article, fast: candidate phrases are runs of content words between stopwords and
punctuation (as in RAKE) and their parts, scored by how often the phrase and its words recur, with a bonus for
headline words; a phrase inside (or around) a better one is left out.

Languages with a spaCy stopword list get keywords; the phrase is the tag's value lower-cased, its most common
written form the tag's name.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from shared.tagging.base import Document, Tag
from shared.tagging.settings import TaggingSettings
from shared.tagging.vocabulary import KEYWORD

VERSION = "1"
MAX_WORDS = 3
MIN_CHARS = 3
TITLE_BONUS = 2.0
LANGUAGES = frozenset({"en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "ru", "cs", "ro"})

# Punctuation that ends a phrase (apostrophes and hyphens inside words do not); then words split on spaces.
_BREAK = re.compile(r"[^\w\s'’\-]+|\s[-–—]+\s|(?<!\w)['’\-]+|['’\-]+(?!\w)", re.UNICODE)
_EXTRA_STOPWORDS = {
    "en": "said says say told according also would could year years week weeks day days time times people "
    "mr mrs ms new one two three first last many much more most like just including per cent percent "
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow"
}


@lru_cache(maxsize=32)
def stopwords(language: str) -> frozenset[str]:
    """spaCy's stopword list for ``language`` plus news filler words ("said", weekdays)."""
    module = importlib.import_module(f"spacy.lang.{language}.stop_words")
    extra = _EXTRA_STOPWORDS.get(language, "").split()
    return frozenset(w.lower() for w in (*module.STOP_WORDS, *extra))


def candidates(text: str, stop: frozenset[str]) -> list[tuple[str, ...]]:
    """Runs of up to ``MAX_WORDS`` content words, split at stopwords, numbers and punctuation."""
    out: list[tuple[str, ...]] = []
    for segment in _BREAK.split(text):
        run: list[str] = []
        for tok in segment.split():
            low = tok.lower()
            if low in stop or len(low) < 2 or low.isdigit():
                if run:
                    out.append(tuple(run))
                    run = []
                continue
            run.append(tok)
            if len(run) == MAX_WORDS:
                out.append(tuple(run))
                run = []
        if run:
            out.append(tuple(run))
    return out


class KeywordTagger:
    """``keyword`` tags: the article's top phrases, scored 0-1 against the best."""

    name = "keywords"
    version = VERSION
    languages: frozenset[str] | None = LANGUAGES
    needs_mentions = False

    def __init__(self, *, limit: int = 10) -> None:
        self.limit = limit

    @classmethod
    def from_settings(cls, settings: TaggingSettings) -> KeywordTagger:
        return cls(limit=settings.keywords_per_article)

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        return [self._tag_one(d) if d.language in LANGUAGES else [] for d in docs]

    def _tag_one(self, doc: Document) -> list[Tag]:
        assert doc.language is not None
        stop = stopwords(doc.language)
        phrases = candidates(doc.text, stop)
        if not phrases:
            return []
        lowered = [tuple(w.lower() for w in p) for p in phrases]
        word_freq: Counter[str] = Counter(w for p in lowered for w in p)
        title = {w.lower() for p in candidates(doc.title, stop) for w in p}
        # The two-word parts of a run are candidates too: "charging stations remain" also offers
        # "charging stations", which wins when it recurs. Single words count only where they stand alone.
        phrase_freq: Counter[tuple[str, ...]] = Counter()
        forms: dict[tuple[str, ...], tuple[str, ...]] = {}  # the first written form of each phrase
        for p, low in zip(phrases, lowered, strict=True):
            n = len(p)
            for size in range(min(2, n), n + 1):
                for start in range(n - size + 1):
                    key = low[start : start + size]
                    phrase_freq[key] += 1
                    if key not in forms:
                        forms[key] = p[start : start + size]
        scored: list[tuple[float, tuple[str, ...]]] = []
        for key, freq in phrase_freq.items():
            size = len(key)
            recurrence = sum(word_freq[w] for w in key) / size
            if (freq == 1 and recurrence == 1 and size == 1) or sum(len(w) for w in key) < MIN_CHARS:
                continue  # a word said once is not what the article is about
            score = freq * recurrence * (1 + 0.5 * (size - 1))
            if not title.isdisjoint(key):
                score *= TITLE_BONUS
            scored.append((score, key))
        if not scored:
            return []
        scored.sort(key=lambda s: (-s[0], s[1]))
        chosen: list[tuple[float, tuple[str, ...]]] = []
        padded: list[str] = []
        for score, key in scored:
            text = f" {' '.join(key)} "
            if any(text in other or other in text for other in padded):
                continue  # part of, or a longer form of, a phrase already chosen
            chosen.append((score, key))
            padded.append(text)
            if len(chosen) == self.limit:
                break
        best = chosen[0][0]
        return [
            Tag(
                kind=KEYWORD.name,
                value=" ".join(key),
                name=" ".join(forms[key]),
                tagger=self.name,
                tagger_version=self.version,
                score=round(score / best, 4),
                mentions=phrase_freq[key],
            )
            for score, key in chosen
        ]
