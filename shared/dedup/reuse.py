"""Partial reuse: an article that reuses a large part of another (a local outlet's version of a wire story).

Whole-text MinHash misses such a rewrite: a new lead, a third of the wire text dropped, paragraphs of its own
and house-style word edits leave a Jaccard similarity well below the near-duplicate threshold. Two texts that
share *passages* share winnowed fingerprints, though:

* **Fingerprints** (winnowing, Schleimer, Wilkerson and Aiken 2003): the smallest shingle hash of every
  window of ``reuse_window`` consecutive shingles. Any passage of ``reuse_window`` shingles that two texts
  share gives both the same fingerprint, whatever surrounds it; a text keeps about 2 / (window + 1) of its
  shingles, and indexes at most ``reuse_max_fingerprints`` of them (its lead's, then its smallest), so that
  they take the place of bands rather than adding keys. They are indexed in ``lsh_buckets`` under their own
  band number, so they cost no extra statement and are locked in the same global order as the bands.
* **Verification** is exact, never an estimate: each text's words are marked *reused* when a run of at least
  ``reuse_min_run`` consecutive word ``reuse_seed_words``-grams of it is in the other's gram set; the reused
  share of a text is its reused words over all its words. The grams are shorter than the index's shingles so
  that house-style edits every few words ("million" for "mln") leave runs between them; an edited word
  inside a passage is bridged, a changed figure is not (a template filled in with other numbers). Grams miss
  a passage edited every few words (a results table restyled throughout), so the verified pair is also
  aligned (:func:`aligned_units`): matching blocks chained across short edits with the same figures.

A join also needs the two texts to tell the same figures (``same_figures``): a template filled in with other
numbers (a daily money market notice, a bond issue, an earnings table) reuses words, not the story.

The share is recorded both ways: the part of the article found in the other and the part of the other found
in the article. The larger of the two decides (the original is the one whose text is reused, whichever
arrived first): ``reuse_join_threshold`` or more joins the other's cluster (method ``reuse``),
``reuse_link_threshold`` or more links the two without merging.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

import numpy as np

from shared.dedup.shingles import Mode, grams

_WORD = re.compile(r"\w+", re.UNICODE)  # the tokens of shared.text.normalise.words, here with their offsets
_NO_FINGERPRINTS = np.empty(0, dtype=np.int64)


def fingerprints(raw: np.ndarray, window: int, limit: int | None = None) -> np.ndarray:
    """The winnowed fingerprints of one text's shingles (in text order): sorted int64, without repeats."""
    return batch_fingerprints(raw, np.array([0, raw.size]), window, limit)[0]


def batch_fingerprints(
    hashes: np.ndarray, offsets: np.ndarray, window: int, limit: int | None = None, lead: int = 0
) -> list[np.ndarray]:
    """:func:`fingerprints` of every text of a batch (text ``i`` owns ``hashes[offsets[i]:offsets[i+1]]``),
    in a few passes over the whole batch instead of a handful of numpy calls per text.

    Each fingerprint set is sorted as unsigned values (then viewed as int64); a text no longer than the
    window keeps its minimum; an empty text, or ``window <= 0``, has none. With ``limit``, a text keeps its
    ``limit`` smallest fingerprints: a bottom-k sample, so two texts sharing a passage keep its fingerprint
    alike whenever it is among the smallest of both. The fingerprints of windows inside a text's first
    ``lead`` shingles go first (all of them, up to ``limit``): a copy trimmed at the tail keeps the lead whole,
    so it shares them with its original however long the original is."""
    counts = np.diff(offsets)
    if window <= 0 or hashes.size == 0:
        return [_NO_FINGERPRINTS] * counts.size
    # Sliding minimum over the concatenation by doubling: after the loop m[i] = min(hashes[i : i + span]);
    # two overlapping spans then cover each window.
    m, span = hashes, 1
    while span * 2 <= window and m.size > span:
        m = np.minimum(m[:-span], m[span:])
        span *= 2
    shift = window - span
    windows = np.minimum(m[:-shift], m[shift:]) if shift and m.size > shift else m[: max(m.size - shift, 0)]
    # The windows lying inside one text: those that end before their first shingle's text does.
    owner = np.repeat(np.arange(counts.size), counts)[: windows.size]
    inside = np.arange(windows.size) + window <= offsets[1:][owner]
    values, owner = windows[inside], owner[inside]
    later = np.flatnonzero(inside) + window > offsets[:-1][owner] + lead  # windows past the lead
    # Neighbouring windows mostly share their minimum (a text keeps about 2 / (window + 1) of its windows'
    # values): dropping those repeats first leaves the sort a tenth of the values. A run's first window is
    # its earliest, so it is in the lead if any of the run is.
    if values.size:
        fresh = np.r_[True, (values[1:] != values[:-1]) | (owner[1:] != owner[:-1])]
        values, owner, later = values[fresh], owner[fresh], later[fresh]
    short = np.flatnonzero((counts > 0) & (counts <= window))
    if short.size:  # rare: a text of fewer shingles than a window keeps its minimum
        owner = np.concatenate([owner, short])
        values = np.concatenate([values, [hashes[offsets[i] : offsets[i + 1]].min() for i in short]])
        later = np.concatenate([later, counts[short] > lead])
    # Sorted by text, then value, a value's lead window first: the one kept of its repeats says whether any is.
    order = np.lexsort((later, values, owner))
    owner, values, later = owner[order], values[order], later[order]
    keep = np.r_[True, (owner[1:] != owner[:-1]) | (values[1:] != values[:-1])] if owner.size else owner.astype(bool)
    owner, values, later = owner[keep], values[keep], later[keep]
    if limit is not None and owner.size:
        # Each text's lead fingerprints, then its smallest others, up to the limit; kept in value order.
        first = np.lexsort((values, later, owner))
        rank = np.arange(owner.size) - np.searchsorted(owner, owner[first])
        chosen = np.zeros(owner.size, dtype=bool)
        chosen[first[rank < limit]] = True
        owner, values = owner[chosen], values[chosen]
    values = values.view(np.int64)
    bounds = np.searchsorted(owner, np.arange(counts.size + 1))
    return [values[bounds[i] : bounds[i + 1]] for i in range(counts.size)]


def same_figures(a: frozenset[int], b: frozenset[int], *, min_figures: int, share: float) -> bool:
    """Whether two texts tell the same figures: a template filled in with other figures (a daily money
    market notice, a bond issue, an earnings table) reuses the words of another story, not the story.
    Texts with fewer than ``min_figures`` numbers pass: there is nothing to compare."""
    smaller = min(len(a), len(b))
    return smaller < min_figures or len(a & b) >= share * smaller


def matched_units(raw: np.ndarray, other: np.ndarray, *, span: int, min_run: int) -> np.ndarray:
    """Which units (words, or letters in character mode) of a text lie in a run of at least ``min_run``
    consecutive grams found in ``other`` (a sorted gram set); ``span`` is the gram length."""
    n_units = raw.size + span - 1 if raw.size else 0
    pos = np.searchsorted(other, raw)
    pos[pos == other.size] = 0
    hit = other[pos] == raw if other.size else np.zeros(raw.size, dtype=bool)
    if min_run > 1 and hit.any():
        edges = np.diff(np.r_[0, hit.astype(np.int8), 0])
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        hit = np.zeros(raw.size, dtype=bool)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if b - a >= min_run:
                hit[a:b] = True
    # A unit is reused when some kept gram covers it: gram i covers units i .. i + span - 1.
    return np.convolve(hit.astype(np.int32), np.ones(span, dtype=np.int32))[:n_units] > 0


def reused_units(
    raw: np.ndarray,
    other: np.ndarray,
    *,
    span: int,
    min_run: int,
    max_gap: int = 0,
    figure_units: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`matched_units`, gaps of up to ``max_gap`` units between two matched runs included unless the
    gap holds a figure (``figure_units``)."""
    covered = matched_units(raw, other, span=span, min_run=min_run)
    if max_gap:
        # An edit inside a reused passage (a word changed, a unit restyled) leaves a short gap between two
        # reused runs: it is still the reused passage. A figure in the gap is not an edit: a template filled
        # in with other numbers (a bond issue, a daily notice, an earnings table) is another story.
        found = runs(covered)
        for (_, end), (start, _) in pairwise(found):
            if start - end <= max_gap and (figure_units is None or not figure_units[end:start].any()):
                covered[end:start] = True
    return covered


def aligned_units(
    a: np.ndarray, b: np.ndarray, *, figures_a: np.ndarray, figures_b: np.ndarray, max_gap: int, min_words: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which words of two word-mode texts lie in an aligned passage: matching blocks of the two word sequences
    (difflib's alignment, in order) chained across gaps of at most ``max_gap`` words on each side whose
    figures are the same on both sides, kept when the chain's matched words reach ``min_words``.

    Grams miss a passage edited every few words ("96.3 mln vs 125.6 mln" as "96.3 million vs 125.6 million":
    no run of identical words long enough for a gram run); the alignment keeps the words between the edits
    and the edited word with them. A changed figure breaks the chain (a template filled in anew)."""
    in_a, in_b = np.zeros(a.size, dtype=bool), np.zeros(b.size, dtype=bool)
    if not a.size or not b.size:
        return in_a, in_b
    blocks = [m for m in SequenceMatcher(None, a.tolist(), b.tolist(), autojunk=False).get_matching_blocks() if m.size]
    chain: list[tuple[int, int, int]] = []

    def close() -> None:
        if chain and sum(n for _, _, n in chain) >= min_words:
            in_a[chain[0][0] : chain[-1][0] + chain[-1][2]] = True
            in_b[chain[0][1] : chain[-1][1] + chain[-1][2]] = True

    for i, j, n in blocks:
        if chain:
            pi, pj, pn = chain[-1]
            gap_a, gap_b = slice(pi + pn, i), slice(pj + pn, j)
            if (
                i - (pi + pn) <= max_gap
                and j - (pj + pn) <= max_gap
                and sorted(a[gap_a][figures_a[gap_a]].tolist()) == sorted(b[gap_b][figures_b[gap_b]].tolist())
            ):
                chain.append((i, j, n))
                continue
            close()
        chain = [(i, j, n)]
    close()
    return in_a, in_b


def differing_slots(units: np.ndarray, slots: np.ndarray, matched: np.ndarray, other_units: np.ndarray,
                    *, max_gap: int, paragraphs: np.ndarray | None = None) -> int:  # fmt: skip
    """How many distinct slot words (figures, names) a text has in the short unmatched stretches of its
    paragraphs that hold a matched run, that the other text never uses: the blanks a template fills in anew
    ("Sankei Building ... lead manager Nomura" against "Sekisui Chemical ... lead manager Yamaichi"). A copy's
    edits there are house style ("per cent" for "pct"), and a re-send keeps its names and figures. A paragraph
    with no matched run at all (a new lead, an inserted paragraph) holds no blank of the other's."""
    n = units.size
    matched = matched[:n]
    opens = paragraphs[:n] if paragraphs is not None and paragraphs.size >= n else np.zeros(n, dtype=bool)
    starts = np.union1d(np.flatnonzero(opens), [0]) if n else np.empty(0, dtype=np.int64)
    gaps = np.zeros(n, dtype=bool)
    for first, last in zip(starts.tolist(), [*starts[1:].tolist(), n], strict=True):
        here = matched[first:last]
        if not here.any():
            continue
        for a, b in runs(~here):
            if b - a <= max_gap:
                gaps[first + a : first + b] = True
    candidates = np.unique(units[gaps & slots])
    if not candidates.size:
        return 0
    return int(np.count_nonzero(~np.isin(candidates, other_units)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The [start, end) runs of True in a boolean array."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


@dataclass(frozen=True)
class Reuse:
    """Two texts sharing passages, measured exactly on their shingles."""

    other: Hashable
    of_doc: float  # share of the article's text found in the other
    of_other: float  # share of the other's text found in the article
    doc_runs: tuple[tuple[int, int], ...]  # reused [start, end) unit ranges of the article
    other_runs: tuple[tuple[int, int], ...]  # and of the other
    shared_fingerprints: int = 0
    differing_slots: int = 0  # slot words of either text, in the gaps between its runs, the other never uses

    @property
    def share(self) -> float:
        """The deciding share: the larger part of one text found in the other."""
        return max(self.of_doc, self.of_other)


def measure(
    doc: Passages,
    other: Passages,
    *,
    span: int,
    min_run: int,
    max_gap: int = 0,
    slot_gap: int = 0,
    align_gap: int = 0,
    other_id: Hashable,
    shared_fingerprints: int = 0,
) -> Reuse:
    """Both reused shares of two texts, from their exact grams (see :func:`reused_units`), and the slot
    words that differ between them (:func:`differing_slots`, word mode only)."""
    mine = reused_units(doc.grams, other.gram_set, span=span, min_run=min_run, max_gap=max_gap,
                        figure_units=doc.figure_units)  # fmt: skip
    theirs = reused_units(other.grams, doc.gram_set, span=span, min_run=min_run, max_gap=max_gap,
                          figure_units=other.figure_units)  # fmt: skip
    if align_gap and doc.units is not None and other.units is not None:
        assert doc.figure_units is not None and other.figure_units is not None
        here, there = aligned_units(doc.units, other.units, figures_a=doc.figure_units,
                                    figures_b=other.figure_units, max_gap=align_gap,
                                    min_words=span + min_run - 1)  # fmt: skip
        mine, theirs = mine | here, theirs | there
    # A template's blank is filled on both sides (another issuer here, another one there); a word the copy
    # dropped, or a name it added, is one-sided: the fewer of the two counts.
    slots = min(_differing(doc, other, span=span, min_run=min_run, slot_gap=slot_gap),
                _differing(other, doc, span=span, min_run=min_run, slot_gap=slot_gap))  # fmt: skip
    return Reuse(
        other=other_id,
        of_doc=float(mine.mean()) if mine.size else 0.0,
        of_other=float(theirs.mean()) if theirs.size else 0.0,
        doc_runs=tuple(runs(mine)),
        other_runs=tuple(runs(theirs)),
        shared_fingerprints=shared_fingerprints,
        differing_slots=slots,
    )


def _differing(a: Passages, b: Passages, *, span: int, min_run: int, slot_gap: int) -> int:
    if a.units is None or a.slots is None or b.unit_set is None:
        return 0  # character mode: no words, no slots
    matched = matched_units(a.grams, b.gram_set, span=span, min_run=min_run)
    return differing_slots(a.units, a.slots, matched, b.unit_set, max_gap=slot_gap, paragraphs=a.paragraphs)


@dataclass(frozen=True)
class Passages:
    """A text as reuse is measured on it: its grams in text order, their set, which units are figures, and
    (word mode) its words, their set and which are slots (figures and names)."""

    grams: np.ndarray
    gram_set: np.ndarray
    figure_units: np.ndarray | None = None
    units: np.ndarray | None = None
    unit_set: np.ndarray | None = None
    slots: np.ndarray | None = None
    paragraphs: np.ndarray | None = None  # which words open a paragraph


def word_passages(
    units: np.ndarray, figure_units: np.ndarray, slots: np.ndarray, paragraphs: np.ndarray, seed_words: int
) -> Passages:
    """A word-mode text's ``seed_words``-grams: shorter than the index's shingles, so that a house-style edit
    every few words ("mln" for "million", "per cent" for "pct") still leaves runs of grams between edits."""
    g = grams(units, seed_words) if units.size else units
    return Passages(grams=g, gram_set=np.unique(g), figure_units=figure_units, units=units,
                    unit_set=np.unique(units), slots=slots, paragraphs=paragraphs)  # fmt: skip


def unit_offsets(text: str, mode: Mode) -> list[tuple[int, int]]:
    """Character offsets of each unit the shingles are made of: the words, or in character mode the letters."""
    spans = [m.span() for m in _WORD.finditer(text)]
    if mode is Mode.words:
        return spans
    return [(i, i + 1) for a, b in spans for i in range(a, b)]


def character_spans(text: str, mode: Mode, unit_runs: tuple[tuple[int, int], ...]) -> list[list[int]]:
    """The reused passages as [start, end) character offsets into ``text`` (the body as stored)."""
    offsets = unit_offsets(text, mode)
    out: list[list[int]] = []
    for a, b in unit_runs:
        if a >= len(offsets):
            break
        out.append([offsets[a][0], offsets[min(b, len(offsets)) - 1][1]])
    return out
