"""The topic model's features: hashed words, word prefixes and word pairs, shared by training and tagging.

A text becomes a sparse vector of hashed features: each lower-cased word (numbers folded to one token), its
first five letters (so "economy", "economic" and "economists" share evidence the training text may have
under only one form) and each pair of adjacent words. Counts are damped (1 + ln n) and the vector scaled to
unit length, so a two-line brief and a long feature land on the same scale. CRC-32 hashing is stable across
processes and Python versions, unlike ``hash``.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter

import numpy as np

DIMENSIONS = 1 << 20
PREFIX = 5
MAX_CHARS = 4_000  # the opening of an article says what it is about; more only costs time

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_DIGITS = re.compile(r"\d")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; any token with a digit becomes ``0`` ("71", "4th", "1987" alike)."""
    return ["0" if _DIGITS.search(t) else t for t in _TOKEN.findall(text[:MAX_CHARS].casefold())]


def feature_counts(text: str) -> Counter[str]:
    words = tokens(text)
    counts: Counter[str] = Counter(f"w:{w}" for w in words)
    counts.update(f"p:{w[:PREFIX]}" for w in words if len(w) > PREFIX)
    counts.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    return counts


def content_buckets(text: str, stop_words: frozenset[str]) -> np.ndarray:
    """Bucket ids of the text's content words and their prefixes (stop words left out): the features that
    say what a text is about, as opposed to "a", "you" or "there", which every subject's text uses."""
    words = {w for w in tokens(text) if w not in stop_words}
    features = [f"w:{w}" for w in words] + [f"p:{w[:PREFIX]}" for w in words if len(w) > PREFIX]
    return np.unique(np.fromiter((_bucket(f) for f in features), dtype=np.int64, count=len(features)))


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (DIMENSIONS - 1)


def featurize(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The text as (sorted unique bucket ids, unit-length values)."""
    summed: dict[int, float] = {}
    for feature, count in feature_counts(text).items():
        bucket = _bucket(feature)
        summed[bucket] = summed.get(bucket, 0.0) + 1.0 + math.log(count)  # numpy's scalar call is 10x slower
    if not summed:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    ids = np.fromiter(summed.keys(), dtype=np.int64, count=len(summed))
    values = np.fromiter(summed.values(), dtype=np.float32, count=len(summed))
    order = np.argsort(ids)
    values = values[order]
    return ids[order], values / np.float32(np.linalg.norm(values))
