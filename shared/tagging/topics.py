"""IPTC Media Topics (top level, 17 subjects) from a trained model: see ``topic_model/MODEL_CARD.md``.

A one-vs-rest logistic regression over hashed words, word prefixes and word pairs (``topic_features``) scores
every subject; a shared Platt scaling, fitted on held-out training data, turns the scores into probabilities.
An article gets its best subject whenever the model knows at least ``MIN_FEATURES`` of its content words or
their prefixes (stop words are no evidence of a subject), and every other subject whose probability reaches
``MIN_PROBABILITY`` (a story can be politics and economy), at most ``MAX_TOPICS``. The headline counts twice. English only: the model was trained on English text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from shared.tagging.base import Document, Tag
from shared.tagging.topic_features import content_buckets, featurize
from shared.tagging.topic_lexicon import SUBJECTS

VERSION = "2"
MODEL_FILE = Path(__file__).with_name("topic_model") / "model.npz"
MIN_PROBABILITY = 0.5
MAX_TOPICS = 3
MIN_FEATURES = 3  # fewer known content features (content words and their prefixes) is no evidence at all


@dataclass(frozen=True)
class TopicModel:
    buckets: np.ndarray  # sorted hashed feature ids that carry weight
    weights: np.ndarray  # len(buckets) × subjects
    bias: np.ndarray
    codes: tuple[str, ...]
    scale: float
    shift: float
    digest: str

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> TopicModel:
        raw = path.read_bytes()
        with np.load(path) as data:
            a, b = (float(v) for v in data["calibration"])
            return cls(
                buckets=data["buckets"].astype(np.int64),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                codes=tuple(str(c) for c in data["codes"]),
                scale=a,
                shift=b,
                digest=hashlib.sha256(raw).hexdigest()[:8],
            )

    def probabilities(self, text: str) -> tuple[np.ndarray, int]:
        """Calibrated probability per subject (in ``codes`` order) and how many features the model knew."""
        ids, values = featurize(text)
        rows = np.searchsorted(self.buckets, ids)
        rows = np.minimum(rows, len(self.buckets) - 1)
        known = self.buckets[rows] == ids
        logits = values[known] @ self.weights[rows[known]] + self.bias
        return 1.0 / (1.0 + np.exp(-(self.scale * logits + self.shift))), int(known.sum())

    def evidence(self, text: str) -> int:
        """How many of the text's content features (stop words left out) the model knows."""
        ids = content_buckets(text, _stop_words())
        rows = np.minimum(np.searchsorted(self.buckets, ids), len(self.buckets) - 1)
        return int((self.buckets[rows] == ids).sum())


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@lru_cache(maxsize=1)
def topic_model() -> TopicModel:
    return TopicModel.load()


def model_text(doc: Document) -> str:
    """What the model reads: the headline twice (it is the densest statement of the subject), then the rest."""
    return f"{doc.title}\n{doc.text}" if doc.title else doc.text


def subject_probabilities(doc: Document) -> dict[str, float]:
    probs, _ = topic_model().probabilities(model_text(doc))
    return dict(zip(topic_model().codes, (float(p) for p in probs), strict=True))


def best_subject(doc: Document, among: Sequence[str] | None = None) -> str:
    """The most probable subject code (optionally among ``among`` only)."""
    probs = subject_probabilities(doc)
    return max(among or list(SUBJECTS), key=lambda c: probs[c])


class TopicTagger:
    """``topic`` tags: value the IPTC code ("16000000"), name its label, score the calibrated probability."""

    name = "topics"
    languages: frozenset[str] | None = frozenset({"en"})
    needs_mentions = False

    def __init__(self) -> None:
        self.model = topic_model()
        self.version = f"{VERSION}/iptc-top-logreg-{self.model.digest}"

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        return [self._tag_one(d) if d.language == "en" else [] for d in docs]

    def _tag_one(self, doc: Document) -> list[Tag]:
        text = model_text(doc)
        if self.model.evidence(text) < MIN_FEATURES:
            return []
        probs, _ = self.model.probabilities(text)
        order = np.argsort(-probs, kind="stable")[:MAX_TOPICS]
        return [
            Tag(
                kind="topic",
                value=self.model.codes[i],
                name=SUBJECTS[self.model.codes[i]],
                tagger=self.name,
                tagger_version=self.version,
                score=round(float(probs[i]), 4),
            )
            for rank, i in enumerate(order)
            if rank == 0 or probs[i] >= MIN_PROBABILITY
        ]
