"""Exact similarities for verifying candidates: Jaccard and containment of shingle sets, title similarity."""

from __future__ import annotations

import numpy as np

from shared.text.normalise import words


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """Shared elements of two sorted arrays without repeats."""
    if a.size == 0 or b.size == 0:
        return 0
    if a.size > b.size:
        a, b = b, a
    pos = np.searchsorted(b, a)
    pos[pos == b.size] = 0
    return int(np.count_nonzero(b[pos] == a))


def jaccard_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(|A∩B| / |A∪B|, |A∩B| / min(|A|, |B|)): containment is what a trimmed copy keeps of its original."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    inter = intersection_size(a, b)
    return inter / (a.size + b.size - inter), inter / min(a.size, b.size)


def title_words(title: str) -> frozenset[str]:
    return frozenset(words(title))


def title_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of the titles' word sets (a rewritten headline keeps its names and numbers)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
