"""Language identification (ISO 639-1) with py3langid: ships its model, ~1 ms per article, 97 languages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from shared.tagging.base import Document, Tag

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


class LanguageTagger:
    """The ``language`` tag: the language the pipeline settled on (declared or detected), with its score.

    Detects only when the document arrives without a language (a backfill of old rows, a benchmark).
    """

    name = "language"
    version = "1/py3langid-0.4"
    languages: frozenset[str] | None = None
    needs_mentions = False

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        out: list[list[Tag]] = []
        for doc in docs:
            code, score = doc.language, doc.language_score
            if code is None:
                guess = detect_language(doc.text)
                code, score = guess.code, guess.score
                doc.language, doc.language_score = code, score
            if not code:
                out.append([])
                continue
            out.append(
                [
                    Tag(
                        kind="language",
                        value=code,
                        name=_language_name(code),
                        tagger=self.name,
                        tagger_version=self.version,
                        score=round(score, 4) if score is not None else 1.0,
                    )
                ]
            )
        return out


@lru_cache(maxsize=256)
def _language_name(code: str) -> str:
    import pycountry

    found = pycountry.languages.get(alpha_2=code)
    return str(found.name) if found is not None else code
