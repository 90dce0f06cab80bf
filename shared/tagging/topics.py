"""IPTC Media Topics (top level, 17 subjects) from a trained model: see ``topic_model/MODEL_CARD.md``.

Two one-vs-rest logistic regressions score every subject, each calibrated on held-out training data by a
Platt scaling, and their probabilities are averaged:
* over hashed words, word prefixes and word pairs (``topic_features``) of the article's first 4,000
  characters: it knows the exact words of its training text, and reads the headline twice;
* over the sentence embedding of the first ``EMBEDDING_WORDS`` words (``shared.events.embedding``): it
  generalises beyond the words seen in training ("chipmaker" and "semiconductor firm" land close), which is
  what a short item of a dozen words needs.
On a short item both read the same words and the embedding model has the weight chosen on the held-out data
(short texts all); on a longer article it has read only the opening, so its weight falls in proportion to
the share of the article's words it read (``embedding_weights``).
An article gets its best subject whenever the n-gram model knows at least ``MIN_FEATURES`` of its content
words or their prefixes (stop words are no evidence of a subject), and every other subject whose
probability reaches ``MIN_PROBABILITY`` (a story can be politics and economy), at most ``MAX_TOPICS``.
English only: the models were trained on English text.

Without the embedding (``TIDINGS_TAGGING_TOPIC_EMBEDDING=false``, the fast profile's default) the n-gram
model's own calibrated probabilities decide alone: no encoder is loaded or run, and the tags' version says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from shared.events.embedding import embed, opening
from shared.tagging.base import Document, Tag
from shared.tagging.settings import TaggingSettings
from shared.tagging.topic_features import content_buckets, featurize
from shared.tagging.topic_lexicon import SUBJECTS

VERSION = "3"
MODEL_FILE = Path(__file__).with_name("topic_model") / "model.npz"
MIN_PROBABILITY = 0.5
MAX_TOPICS = 3
MIN_FEATURES = 3  # fewer known content features (content words and their prefixes) is no evidence at all
# What the embedding reads: the opening words, cut to the encoder's pieces (its cost grows with them). The
# same opening the events stage embeds: in the worker one vector serves both (``shared_in_batch``).
EMBEDDING_WORDS = 40
EMBEDDING_TOKENS = 96

Probabilities = npt.NDArray[np.float32]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def embedding_text(text: str) -> str:
    """The opening words of a text, as the embedding half of the model reads them (training and tagging)."""
    return opening("", text, EMBEDDING_WORDS)


def embed_openings(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """One embedding per text (of its opening), the whole batch in one call of the encoder."""
    return embed([embedding_text(t) for t in texts], EMBEDDING_TOKENS)


def embedding_weights(texts: Sequence[str], embedding_share: float) -> npt.NDArray[np.float32]:
    """The embedding model's weight in the average for each text: its share, scaled down by the fraction of
    the text's words the embedding reads (all of a short item, the opening of a long article)."""
    words = np.array([max(len(t.split()), 1) for t in texts], dtype=np.float32)
    return (embedding_share * np.minimum(1.0, EMBEDDING_WORDS / words)).astype(np.float32)


@dataclass(frozen=True)
class TopicModel:
    buckets: np.ndarray  # sorted hashed feature ids that carry weight
    weights: np.ndarray  # len(buckets) × subjects
    bias: np.ndarray
    codes: tuple[str, ...]
    scale: float
    shift: float
    embedding_weights: np.ndarray  # embedding dimensions × subjects
    embedding_bias: np.ndarray
    embedding_scale: float
    embedding_shift: float
    embedding_share: float  # the embedding model's weight in the average on a short item
    digest: str

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> TopicModel:
        raw = path.read_bytes()
        with np.load(path) as data:
            a, b = (float(v) for v in data["calibration"])
            ea, eb = (float(v) for v in data["embedding_calibration"])
            return cls(
                buckets=data["buckets"].astype(np.int64),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                codes=tuple(str(c) for c in data["codes"]),
                scale=a,
                shift=b,
                embedding_weights=data["embedding_weights"].astype(np.float32),
                embedding_bias=data["embedding_bias"].astype(np.float32),
                embedding_scale=ea,
                embedding_shift=eb,
                embedding_share=float(data["embedding_share"]),
                digest=hashlib.sha256(raw).hexdigest()[:8],
            )

    def ngram_probabilities(self, text: str) -> Probabilities:
        """The n-gram model's calibrated probability per subject (in ``codes`` order)."""
        ids, values = featurize(text)
        rows = np.searchsorted(self.buckets, ids)
        rows = np.minimum(rows, len(self.buckets) - 1)
        known = self.buckets[rows] == ids
        logits = values[known] @ self.weights[rows[known]] + self.bias
        return _sigmoid(self.scale * logits + self.shift)

    def embedding_probabilities(self, vectors: np.ndarray) -> Probabilities:
        """The embedding model's calibrated probabilities, one row per embedding."""
        logits = vectors @ self.embedding_weights + self.embedding_bias
        return _sigmoid(self.embedding_scale * logits + self.embedding_shift)

    def probabilities(self, texts: Sequence[str], articles: Sequence[str], vectors: np.ndarray | None) -> Probabilities:
        """Calibrated probability per text and subject: the two models' weighted average, the n-gram model
        reading ``texts``, the embedding model the ``vectors`` of the ``articles`` (:func:`embed_openings`);
        the n-gram model's alone when ``vectors`` is None."""
        if not texts:
            return np.zeros((0, len(self.codes)), dtype=np.float32)
        ngram = np.vstack([self.ngram_probabilities(t) for t in texts])
        if vectors is None:
            return ngram.astype(np.float32)
        weight = embedding_weights(articles, self.embedding_share)[:, None]
        return ((1.0 - weight) * ngram + weight * self.embedding_probabilities(vectors)).astype(np.float32)

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


def document_probabilities(
    docs: Sequence[Document], model: TopicModel | None = None, *, embedding: bool = True
) -> Probabilities:
    """Probability per document and subject (in ``codes`` order), the batch embedded in one call: the
    n-gram model reads :func:`model_text`, the embedding the article's opening (its headline once); without
    ``embedding``, the n-gram model alone."""
    model = model or topic_model()
    articles = [d.text for d in docs]
    vectors = embed_openings(articles) if embedding and docs else None
    return model.probabilities([model_text(d) for d in docs], articles, vectors)


def subject_probabilities_of(docs: Sequence[Document], *, embedding: bool = True) -> list[dict[str, float]]:
    """Subject code → probability for each document (the n-gram model's alone without ``embedding``)."""
    model = topic_model()
    probs = document_probabilities(docs, model, embedding=embedding)
    return [dict(zip(model.codes, (float(p) for p in row), strict=True)) for row in probs]


def subject_probabilities(doc: Document) -> dict[str, float]:
    return subject_probabilities_of([doc])[0]


def best_subject(doc: Document, among: Sequence[str] | None = None) -> str:
    """The most probable subject code (optionally among ``among`` only)."""
    return most_probable(subject_probabilities(doc), among)


def most_probable(probs: dict[str, float], among: Sequence[str] | None = None) -> str:
    """The most probable of the subjects ``among`` (all when not given) in a ``subject_probabilities`` map."""
    return max(among or list(SUBJECTS), key=lambda c: probs[c])


class TopicTagger:
    """``topic`` tags: value the IPTC code ("16000000"), name its label, score the calibrated probability."""

    name = "topics"
    languages: frozenset[str] | None = frozenset({"en"})
    needs_mentions = False

    def __init__(self, *, embedding: bool = True) -> None:
        self.model = topic_model()
        self.embedding = embedding
        if embedding:
            # Load the encoder now (about 150 MB, a second or two), before a worker forks its pool, not in the
            # first batch.
            embed_openings(["topics"])
        halves = "ngram-embedding" if embedding else "ngram"
        self.version = f"{VERSION}/iptc-top-logreg-{halves}-{self.model.digest}"

    @classmethod
    def from_settings(cls, settings: TaggingSettings) -> TopicTagger:
        return cls(embedding=settings.topics_embedding)

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        out: list[list[Tag]] = [[] for _ in docs]
        chosen = [
            i for i, d in enumerate(docs) if d.language == "en" and self.model.evidence(model_text(d)) >= MIN_FEATURES
        ]
        probs = document_probabilities([docs[i] for i in chosen], self.model, embedding=self.embedding)
        for i, row in zip(chosen, probs, strict=True):
            out[i] = self._tags(row)
        return out

    def _tags(self, probs: Probabilities) -> list[Tag]:
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
