"""IPTC Media Topics (top level, 17 subjects) from curated keyword patterns (see ``topic_lexicon``).

Each subject scores the weights of its terms found in the article, a term's repeats counting less and less
(1 + ln n) and the headline counting double. Subjects scoring at least ``MIN_SCORE`` and at least ``MIN_SHARE``
of the best one are tagged (at most ``MAX_TOPICS``); the tag's score is its strength relative to the best
subject, damped for articles that give little evidence. English only: the patterns are English words.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from shared.tagging.base import Document, Tag
from shared.tagging.topic_lexicon import CASED, LEXICON, SUBJECTS

VERSION = "1"
MIN_SCORE = 6.0
MIN_SHARE = 0.35
MAX_TOPICS = 4
CONFIDENT_SCORE = 25.0  # evidence at which the best subject scores 1.0
TITLE_WEIGHT = 2


def _index() -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[tuple[str, int]]], int]:
    terms: dict[str, list[tuple[str, int]]] = defaultdict(list)
    longest = 1
    for code, words in LEXICON.items():
        for term, weight in words.items():
            terms[term].append((code, weight))
            longest = max(longest, term.count(" ") + 1)
    firsts: dict[str, list[tuple[str, int]]] = {t.split(" ", 1)[0]: [] for t in terms if " " in t}
    return dict(terms), firsts, longest


_TERMS, _PHRASE_STARTS, _LONGEST = _index()


def subject_scores(doc: Document) -> dict[str, float]:
    """Evidence per IPTC subject code for ``doc`` (0 for subjects with none)."""
    tokens, cased = doc.folded_tokens, doc.tokens
    n_title = len(doc.title_tokens)
    counts: dict[str, float] = defaultdict(float)
    n = len(tokens)
    for i, tok in enumerate(tokens):
        boost = TITLE_WEIGHT if i < n_title else 1
        hit = _TERMS.get(tok)
        if hit is None and len(tok) > 3 and tok.endswith("s"):
            hit = _TERMS.get(tok[:-1])
        if hit is not None:
            counts[tok] += boost
        if tok in _PHRASE_STARTS:
            phrase = tok
            for j in range(i + 1, min(n, i + _LONGEST)):
                phrase = f"{phrase} {tokens[j]}"
                if phrase in _TERMS:
                    counts[phrase] += boost
        if cased[i] in CASED:
            counts[cased[i]] += boost
    scores: dict[str, float] = dict.fromkeys(SUBJECTS, 0.0)
    for term, count in counts.items():
        saturated = 1 + math.log(count) if count >= 1 else count
        entries = [CASED[term]] if term in CASED else _TERMS.get(term) or _TERMS[term[:-1]]
        for code, weight in entries:
            scores[code] += weight * saturated
    return scores


def best_subject(doc: Document, among: Sequence[str] | None = None) -> str:
    """The highest-scoring subject code (optionally among ``among`` only)."""
    scores = subject_scores(doc)
    codes = among or list(SUBJECTS)
    return max(codes, key=lambda c: scores[c])


class TopicTagger:
    """``topic`` tags: value the IPTC code ("16000000"), name its label ("conflict, war and peace")."""

    name = "topics"
    version = f"{VERSION}/iptc-mediatopic-top"
    languages: frozenset[str] | None = frozenset({"en"})
    needs_mentions = False

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        return [self._tag_one(d) if d.language == "en" else [] for d in docs]

    def _tag_one(self, doc: Document) -> list[Tag]:
        scores = subject_scores(doc)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        top = ranked[0][1]
        if top < MIN_SCORE:
            return []
        confidence = min(1.0, top / CONFIDENT_SCORE)
        return [
            Tag(
                kind="topic",
                value=code,
                name=SUBJECTS[code],
                tagger=self.name,
                tagger_version=self.version,
                score=round(confidence * score / top, 4),
                attrs={"evidence": round(score, 2)},
            )
            for code, score in ranked[:MAX_TOPICS]
            if score >= MIN_SCORE and score >= MIN_SHARE * top
        ]
