"""The pure event engine: what an article says (weighted terms, entities, places, time), and whether two
articles report the same event.

Text similarity is a TF-IDF cosine over the title and lead. The inverse document frequency comes from
``wordfreq`` (word frequencies of 40+ languages over large corpora, shipped inside the package): a word's
weight is how much rarer it is than the commonest words, so "the", "said" and "Tuesday" weigh little and
"earthquake" or a surname much. Words are cut to their first ``stem_chars`` characters, a crude stemmer that
works in every language with spaces ("earthquakes" and "earthquake" meet). The verification wants either a
strong text match or a moderate one backed by a shared named entity or place (the taggers', or an anchor's
below), within the time window.

Two articles in different languages share few words, so between them the engine compares *anchors* instead:
evidence that reads the same in every language written in Latin script or with Arabic numerals. Places named in
the text resolve to one gazetteer entry whatever the language spells them ("Monaco di Baviera", "München" and
"Munich" are one city), other capitalised Latin-script words are names (people, companies, teams, compared
case- and accent-insensitively, cut like the stems), and figures of two digits or more are figures. A name is
weighted by how rare it is as a word in English and in the article's language, so a capitalised common word
says little; a year weighs less than another figure. Cross-language articles join when their anchor vectors
are close enough and share at least ``min_shared_anchors`` anchors.

Reports that paraphrase each other, or are written in two languages with few names in common, are compared
by meaning too: a multilingual sentence embedding of the opening words (``shared.events.embedding``). A close
embedding alone never joins two articles: it needs a shared name, place or anchor to back it, as the text
similarity does, or a moderate text similarity: two independent signals (the words chosen, the meaning read)
that each fall short but agree.

An opening tells only part of a story: when no rule joins an article, the engine takes a second look at its
few candidates closest in meaning (``second_look_candidates``, if at least ``second_look_floor``), comparing
the mean embeddings of the two bodies' first sentences, which the caller embeds for that short list only.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from operator import mul
from typing import TypeVar

import numpy as np
from wordfreq import available_languages, zipf_frequency

from shared.events.embedding import Vector, band_keys, embedding_cosine
from shared.events.settings import EventSettings
from shared.tagging.base import fold
from shared.tagging.gazetteer import Place

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# A Latin-script word (letters of the Latin blocks, with inner apostrophes and hyphens): the script that
# writes names the same way across the languages the engine meets.
_LATIN_WORD = re.compile(
    r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f][A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f'’-]*"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_PLACE_WEIGHT = 2.0
# Many unrelated stories of a day share a country: it says less than a city or a name.
_COUNTRY_WEIGHT = 1.0
_FIGURE_WEIGHT = 2.0
_YEAR_WEIGHT = 1.0
# Names rarer than this in English and in the article's language are anchors (Zipf 4.5: about one in 30,000
# words, "Berlin" is rarer, "House" is not).
_NAME_MAX_ZIPF = 4.5
# Shouted words this long are headline furniture ("BREAKING", "EXCLUSIVE"), not names.
_SHOUTED = 7
# Figures (a death toll, a magnitude, a score) read the same in every language: they are terms too.
_NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")
# wordfreq's Zipf scale: log10 of a word's frequency per billion words; ~7.7 for "the", 0 when unseen.
_STOP_ZIPF = 6.0
_MAX_WEIGHT = 6.0
_ENTITY_BONUS_CAP = 3
T = TypeVar("T")


class Rule(StrEnum):
    founded = "founded"  # no candidate matched: the article starts an event
    copy = "copy"  # a copy of an article already in an event (same dedup cluster)
    text_and_entity = "text+entity"  # similar text and a shared entity or place
    strong_text = "strong_text"  # very similar text
    anchors = "anchors"  # articles in different languages sharing places, names and figures
    embedding = "embedding"  # close in meaning (multilingual embedding) and sharing a name, place or anchor
    text_and_embedding = "text+embedding"  # moderately similar text and moderately close in meaning
    second_look = "second_look"  # openings moderately close in meaning, and close bodies (their first sentences)
    correction = "correction"  # where a user put it
    kept = "kept"  # decided before; reprocessing keeps it


@lru_cache(maxsize=200_000)
def term_weight(word: str, language: str) -> float:
    """How much a word says: 0 for the commonest words, up to ``_MAX_WEIGHT`` for words never seen."""
    zipf = zipf_frequency(word, language) if language else 0.0
    return max(0.0, min(_MAX_WEIGHT, _STOP_ZIPF + 1.0 - zipf)) if zipf < _STOP_ZIPF else 0.0


def _language(language: str | None) -> str:
    if language in _SPACELESS:
        return language
    return language if language in _LANGUAGES else "en"


# Written without spaces: a "word" is a whole clause, so terms are character bigrams, evenly weighted
# (wordfreq would need a segmenter for them, jieba or MeCab, that the project does not ship).
_SPACELESS = frozenset({"zh", "ja", "th", "lo", "km", "my"})
_BIGRAM_WEIGHT = 3.0


def _terms(text: str, language: str, stem_chars: int, number_weight: float) -> Iterable[tuple[str, float]]:
    """(term, weight) for each informative word and figure of the text."""
    if number_weight > 0:
        for figure in _NUMBER.findall(text):
            if len(figure) >= 2:
                yield "#" + figure.replace(",", "."), number_weight
    if language in _SPACELESS:
        for run in _WORD.findall(text):
            for i in range(len(run) - 1):
                yield run[i : i + 2], _BIGRAM_WEIGHT
        return
    for word in _WORD.findall(text):
        w = term_weight(word, language)
        if w > 0:
            yield word[:stem_chars], w


_LANGUAGES = frozenset(available_languages())


@dataclass(frozen=True)
class EventFeatures:
    """An article as the event engine sees it."""

    vector: dict[str, float]  # stem → TF-IDF weight, L2-normalised
    entities: frozenset[str]  # ``kind:value`` of people, organisations, places and other named entities
    day: int  # days since 1970 of the publication date
    published_at: datetime
    keys: tuple[int, ...] = field(default=())  # index keys: the salient stems, the entities and anchors
    language: str = ""  # ISO 639-1 as the engine read it ("" when unknown)
    anchors: dict[str, float] = field(default_factory=dict)  # language-independent evidence, L2-normalised
    # The opening's multilingual embedding (``None``: not embedded, e.g. decided before embeddings existed).
    embedding: Vector | None = field(default=None, compare=False, repr=False)


def lead(body: str, words: int) -> str:
    """The first ``words`` words of the body (the lead carries the who, what, where and when)."""
    parts = body.split(maxsplit=words)
    return " ".join(parts[:words])


def featurize(
    *,
    title: str,
    body: str,
    language: str | None,
    entities: Iterable[str],
    published_at: datetime,
    settings: EventSettings,
    embedding: Vector | None = None,
) -> EventFeatures:
    """The article's weighted terms over title and lead, its entities, and its index keys; ``embedding`` is
    the opening's, computed for the whole batch beforehand (``shared.events.embedding.embed``)."""
    lang = _language(language)
    opening_words = lead(body, settings.lead_words)
    # Folded once: the terms and the country names both read the folded title and lead.
    folded_title, folded_lead = fold(title), fold(opening_words)
    counts: dict[str, float] = {}
    weights: dict[str, float] = {}
    for text, factor in ((folded_title, settings.title_weight), (folded_lead, 1.0)):
        for stem, w in _terms(text, lang, settings.stem_chars, settings.number_weight):
            counts[stem] = counts.get(stem, 0.0) + factor
            weights[stem] = max(weights.get(stem, 0.0), w)
    vector = {stem: (1.0 + math.log(n)) * weights[stem] for stem, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    vector = {k: v / norm for k, v in vector.items()}
    ents = frozenset(entities)
    salient = sorted(vector, key=lambda k: (-vector[k], k))[: settings.salient_terms]
    keys = {key_hash("t", s) for s in salient} | {key_hash("e", e) for e in sorted(ents)[: settings.max_entities]}
    found = anchors(f"{title}\n{opening_words}", lang, settings, folded=f"{folded_title}\n{folded_lead}")
    keys |= {key_hash("a", a) for a in sorted(found, key=lambda k: (-found[k], k))[: settings.anchor_keys]}
    if embedding is not None:
        bands = band_keys(embedding, settings.embedding_bands, settings.embedding_bits, settings.embedding_seed)
        keys |= {key_hash("m", b) for b in bands}
    return EventFeatures(
        vector=vector,
        entities=ents,
        day=day_of(published_at),
        published_at=published_at,
        keys=tuple(sorted(keys)),
        language=language or "",
        anchors=found,
        embedding=embedding,
    )


def anchors(text: str, language: str, settings: EventSettings, *, folded: str | None = None) -> dict[str, float]:
    """The text's language-independent evidence (see the module docstring), as an L2-normalised vector:
    ``place:<geonames id or country code>``, ``name:<folded name stem>`` and ``#<figure>``; ``folded`` is
    ``fold(text)`` when the caller has it already."""
    out: dict[str, float] = {}
    pattern, codes = country_names(language)
    if pattern is not None:
        for name in pattern.findall(fold(text) if folded is None else folded):
            out[f"place:{codes[name]}"] = _COUNTRY_WEIGHT
    for word in _LATIN_WORD.findall(text):
        if len(word) < 3 or not word[0].isupper() or (len(word) >= _SHOUTED and word.isupper()):
            continue
        key, weight = word_anchor(word, language, settings.anchor_place_population)
        if weight > out.get(key, 0.0):
            out[key] = weight
    for figure in _NUMBER.findall(text):
        if len(figure) >= 2:
            key = "#" + figure.replace(",", ".")
            out[key] = max(out.get(key, 0.0), _YEAR_WEIGHT if _YEAR.fullmatch(figure) else _FIGURE_WEIGHT)
    norm = math.sqrt(sum(v * v for v in out.values())) or 1.0
    return {k: v / norm for k, v in out.items()}


# pycountry's translations of the ISO 3166 country names, by our language code where its locale differs.
_COUNTRY_LOCALES = {"zh": ["zh_CN", "zh_TW"], "pt": ["pt", "pt_BR"], "nb": ["nb_NO"]}
# Scripts whose words run into their neighbours ("在德国", "والصين"): a name is found inside a longer run.
_UNBOUNDED = frozenset({"zh", "ja", "ar"})


@lru_cache(maxsize=64)
def country_names(language: str) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """The country names of a language (as pycountry's ISO 3166 translations spell them, folded) and their
    codes, with a pattern that finds them in folded text: "Deutschland", "Alemania" and "德国" are all DE."""
    import gettext

    import pycountry

    codes: dict[str, str] = {}
    if language and language != "en":
        for locale in _COUNTRY_LOCALES.get(language, [language]):
            try:
                tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
            except OSError:  # no translation for this language: its country names are the English ones
                continue
            for country in pycountry.countries:
                for attr in ("name", "common_name"):
                    english = getattr(country, attr, None)
                    translated = tr.gettext(english) if english else ""
                    if translated and translated != english and len(translated) >= 2:
                        codes.setdefault(fold(translated), country.alpha_2)
        # A name that is also one of the language's commonest words ("того", Togo, is Russian for "of that").
        for word in _stop_words(language) & codes.keys():
            del codes[word]
    if not codes:
        return None, codes
    alternatives = "|".join(re.escape(n) for n in sorted(codes, key=len, reverse=True))
    if language in _UNBOUNDED:
        return re.compile(f"(?:{alternatives})"), codes
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), codes


def _stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words of a language (lists shipped with the package, no model), folded; empty when it has
    none."""
    import importlib

    try:
        module = importlib.import_module(f"spacy.lang.{language}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(fold(w) for w in module.STOP_WORDS)


@lru_cache(maxsize=200_000)
def word_anchor(word: str, language: str, min_population: int) -> tuple[str, float]:
    """The anchor a capitalised word gives: the most prominent country, region or city of ``min_population``
    or more of that name in any language the gazetteer knows, else the name itself weighted by its rarity
    (weight 0 for a common word)."""
    from shared.tagging.gazetteer import gazetteer  # built once per process, shared with the place tagger

    # Rarity as written (accents kept: "über" is common, "uber" is not), the key folded.
    zipf = zipf_frequency(word, "en")
    # wordfreq would need a segmenter for the scripts without spaces; their Latin-script names are English's.
    if language in _LANGUAGES and language != "en" and language not in _SPACELESS:
        zipf = max(zipf, zipf_frequency(word, language))
    common = zipf >= _NAME_MAX_ZIPF
    known = [
        p
        for p in gazetteer().lookup(word)
        if (p.feature != "city" or p.population >= min_population) and not (_subdivision(p) and _plain_word(word))
    ]
    if known:
        p = max(known, key=lambda p: (p.feature == "country", p.population, p.geonames_id or 0))
        if p.feature == "country" or p.geonames_id is None:
            # A subdivision without a gazetteer id says only its country.
            return f"place:{p.country_code}", _COUNTRY_WEIGHT
        return f"place:{p.geonames_id}", _PLACE_WEIGHT
    if common:
        return "", 0.0
    return f"name:{fold(word)[:7]}", min(_MAX_WEIGHT, _NAME_MAX_ZIPF + 2.0 - zipf)


def _subdivision(place: Place) -> bool:
    """An ISO subdivision known by name alone: many are plain words somewhere ("West", "Centre", "Nord" and
    "South" are regions of Cameroon or Burkina Faso), so a common word is not taken for one."""
    return place.feature == "region" and place.geonames_id is None


# Subdivisions are often named in a colonial language ("Nord", "Est" and "Littoral" in Cameroon): a name that is a
# common word in any of these is a word, whatever the article's language ("Nord Stream" is no Burkina Faso).
_PLAIN_WORD_LANGUAGES = ("en", "fr", "de", "es", "it", "pt")


@lru_cache(maxsize=50_000)
def _plain_word(word: str) -> bool:
    return max(zipf_frequency(word, lang) for lang in _PLAIN_WORD_LANGUAGES) >= _NAME_MAX_ZIPF


def day_of(moment: datetime) -> int:
    return int(moment.timestamp() // 86_400)


def key_hash(kind: str, value: str) -> int:
    """A stable signed 64-bit key (PostgreSQL ``bigint``) for a salient term or an entity."""
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    # Only the shared terms, in ``a``'s order (the sum of the products the full loop adds, a zero dropped
    # for each other term), at C speed: it runs for every candidate of every article.
    common = a.keys() & b.keys()
    terms = list(filter(common.__contains__, a))
    return sum(map(mul, map(a.__getitem__, terms), map(b.__getitem__, terms)), 0.0)


@dataclass(frozen=True)
class Verdict:
    """The comparison of an article with one candidate: the scores and, when it passes, the rule."""

    candidate: object
    score: float
    text_similarity: float
    shared: tuple[str, ...]
    hours_apart: float
    rule: Rule | None
    embedding_similarity: float | None = None
    body_similarity: float | None = None  # the second look's, when it decided


# The second look's source of body vectors: given the short-listed candidates, the article's own body vector
# and each candidate's (``None`` where a body has no sentence), computed only when asked.
BodyVectors = Callable[[Sequence[object]], tuple[Vector | None, Sequence[Vector | None]]]


def compare(f: EventFeatures, other: EventFeatures, candidate: object, s: EventSettings) -> Verdict:
    """Score one candidate and verify it: within the window, then strong text or text plus an entity; for
    two articles in different languages, their anchors too; then the embeddings, backed by a shared name,
    place or anchor, or by a moderate text similarity."""
    return verify(f, other, candidate, s, *similarities(f, other))


def similarities(f: EventFeatures, other: EventFeatures) -> tuple[float, float | None]:
    """The text cosine and the embedding cosine (``None`` without embeddings) of two articles: what the rules
    weigh, the same whatever the settings."""
    return cosine(f.vector, other.vector), embedding_cosine(f.embedding, other.embedding)


def verify(
    f: EventFeatures, other: EventFeatures, candidate: object, s: EventSettings, text: float, meaning: float | None
) -> Verdict:
    """:func:`compare` with the two similarities given (computed once for many settings, or for a batch)."""
    hours = abs((f.published_at - other.published_at).total_seconds()) / 3600
    shared = tuple(sorted(f.entities & other.entities))
    score = text + s.entity_bonus * min(len(shared), _ENTITY_BONUS_CAP)
    rule: Rule | None = None
    if abs(f.day - other.day) <= s.window_days:
        common = f.anchors.keys() & other.anchors.keys()
        if text >= s.strong_threshold:
            rule = Rule.strong_text
        elif text >= s.text_threshold and _enough(names := _with_anchors(shared, common), s.min_shared_places):
            # The taggers' names, or the anchors' (a place's gazetteer id, a rare capitalised word), which read
            # one place or person alike in every language and spelling the taggers do not know.
            rule = Rule.text_and_entity
            shared = names
        elif _across_languages(f, other) and _anchors_agree(f, other, common, s):
            rule = Rule.anchors
            score = cosine(f.anchors, other.anchors)
            shared = tuple(sorted(set(shared) | {a for a in common if not a.startswith("place:")}))
        elif meaning is not None and meaning >= s.embedding_threshold and (shared or common):
            # Close in meaning, and at least one name, place or figure in common to say it is the same happening.
            rule = Rule.embedding
            score = meaning
            shared = tuple(sorted(set(shared) | common))
        elif meaning is not None and meaning >= s.joint_embedding_threshold and text >= s.joint_text_threshold:
            rule = Rule.text_and_embedding
            score = meaning
    return Verdict(
        candidate=candidate,
        score=score,
        text_similarity=text,
        shared=shared,
        hours_apart=hours,
        rule=rule,
        embedding_similarity=meaning,
    )


def second_look(
    f: EventFeatures,
    other: EventFeatures,
    candidate: object,
    s: EventSettings,
    text: float,
    meaning: float | None,
    body: float | None,
) -> Verdict | None:
    """The second look's verdict on a candidate no other rule verified: openings at least moderately close in
    meaning (``meaning`` >= ``second_look_floor``) and bodies close (``body``, the cosine of the mean
    embeddings of their first sentences, >= ``second_look_threshold``), within the window; else ``None``."""
    if (
        meaning is None
        or body is None
        or abs(f.day - other.day) > s.window_days
        or meaning < s.second_look_floor
        or body < s.second_look_threshold
    ):
        return None
    return Verdict(
        candidate=candidate,
        score=body,
        text_similarity=text,
        shared=tuple(sorted(f.entities & other.entities)),
        hours_apart=abs((f.published_at - other.published_at).total_seconds()) / 3600,
        rule=Rule.second_look,
        embedding_similarity=meaning,
        body_similarity=body,
    )


def _across_languages(f: EventFeatures, other: EventFeatures) -> bool:
    return bool(f.language and other.language and f.language != other.language)


def _anchors_agree(f: EventFeatures, other: EventFeatures, common: set[str], s: EventSettings) -> bool:
    return len(common) >= s.min_shared_anchors and cosine(f.anchors, other.anchors) >= s.anchor_threshold


def _with_anchors(shared: tuple[str, ...], common: set[str]) -> tuple[str, ...]:
    """The shared names and places with the shared anchors that are names or places (figures left out)."""
    return tuple(sorted(set(shared) | {a for a in common if not a.startswith("#")}))


def _enough(shared: tuple[str, ...], min_places: int) -> bool:
    places = sum(1 for e in shared if e.startswith(_PLACE_PREFIX))
    return len(shared) > places or places >= min_places


_PLACE_PREFIX = "place:"


def best_verdict(
    f: EventFeatures,
    candidates: Sequence[tuple[object, EventFeatures]],
    s: EventSettings,
    bodies: BodyVectors | None = None,
) -> tuple[Verdict | None, int]:
    """The best verified candidate (highest score; the earliest id on a tie) and how many were scored.

    The same verdicts as :func:`compare` on each candidate, cheaper: the embedding cosines come from one
    matrix product, and a candidate is verified in full only when some rule can still pass (its text or its
    meaning reaches the lowest threshold of the rules that need it, or it is in another language and shares
    enough anchors for the anchors rule): most candidates of a busy day fail both and cost one sparse dot product.

    When none is verified and ``bodies`` is given, the second look: the ``second_look_candidates`` closest in
    meaning, if at least ``second_look_floor``, are compared on their bodies' vectors (asked of ``bodies`` for
    those alone, as they cost an embedding each)."""
    nearby = [(c, o) for c, o in candidates if abs(f.day - o.day) <= s.window_days]
    meanings = _meanings(f, [o for _, o in nearby])
    min_text = min(s.strong_threshold, s.text_threshold, s.joint_text_threshold)
    min_meaning = min(s.embedding_threshold, s.joint_embedding_threshold)
    best: Verdict | None = None
    for (candidate, other), meaning in zip(nearby, meanings, strict=True):
        text = cosine(f.vector, other.vector)
        if (
            text < min_text
            and (meaning is None or meaning < min_meaning)
            and not (_across_languages(f, other) and _shares_anchors(f, other, s.min_shared_anchors))
        ):
            continue
        v = verify(f, other, candidate, s, text, meaning)
        if v.rule is None:
            continue
        if best is None or (v.score, _neg(candidate)) > (best.score, _neg(best.candidate)):
            best = v
    if best is None and bodies is not None:
        best = _second_look(f, nearby, meanings, s, bodies)
    return best, len(candidates)


def _second_look(
    f: EventFeatures,
    nearby: Sequence[tuple[object, EventFeatures]],
    meanings: Sequence[float | None],
    s: EventSettings,
    bodies: BodyVectors,
) -> Verdict | None:
    close = [(m, n) for n, m in enumerate(meanings) if m is not None and m >= s.second_look_floor]
    # The closest in meaning first (the earliest id on a tie), as many as the setting allows.
    close.sort(key=lambda c: (-c[0], str(nearby[c[1]][0])))
    short = close[: s.second_look_candidates]
    if not short:
        return None
    own, theirs = bodies([nearby[n][0] for _, n in short])
    best: Verdict | None = None
    for (meaning, n), body in zip(short, theirs, strict=True):
        candidate, other = nearby[n]
        text = cosine(f.vector, other.vector)
        v = second_look(f, other, candidate, s, text, meaning, embedding_cosine(own, body))
        if v is not None and (best is None or (v.score, _neg(candidate)) > (best.score, _neg(best.candidate))):
            best = v
    return best


def _shares_anchors(f: EventFeatures, other: EventFeatures, at_least: int) -> bool:
    return len(f.anchors.keys() & other.anchors.keys()) >= at_least


def _meanings(f: EventFeatures, others: Sequence[EventFeatures]) -> list[float | None]:
    """The embedding cosine of ``f`` with each of ``others`` (``None`` where either has no embedding)."""
    out: list[float | None] = [None] * len(others)
    if f.embedding is None:
        return out
    have = [n for n, o in enumerate(others) if o.embedding is not None]
    if have:
        # In float64, as ``embedding_cosine``: the batch gives each pair's value.
        stacked = np.stack([others[n].embedding for n in have]).astype(np.float64)  # type: ignore[misc]
        products = stacked @ f.embedding.astype(np.float64)
        for n, value in zip(have, products.tolist(), strict=True):
            out[n] = value
    return out


def _neg(candidate: object) -> tuple[int, ...]:
    # Ties go to the earlier candidate id (UUIDv7: the earlier received), so every worker picks the same.
    return tuple(-b for b in str(candidate).encode())


class MemoryIndex:
    """The candidate index in memory, for the benchmark and for the batch's own earlier articles: like the
    PostgreSQL rows, a (day, key) row keeps its newest ``bucket_cap`` items."""

    def __init__(self, s: EventSettings) -> None:
        self.s = s
        self.rows: dict[tuple[int, int], list[object]] = {}

    def add(self, item: object, f: EventFeatures) -> None:
        cap = self.s.bucket_cap
        for key in f.keys:
            row = self.rows.setdefault((f.day, key), [])
            row.append(item)
            if len(row) > cap:
                del row[0]

    def query(self, f: EventFeatures) -> Counter[object]:
        """Items sharing a key with ``f`` within the window, with the number of keys they share."""
        found: Counter[object] = Counter()
        rows = self.rows
        for day in range(f.day - self.s.window_days, f.day + self.s.window_days + 1):
            for key in f.keys:
                row = rows.get((day, key))
                if row:
                    found.update(row)
        return found


def top_candidates(shared_keys: Mapping[T, int], limit: int) -> list[T]:
    """The candidates sharing the most keys (the earliest on a tie), at most ``limit``.

    Candidates are of one type whose order is their text's (``str``, ``uuid.UUID``, or a UUID's ``int``).
    Counts are small integers: the candidates are grouped by count and only the group the limit cuts is
    ordered, so a busy day's thousands of one-key candidates cost a pass, not a sort."""
    by_count: dict[int, list[T]] = {}
    for candidate, count in shared_keys.items():
        by_count.setdefault(count, []).append(candidate)
    out: list[T] = []
    for count in sorted(by_count, reverse=True):
        room = limit - len(out)
        if room <= 0:
            break
        group = by_count[count]
        out.extend(sorted(group) if len(group) <= room else heapq.nsmallest(room, group))  # type: ignore[type-var]
    return out
