"""Tone (sentiment) with VADER, as GDELT gives tone: negative, neutral or positive, ``score`` the compound.

VADER is a lexicon tuned for English. A long text pushes its compound to ±1, so the article's compound is the
mean of its sentences' compounds, over the opening ``MAX_CHARS`` (where news sets its tone; it also bounds
the cost).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from shared.tagging.base import Document, Tag
from shared.tagging.vocabulary import TONE

VERSION = "1"
MAX_CHARS = 2_500
THRESHOLD = 0.05  # VADER's own cut-off between neutral and polar
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound(text: str) -> float:
    """Mean VADER compound of the sentences of the opening of ``text``, in [-1, 1]."""
    analyzer = _analyzer()
    sentences = [s for s in _SENTENCE.split(text[:MAX_CHARS]) if len(s) > 2]
    if not sentences:
        return 0.0
    return sum(analyzer.polarity_scores(s)["compound"] for s in sentences) / len(sentences)


def label(score: float) -> str:
    if score >= THRESHOLD:
        return "positive"
    if score <= -THRESHOLD:
        return "negative"
    return "neutral"


class ToneTagger:
    name = "tone"
    version = f"{VERSION}/vader-{version('vaderSentiment')}"
    languages: frozenset[str] | None = frozenset({"en"})
    needs_mentions = False

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        out: list[list[Tag]] = []
        for doc in docs:
            if doc.language != "en":
                out.append([])
                continue
            score = round(compound(doc.text), 4)
            value = label(score)
            out.append(
                [
                    Tag(
                        kind=TONE.name,
                        value=value,
                        name=value,
                        tagger=self.name,
                        tagger_version=self.version,
                        score=score,
                    )
                ]
            )
        return out
