"""MinHash signatures for a whole batch at once, and the LSH band keys made from them.

Each of the ``bands * rows`` permutations is a multiply-shift hash ``(a * x + b) mod 2^64 >> 32`` of the 64-bit
shingle hash (``a`` odd, ``a`` and ``b`` drawn from a seeded generator, so every process draws the same ones).
The minimum over a text's shingles is taken with ``np.minimum.reduceat`` over slices of the concatenated
batch, so a batch costs a handful of numpy passes instead of a Python loop per text; slices keep the memory
bounded, and a very long text simply spans several slices.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from shared.dedup.shingles import ShingleBatch, mix64

EMPTY = np.uint32(0xFFFFFFFF)
_SLICE = 16_384  # shingles per numpy pass: 120 permutations x 16k x 8 bytes ~ 16 MB


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) parameters of the permutations: ``a`` odd, both uint64."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    return a, b


def signatures(batch: ShingleBatch, *, num_perm: int, seed: int, perms: slice = slice(None)) -> np.ndarray:
    """(texts, permutations) uint32 signatures under the ``perms`` of the ``num_perm`` permutations (all by
    default); a text without shingles gets all ``EMPTY``."""
    a, b = permutations(num_perm, seed)
    a, b = a[perms], b[perms]
    num_perm = a.size
    n = batch.offsets.size - 1
    sig = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    counts = batch.counts()
    owner = np.repeat(np.arange(n), counts)
    # Permutations by shingles, not shingles by permutations: each text's shingles are then contiguous in
    # every row, and the reduction runs along rows (about 4x faster than reducing down columns).
    buf = np.empty((num_perm, min(_SLICE, batch.hashes.size)), dtype=np.uint64)
    for start in range(0, batch.hashes.size, _SLICE):
        x = batch.hashes[start : start + _SLICE]
        who = owner[start : start + _SLICE]
        values = buf[:, : x.size]
        np.multiply(a[:, None], x[None, :], out=values)
        values += b[:, None]
        # The minimum of the high halves is the high half of the minimum: shift after reducing.
        firsts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
        mins = (np.minimum.reduceat(values, firsts, axis=1) >> np.uint64(32)).astype(np.uint32).T
        rows = who[firsts]
        sig[rows] = np.minimum(sig[rows], mins)
    return sig


def band_keys(sig: np.ndarray, *, bands: int, rows: int, first_band: int = 0) -> np.ndarray:
    """(texts, bands) int64 keys: each band's rows hashed together with the band's number, so equal keys
    mean an equal band (up to a 2^-64 collision) and keys of different bands never meet."""
    n = sig.shape[0]
    grouped = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    numbers = np.arange(first_band, first_band + bands, dtype=np.uint64)
    acc = numbers[None, :] * np.uint64(0xD1B54A32D192ED03)
    for j in range(rows):
        acc = mix64(acc ^ grouped[:, :, j])
    return acc.view(np.int64)


def select(batch: ShingleBatch, texts: np.ndarray) -> ShingleBatch:
    """The shingles of some of the batch's texts (``texts``: their positions, ascending), in that order."""
    counts = batch.counts()[texts]
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    idx = np.repeat(batch.offsets[texts] - offsets[:-1], counts) + np.arange(int(offsets[-1]))
    return ShingleBatch(hashes=batch.hashes[idx], offsets=offsets, modes=[batch.modes[i] for i in texts.tolist()])


def leads(batch: ShingleBatch, length: int) -> ShingleBatch:
    """Each text's first ``length`` shingles: its lead, which a copy trimmed at the tail keeps whole."""
    counts = np.minimum(batch.counts(), length)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    idx = np.repeat(batch.offsets[:-1] - offsets[:-1], counts) + np.arange(int(offsets[-1]))
    return ShingleBatch(hashes=batch.hashes[idx], offsets=offsets, modes=batch.modes)


def estimated_jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """The share of equal signature values: an unbiased estimate of the Jaccard similarity."""
    return float(np.mean(x == y))
