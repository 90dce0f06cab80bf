"""Shingles: the text as a set of 64-bit hashes of overlapping word k-grams (or character n-grams).

Words are the content-hash tokens of ``shared.text.normalise.words`` (case-folded ``\\w+``), so punctuation,
case and whitespace changes never change a shingle. Scripts written without spaces (Chinese, Japanese, Thai,
Lao, Khmer, Burmese) make a whole sentence one "word"; for them the shingles are character n-grams of the
letters. A text with fewer than ``min_shingles`` shingles is *thin*: too little to judge near-duplicates by.

Token hashes are stable across processes (BLAKE2b, cached per process); the k-gram combination and the
final mix run vectorised over the whole batch.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from shared.text.normalise import words

_TOKEN = re.compile(r"\w+", re.UNICODE)  # the tokens of shared.text.normalise.words, before case folding

# Letters of scripts that do not separate words by spaces.
_NO_SPACE_SCRIPT = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uf900-\ufaff\U00020000-\U0002fa1f]+"
)
# Odd multipliers for the k-gram combination (position-dependent, so order matters).
_POSITION_MULTIPLIERS = np.array(
    [
        0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
        0x2545F4914F6CDD1D, 0x9FB21C651E98DF25, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB,
    ],
    dtype=np.uint64,
)  # fmt: skip
_TOKEN_CACHE: dict[str, int] = {}
_TOKEN_CACHE_MAX = 2_000_000


class Mode(StrEnum):
    words = "words"
    chars = "chars"


@dataclass(frozen=True)
class ShingleBatch:
    """The shingle hashes of a batch of texts, concatenated: text ``i`` owns ``hashes[offsets[i]:offsets[i+1]]``
    (with repeats)."""

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len(texts) + 1
    modes: list[Mode]
    # The word-mode texts' word hashes, concatenated the same way (a character-mode text owns none): the units
    # partial reuse is measured on.
    units: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    unit_offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def words_of(self, i: int) -> np.ndarray:
        """Text ``i``'s word hashes (empty in character mode)."""
        return self.units[int(self.unit_offsets[i]) : int(self.unit_offsets[i + 1])]


@dataclass(frozen=True)
class WordFlags:
    """Per word of a word-mode text: which are figures ("1987", the "4" of "4.5"), which are written with a
    capital (names, mostly) and which open a paragraph: the slots a template fills in, and where they sit."""

    figures: np.ndarray  # bool
    names: np.ndarray  # bool
    opens: np.ndarray  # bool

    @property
    def slots(self) -> np.ndarray:
        return self.figures | self.names


def word_flags(text: str) -> WordFlags:
    """:class:`WordFlags` of a text, aligned with its :func:`shared.text.normalise.words`. Names are
    capitalised words longer than an initialism that house styles write either way ("U.S.", "US"). Case
    folding keeps the tokens but for a rare letter such as "ß": then no word is known as a name or opening.

    Only partial reuse reads these, for the few texts it measures; shingling a batch never needs them."""
    tokens = words(text)
    n = len(tokens)
    figures = np.fromiter(map(str.isdigit, tokens), dtype=bool, count=n)
    written = list(_TOKEN.finditer(text))
    if len(written) != n:
        return WordFlags(figures=figures, names=np.zeros(n, dtype=bool), opens=np.zeros(n, dtype=bool))
    names = np.fromiter((len(m.group()) > 2 and m.group()[0].isupper() for m in written), dtype=bool, count=n)
    opens = np.fromiter(
        (k == 0 or "\n" in text[written[k - 1].end() : m.start()] for k, m in enumerate(written)), dtype=bool, count=n
    )
    return WordFlags(figures=figures, names=names, opens=opens)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads every input bit over the whole word (uint64 in, uint64 out)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def token_hashes(tokens: list[str]) -> np.ndarray:
    """Stable 64-bit hashes of the tokens; each distinct token is hashed once per process (cached)."""
    cache = _TOKEN_CACHE
    missing = set(tokens).difference(cache)
    if len(cache) + len(missing) > _TOKEN_CACHE_MAX:
        cache.clear()
        missing = set(tokens)
    for token in missing:
        cache[token] = _token_hash(token)
    return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def text_mode(text: str, tokens: list[str], char_script_ratio: float) -> Mode:
    """Character shingles when most letters belong to scripts written without spaces."""
    if text.isascii():
        return Mode.words
    letters = sum(map(len, tokens))
    if not letters:
        return Mode.words
    no_space = sum(map(len, _NO_SPACE_SCRIPT.findall(text)))
    return Mode.chars if no_space >= char_script_ratio * letters else Mode.words


def _grams(units: np.ndarray, starts: np.ndarray, lengths: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k-gram hashes of each segment of ``units``; a segment shorter than k gives one gram of what it has.
    Returns (hashes, count per segment)."""
    n = units.size
    counts = np.where(lengths >= k, lengths - k + 1, np.minimum(lengths, 1))
    if n == 0:
        return np.empty(0, dtype=np.uint64), counts
    mult = _POSITION_MULTIPLIERS[:k]
    # Rolling combination over the concatenation, then keep the grams that start and end in one segment.
    acc = np.zeros(max(n - k + 1, 0), dtype=np.uint64)
    for j in range(k):
        acc += units[j : j + acc.size] * mult[j]
    seg = np.repeat(np.arange(starts.size), lengths)
    pos = np.arange(n) - np.repeat(starts, lengths)
    valid = np.zeros(n, dtype=bool)
    valid[: acc.size] = pos[: acc.size] <= (lengths[seg[: acc.size]] - k)
    full = acc[valid[: acc.size]]
    short = np.flatnonzero((lengths > 0) & (lengths < k))
    if short.size == 0:
        return mix64(full), counts
    # Rare: segments shorter than k. Splice their single gram in, keeping segment order.
    out = np.empty(int(counts.sum()), dtype=np.uint64)
    out_starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    is_short = np.zeros(starts.size, dtype=bool)
    is_short[short] = True
    take = np.ones(out.size, dtype=bool)
    take[out_starts[short]] = False
    out[take] = full
    for i in short:
        s, m = int(starts[i]), int(lengths[i])
        out[out_starts[i]] = (units[s : s + m] * mult[:m]).sum(dtype=np.uint64)
    return mix64(out), counts


def grams(units: np.ndarray, k: int) -> np.ndarray:
    """The k-gram hashes of one unit sequence, in order (one gram of what there is when shorter than k)."""
    return _grams(units, np.zeros(1, dtype=np.int64), np.array([units.size], dtype=np.int64), k)[0]


def shingle_batch(
    texts: list[str], *, shingle_words: int, shingle_chars: int, char_script_ratio: float
) -> ShingleBatch:
    """Shingle hashes of every text of the batch (see the module docstring)."""
    modes: list[Mode] = []
    word_tokens: list[str] = []
    char_parts: list[np.ndarray] = []
    word_len = np.zeros(len(texts), dtype=np.int64)
    char_len = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        tokens = words(text)
        mode = text_mode(text, tokens, char_script_ratio)
        modes.append(mode)
        if mode is Mode.words:
            word_tokens.extend(tokens)
            word_len[i] = len(tokens)
        else:
            letters = "".join(tokens)
            char_parts.append(np.frombuffer(letters.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64))
            char_len[i] = len(letters)
    w_units = token_hashes(word_tokens)
    w_hashes, w_counts = _grams(w_units, np.concatenate(([0], np.cumsum(word_len)[:-1])), word_len, shingle_words)
    c_units = np.concatenate(char_parts) if char_parts else np.empty(0, dtype=np.uint64)
    # Distinct salt for character grams, so a character gram never equals a word gram by construction.
    c_units = c_units + np.uint64(0x51ED27A1)
    c_hashes, c_counts = _grams(c_units, np.concatenate(([0], np.cumsum(char_len)[:-1])), char_len, shingle_chars)
    counts = w_counts + c_counts  # each text is in exactly one of the two
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    units = {
        "units": w_units,
        "unit_offsets": np.concatenate(([0], np.cumsum(word_len))).astype(np.int64),
    }
    if not char_parts:
        return ShingleBatch(hashes=w_hashes, offsets=offsets, modes=modes, **units)
    hashes = np.empty(int(offsets[-1]), dtype=np.uint64)
    is_char = np.array([m is Mode.chars for m in modes])
    owner = np.repeat(is_char, counts)
    hashes[~owner] = w_hashes
    hashes[owner] = c_hashes
    return ShingleBatch(hashes=hashes, offsets=offsets, modes=modes, **units)
