"""Language identification (ISO 639-1) with py3langid (ships its model, ~1 ms per article), with fallbacks for
text the model is unsure of (briefs, tables, two-line items): the source's language, stop words, script."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from shared.tagging.base import Document, Tag
from shared.tagging.vocabulary import LANGUAGE

# Below this many letters the guess is noise; below this probability the model alone does not decide.
MIN_LETTERS = 12
MIN_SCORE = 0.5
# The opening of an article decides its language; reading more only costs time (the model's cost grows with the
# text). On SIB-200's 205 languages, 40-sentence texts in a language the model knows come out the same from
# their first 2,000 characters as from 5,000 but for one Bosnian text read as Croatian.
MAX_CHARS = 2_000
# Stop-word evidence decides when it has at least this many hits and twice the runner-up's.
MIN_STOPWORD_HITS = 2
# Else an unsure model's best guess stands if it has this probability and this lead over the runner-up.
MIN_LEADING_SCORE = 0.1
LEAD_FACTOR = 1.5
# Words of English wire copy that no stop-word list holds: earnings and dividend briefs are made of them.
WIRE_ENGLISH = frozenset(
    [
        "shr",
        "shrs",
        "cts",
        "ct",
        "vs",
        "net",
        "qtr",
        "qtly",
        "div",
        "dlrs",
        "dlr",
        "mln",
        "billion",
        "revs",
        "oper",
        "avg",
        "pay",
        "payable",
        "record",
        "prior",
        "inc",
        "corp",
        "co",
        "ltd",
        "plc",
        "shares",
        "profit",
        "loss",
        "year",
        "quarter",
        "sales",
        "results",
    ]
)
# Scripts that name one language outright (Cyrillic, Arabic or Han script do not).
SCRIPT_LANGUAGE = {
    "GREEK": "el", "HEBREW": "he", "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "THAI": "th",
    "ARMENIAN": "hy", "GEORGIAN": "ka", "BENGALI": "bn", "GUJARATI": "gu", "GURMUKHI": "pa", "TAMIL": "ta",
    "TELUGU": "te", "KANNADA": "kn", "MALAYALAM": "ml", "SINHALA": "si", "KHMER": "km", "LAO": "lo",
    "ETHIOPIC": "am", "MYANMAR": "my",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class LanguageGuess:
    code: str | None
    score: float
    method: str = "model"  # model, source, stopwords, script, model-low or none


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, *, source_language: str | None = None) -> LanguageGuess:
    """The most likely language of ``text``, with its probability under the model.

    When the model is unsure (a short brief, a results table), the evidence falls back in this order: the
    language the article's source is known to publish in (``source_language``), stop words (and English
    wire abbreviations such as "shr", "cts", "qtly"), a script that belongs to one language, and the model's best guess if it leads clearly. ``code`` is
    None only when none of them says anything. The score stays the model's probability for the chosen code,
    so a fallback's low confidence remains visible.
    """
    sample = text[:MAX_CHARS]
    if not has_letters(sample, MIN_LETTERS):
        if not source_language:
            return LanguageGuess(code=None, score=0.0, method="none")
        return LanguageGuess(code=source_language, score=0.0, method="source")
    # py3langid also answers in codes that are no ISO 639-1 language ("zxx": no linguistic content, for a
    # table of figures; "pcm": Nigerian Pidgin, for English wire shorthand): such an answer is not a sure one.
    ranked = [(str(c), float(p)) for c, p in _identifier().rank(sample)]
    code, score = ranked[0]
    if score >= MIN_SCORE and is_iso_639_1(code):
        return LanguageGuess(code=code, score=round(score, 4))
    probability = dict(ranked)

    def guess(chosen: str, method: str) -> LanguageGuess:
        return LanguageGuess(code=chosen, score=round(probability.get(chosen, 0.0), 4), method=method)

    script = dominant_script(sample)
    latin = script in (None, "LATIN")
    if source_language and latin == (source_language not in _NON_LATIN):
        return guess(source_language, "source")
    if script == "LATIN":
        by_stopwords = stopword_language(sample)
        if by_stopwords is not None:
            return guess(by_stopwords, "stopwords")
    if script in SCRIPT_LANGUAGE:
        return guess(SCRIPT_LANGUAGE[script], "script")
    # Last, the model's own best guess among real languages, if it at least stands out from the rest.
    candidates = [*((c, p) for c, p in ranked if is_iso_639_1(c)), ("", 0.0), ("", 0.0)]
    (best, best_score), (_, runner_up) = candidates[0], candidates[1]
    if best and best_score >= MIN_LEADING_SCORE and best_score >= LEAD_FACTOR * runner_up:
        return guess(best, "model-low")
    return LanguageGuess(code=None, score=round(score, 4), method="none")


def has_letters(text: str, n: int) -> bool:
    """Whether ``text`` has at least ``n`` letters (stops counting at ``n``)."""
    return n <= 0 or next(islice((ch for ch in text if ch.isalpha()), n - 1, None), None) is not None


def is_iso_639_1(code: str) -> bool:
    """Whether ``code`` is a two-letter ISO 639-1 code, the only kind an article's language is stored as."""
    return len(code) == 2 and code.isalpha()


# Languages whose text is not in Latin script (a Latin-script text cannot be in them, whatever the source).
_NON_LATIN = frozenset({*SCRIPT_LANGUAGE.values(), "ru", "uk", "bg", "sr", "mk", "be", "ar", "fa", "ur", "zh", "hi"})


def dominant_script(text: str) -> str | None:
    """The Unicode script most of the letters are in ("LATIN", "CYRILLIC", "HAN"…), from the letters' names."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            counts["HAN" if name.startswith("CJK") else name.split(" ", 1)[0]] += 1
    return counts.most_common(1)[0][0] if counts else None


def stopword_language(text: str) -> str | None:
    """The language whose stop words (English: and wire abbreviations) the text uses most, if clearly."""
    words = [w.casefold() for w in _WORD.findall(text)]
    hits = Counter({lang: sum(w in stop for w in words) for lang, stop in _stopword_lists().items()})
    (best, n), (_, runner_up) = ([*hits.most_common(2), ("", 0)])[:2]
    if n >= MIN_STOPWORD_HITS and n >= 2 * runner_up:
        return best
    return None


@lru_cache(maxsize=1)
def _stopword_lists() -> dict[str, frozenset[str]]:
    from shared.tagging.keywords import LANGUAGES, stopwords

    lists = {lang: stopwords(lang) for lang in sorted(LANGUAGES)}
    lists["en"] = lists["en"] | WIRE_ENGLISH
    return lists


@dataclass(frozen=True)
class LanguageDecision:
    """An article's language as stored on it: ``code`` None when nothing could tell."""

    code: str | None
    score: float | None
    guess: LanguageGuess  # what the detector said, kept so a caller can learn from confident answers


def decide_language(
    *, title: str, summary: str | None, body: str, declared: str | None = None, source_language: str | None = None
) -> LanguageDecision:
    """The one place an article's language is decided, over its title, standfirst and body together.

    A language the sender declared wins; the score is then the detector's only if it agrees. Otherwise the
    detector decides, with the fallbacks of :func:`detect_language` (``source_language`` among them). Taggers
    read the answer from the document and never detect again, so the language stored on the article is the
    one every tag was made under.
    """
    # Only the opening is read: the body is cut before joining, so a long article is not copied whole.
    text = "\n".join(part[:MAX_CHARS] for part in (title, summary, body) if part)
    guess = detect_language(text, source_language=source_language)
    if declared:
        return LanguageDecision(declared, guess.score if guess.code == declared else None, guess)
    return LanguageDecision(guess.code, guess.score if guess.code else None, guess)


def settle_language(docs: Sequence[Document]) -> None:
    """Decide the language of documents that come without a stored one (the ``tidings tag`` command, tests,
    benchmarks), as the worker's language stage decides it for an article."""
    for doc in docs:
        decision = decide_language(title=doc.title, summary=doc.summary, body=doc.body, declared=doc.language)
        doc.language, doc.language_score = decision.code, decision.score


class LanguageTagger:
    """The ``language`` tag: the language decided for the article (declared or detected), with its score.

    It never detects: the language was decided once, before any tagger ran, and stored on the article.
    """

    name = "language"
    version = "1/py3langid-0.4"
    languages: frozenset[str] | None = None
    needs_mentions = False

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        out: list[list[Tag]] = []
        for doc in docs:
            code, score = doc.language, doc.language_score
            if not code:
                out.append([])
                continue
            out.append(
                [
                    Tag(
                        kind=LANGUAGE.name,
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
