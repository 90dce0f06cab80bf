"""Language identification (ISO 639-1) with py3langid: ships its model, ~1 ms per article, 97 languages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Below this many letters the guess is noise; below this probability we say we do not know.
MIN_LETTERS = 12
MIN_SCORE = 0.5
MAX_CHARS = 5_000  # the opening of an article decides its language; reading more only costs time


@dataclass(frozen=True)
class LanguageGuess:
    code: str | None
    score: float


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> LanguageGuess:
    """The most likely language of ``text``; ``code`` is None when the text is too short or ambiguous."""
    sample = text[:MAX_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return LanguageGuess(code=None, score=0.0)
    code, score = _identifier().classify(sample)
    if score < MIN_SCORE:
        return LanguageGuess(code=None, score=float(score))
    return LanguageGuess(code=str(code), score=round(float(score), 4))
