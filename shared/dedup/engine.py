"""The dedup engine as pure functions: features of a batch, verification of candidates, and the decision.

An article is a duplicate when an exact key matches (content hash, canonical URL, ``(source, external_id)``,
per-source title) or when a near-duplicate candidate from the LSH index passes verification on the exact
shingle sets:

* Jaccard ≥ ``jaccard_threshold``                                   → ``minhash``
* containment ≥ ``containment_threshold`` and the smaller text has at
  least ``min_containment_shingles`` shingles (a trimmed copy)       → ``containment``
* Jaccard ≥ ``jaccard_threshold - title_margin`` and titles at least
  ``title_threshold`` alike (title similarity as a supporting signal) → ``minhash+title``

Candidates come from LSH bands of the whole text's MinHash and, for a copy trimmed at the tail (a low Jaccard
similarity to its original, the same lead), from what the original shares with it whole: its passage
fingerprints (partial reuse on) or, without those, a few bands of its lead's MinHash (the first
``lead_shingles`` shingles). A text too short for a containment match gets no lead bands.

When none of these matches, partial reuse may (``shared.dedup.reuse``): candidates sharing passage
fingerprints are measured exactly, and one whose text is reused to ``reuse_join_threshold`` → ``reuse``;
lower shares down to ``reuse_link_threshold`` link the two articles without merging.

Thin texts (fewer than ``min_shingles`` shingles) are never judged by MinHash: only exact keys apply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np

from shared.dedup.minhash import band_keys, leads, select, signatures
from shared.dedup.reuse import Passages, Reuse, batch_fingerprints, measure, same_figures, word_passages
from shared.dedup.settings import DedupSettings
from shared.dedup.shingles import Mode, ShingleBatch, WordFlags, shingle_batch, word_flags
from shared.dedup.similarity import jaccard_containment, title_similarity, title_words


class Method(StrEnum):
    unique = "unique"  # nothing matched: it started its cluster
    exact_hash = "exact_hash"
    canonical_url = "canonical_url"
    external_id = "external_id"
    same_title = "title"  # same source, same normalised title, within the title window
    minhash = "minhash"
    containment = "containment"
    minhash_title = "minhash+title"
    reuse = "reuse"  # it reuses most of the other's text (or the other most of its text): partial reuse
    correction = "correction"  # a user marked it as not a duplicate


# Exact evidence outranks near-duplicate evidence; in this order.
EXACT_METHODS = (Method.exact_hash, Method.canonical_url, Method.external_id, Method.same_title)
_NEAR_STRENGTH = {Method.minhash: 3, Method.containment: 2, Method.minhash_title: 1}


@dataclass(frozen=True)
class Features:
    """What the engine knows of one text: its shingles, band keys (none when thin), title words."""

    mode: Mode
    raw: np.ndarray  # uint64 shingle hashes in text order, with repeats
    bands: np.ndarray  # int64 LSH keys; empty when thin
    title: frozenset[str]
    passages: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # winnowed fingerprints
    units: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))  # word hashes (word mode)
    text: str = ""  # the body as shingled: its word flags are read from it when reuse measures the text

    @property
    def thin(self) -> bool:
        return self.bands.size == 0

    @cached_property
    def flags(self) -> WordFlags:
        """Which words are figures, names, paragraph openings: made when reuse first measures the text (most
        texts never reach that, and the flags cost as much as their shingles)."""
        if self.mode is not Mode.words:
            empty = np.empty(0, dtype=bool)
            return WordFlags(figures=empty, names=empty, opens=empty)
        return word_flags(self.text)

    @property
    def figure_units(self) -> np.ndarray:
        return self.flags.figures

    @property
    def slot_units(self) -> np.ndarray:
        """Figures and capitalised words: the blanks a template fills in."""
        return self.flags.slots

    @property
    def paragraph_units(self) -> np.ndarray:
        return self.flags.opens

    @cached_property
    def numbers(self) -> frozenset[int]:
        """The text's figures (word hashes of its numbers), which a template filled in anew changes."""
        return frozenset(self.units[self.figure_units].tolist())

    @cached_property
    def shingles(self) -> np.ndarray:
        """The shingle set: sorted, without repeats (made when first verified, not for every text)."""
        return np.unique(self.raw)


def featurize(bodies: Sequence[str], titles: Sequence[str], s: DedupSettings) -> list[Features]:
    """Features of a whole batch: one shingling pass, the passage fingerprints, then the signatures of the
    bands the texts index (one pass when they all index the same)."""
    batch = shingle_batch(
        list(bodies),
        shingle_words=s.shingle_words,
        shingle_chars=s.shingle_chars,
        char_script_ratio=s.char_script_ratio,
    )
    counts = batch.counts()
    prints = batch_fingerprints(
        batch.hashes, batch.offsets, s.reuse_window, s.reuse_max_fingerprints, lead=s.lead_shingles
    )
    no_bands = np.empty(0, dtype=np.int64)
    # A text too short to judge reuse of is never a reuse candidate either: no fingerprints to index.
    judged = counts >= max(s.min_shingles, s.reuse_min_shingles)
    passages = [prints[i] if judged[i] else no_bands for i in range(counts.size)]
    indexed = np.array(
        [
            _indexed_bands(int(c), p.size, s) if c >= s.min_shingles else 0
            for c, p in zip(counts, passages, strict=True)
        ],
        dtype=np.int64,
    )
    keys = _band_keys(batch, indexed, s)
    return [
        Features(
            mode=batch.modes[i],
            raw=batch.hashes[batch.offsets[i] : batch.offsets[i + 1]],
            bands=keys[i, : indexed[i]] if indexed[i] else no_bands,
            title=title_words(titles[i]),
            passages=passages[i],
            units=batch.words_of(i),
            text=bodies[i],
        )
        for i in range(counts.size)
    ]


def _band_keys(batch: ShingleBatch, indexed: np.ndarray, s: DedupSettings) -> np.ndarray:
    """(texts, bands + lead_bands) int64 keys, computed for the first ``indexed[i]`` bands of text ``i`` only
    (the rest are left 0): a text whose fingerprints stand in for its last bands needs no permutations for them,
    and the lead's signatures are made only when some text indexes lead bands.

    The whole-text bands go in two tiers, the first ``reuse_min_bands`` for every text and the rest for the
    texts that index more, so one vectorised pass serves many texts each."""
    n = indexed.size
    keys = np.zeros((n, s.bands + s.lead_bands), dtype=np.int64)
    whole = np.minimum(indexed, s.bands)
    floor = min(s.reuse_min_bands, s.bands)
    more = np.flatnonzero(whole > floor)
    # Every text that indexes bands indexes more than the floor (reuse off): one pass over all the bands.
    tiers = [(0, s.bands, None)] if more.size == np.count_nonzero(whole) else [(0, floor, None), (floor, s.bands, more)]
    for lo, hi, texts in tiers:
        if hi <= lo or (texts is not None and not texts.size):
            continue
        part = batch if texts is None else select(batch, texts)
        sig = signatures(part, num_perm=s.num_perm, seed=s.seed, perms=slice(lo * s.rows, hi * s.rows))
        keys[slice(None) if texts is None else texts, lo:hi] = band_keys(sig, bands=hi - lo, rows=s.rows, first_band=lo)
    if s.lead_bands and np.any(indexed > s.bands):
        lead_sig = signatures(leads(batch, s.lead_shingles), num_perm=s.lead_bands * s.rows, seed=s.seed + 1)
        keys[:, s.bands :] = band_keys(lead_sig, bands=s.lead_bands, rows=s.rows, first_band=s.bands)
    return keys


def _indexed_bands(shingles: int, fingerprints: int, s: DedupSettings) -> int:
    """How many of a text's band keys (whole-text bands, then lead bands) it indexes and looks up.

    The lead bands only serve the containment check: a text under ``min_containment_shingles`` takes part in no
    containment match. A text with passage fingerprints shares them with a copy trimmed at its tail (every
    window of the kept part is a window of both), and with a copy as a whole (at Jaccard 0.5 the copies share
    long runs of shingles, so fingerprints), so they stand in for its lead bands and for its last whole-text
    bands: it writes no more keys than without fingerprints, but never fewer than ``reuse_min_bands``
    whole-text bands, which find its copies when their fingerprints do not (every row of a key is shared by a
    whole-text band of the same number, so texts keeping fewer bands still meet on the first ones)."""
    if fingerprints:
        return min(s.bands, max(s.reuse_min_bands, s.bands + s.lead_bands - fingerprints))
    return s.bands + s.lead_bands if shingles >= s.min_containment_shingles else s.bands


@dataclass(frozen=True)
class Match:
    """Why an article joined another's cluster."""

    matched: Hashable
    method: Method
    similarity: float
    jaccard: float | None = None
    containment: float | None = None
    title_similarity: float | None = None
    shared_bands: int = 0


@dataclass
class Candidate:
    """Another article that shares an index key with the one being decided."""

    id: Hashable
    rank: tuple = ()  # earlier first among equally good matches
    exact: set[Method] = field(default_factory=set)  # exact keys it shares (already verified)
    shared_bands: int = 0
    shared_passages: int = 0  # passage fingerprints it shares (partial reuse)
    features: Features | None = None  # needed for near-duplicate verification


def verify(doc: Features, other: Features, shared_bands: int, s: DedupSettings, matched: Hashable) -> Match | None:
    """Exact Jaccard and containment on the shingle sets, with the title as a supporting signal."""
    if doc.thin or other.thin or doc.mode is not other.mode:
        return None
    jac, con = jaccard_containment(doc.shingles, other.shingles)
    t = title_similarity(doc.title, other.title)
    smaller = min(doc.shingles.size, other.shingles.size)
    if jac >= s.jaccard_threshold:
        method, similarity = Method.minhash, jac
    elif con >= s.containment_threshold and smaller >= s.min_containment_shingles:
        method, similarity = Method.containment, con
    elif jac >= s.jaccard_threshold - s.title_margin and t >= s.title_threshold:
        method, similarity = Method.minhash_title, jac
    else:
        return None
    return Match(
        matched=matched,
        method=method,
        similarity=similarity,
        jaccard=jac,
        containment=con,
        title_similarity=t,
        shared_bands=shared_bands,
    )


def near_matches(doc: Features, candidates: Iterable[Candidate], s: DedupSettings) -> list[Match]:
    """Every verified near-duplicate among the ``max_candidates`` candidates sharing the most bands and the
    ``reuse_candidates`` sharing the most passage fingerprints (a copy trimmed at the tail, which the lead
    bands found before fingerprints stood in for them)."""
    loaded = [c for c in candidates if c.features is not None]
    pool = sorted((c for c in loaded if c.shared_bands), key=_band_order)[: s.max_candidates]
    by_passages = sorted(
        (c for c in loaded if not c.shared_bands and c.shared_passages >= s.reuse_min_shared),
        key=lambda c: (-c.shared_passages, c.rank),
    )
    out = []
    for c in pool + by_passages[: s.reuse_candidates]:
        assert c.features is not None
        m = verify(doc, c.features, c.shared_bands, s, c.id)
        if m is not None:
            out.append(m)
    return out


def _band_order(c: Candidate) -> tuple:
    return (-c.shared_bands, c.rank)


def best_match(doc: Features, candidates: Sequence[Candidate], s: DedupSettings) -> Match | None:
    """The decision: the strongest exact key on the earliest article, else the most similar verified copy."""
    for method in EXACT_METHODS:
        exact = [c for c in candidates if method in c.exact]
        if exact:
            first = min(exact, key=lambda c: c.rank)
            return Match(matched=first.id, method=method, similarity=1.0, shared_bands=first.shared_bands)
    found = near_matches(doc, candidates, s)
    if not found:
        return None
    # A copy similar as a whole explains more than one contained in another, and both more than a title.
    return max(found, key=lambda m: (_NEAR_STRENGTH[m.method], m.similarity, m.shared_bands))


def passages(f: Features, s: DedupSettings) -> Passages:
    """What reuse is measured on: word ``reuse_seed_words``-grams, or the character shingles themselves."""
    if f.mode is Mode.words:
        return word_passages(f.units, f.figure_units, f.slot_units, f.paragraph_units, s.reuse_seed_words)
    return Passages(grams=f.raw, gram_set=f.shingles)


def reuse_matches(doc: Features, candidates: Iterable[Candidate], s: DedupSettings) -> list[Reuse]:
    """Exact reuse shares of the ``reuse_candidates`` candidates sharing the most passage fingerprints,
    those at or above ``reuse_link_threshold``; the one that explains most of the article first (a short
    brief of which the article quotes a paragraph has a large share of its own reused, yet says little
    about the article)."""
    if doc.thin or s.reuse_window == 0 or doc.shingles.size < s.reuse_min_shingles:
        return []
    pool = sorted(
        (c for c in candidates if c.features is not None and c.shared_passages >= s.reuse_min_shared),
        key=lambda c: (-c.shared_passages, c.rank),
    )
    if not pool:
        return []  # most articles: nothing shares enough passages, and their word flags are never made
    span = s.reuse_seed_words if doc.mode is Mode.words else s.shingle_chars
    mine = passages(doc, s)
    out = []
    for c in pool[: s.reuse_candidates]:
        other = c.features
        assert other is not None
        if other.thin or other.mode is not doc.mode or other.shingles.size < s.reuse_min_shingles:
            continue
        r = measure(
            mine, passages(other, s), span=span, min_run=s.reuse_min_run, max_gap=s.reuse_max_gap,
            slot_gap=s.reuse_slot_gap, align_gap=s.reuse_align_gap, other_id=c.id, shared_fingerprints=c.shared_passages,
        )  # fmt: skip
        if r.share >= s.reuse_link_threshold:
            out.append(r)
    return sorted(out, key=lambda r: (-r.of_doc, -r.share))


@dataclass(frozen=True)
class Decision:
    """What decided the article's cluster (``None``: it founds its own) and every verified reuse link."""

    match: Match | None
    reuses: list[Reuse]


def decide(doc: Features, candidates: Sequence[Candidate], s: DedupSettings) -> Decision:
    """Copies first (:func:`best_match`); without one, the largest reuse at ``reuse_join_threshold`` joins."""
    match = best_match(doc, candidates, s)
    reuses = reuse_matches(doc, candidates, s)
    by_id = {c.id: c for c in candidates}

    def agree(r: Reuse) -> bool:
        # A template filled in anew (another company, other figures, another lead manager) reuses the words
        # of a story, not the story: its slots differ where the passages leave gaps.
        other = by_id[r.other].features
        assert other is not None
        return r.differing_slots <= s.reuse_max_differing_slots and same_figures(
            doc.numbers, other.numbers, min_figures=s.reuse_min_figures, share=s.reuse_figure_share
        )

    # A join also needs the smaller share at the link threshold: an article that is mostly something else (a
    # digest of the day's stories, a roundup quoting a report, a follow-up repeating the background) links.
    joins = [
        r
        for r in reuses
        if r.share >= s.reuse_join_threshold and min(r.of_doc, r.of_other) >= s.reuse_link_threshold and agree(r)
    ]
    if match is not None and match.method is Method.containment and joins:
        # A short story contained whole in the article (a brief it quotes) explains less of it than a story
        # whose text makes up more of the article: the article belongs with the latter.
        contained = by_id[match.matched].features
        assert contained is not None
        if joins[0].of_doc > np.intersect1d(doc.shingles, contained.shingles).size / doc.shingles.size:
            match = None
    if match is None and joins:
        top = joins[0]
        other = by_id[top.other].features
        assert other is not None
        jac, con = jaccard_containment(doc.shingles, other.shingles)
        match = Match(
            matched=top.other,
            method=Method.reuse,
            similarity=top.share,
            jaccard=jac,
            containment=con,
            title_similarity=title_similarity(doc.title, other.title),
            shared_bands=by_id[top.other].shared_bands,
        )
    return Decision(match=match, reuses=reuses)


class MemoryIndex:
    """An in-process LSH index (band key → ids), for the batch being decided and for benchmarks."""

    def __init__(self) -> None:
        self.buckets: dict[int, list[Hashable]] = {}

    def query(self, keys: np.ndarray) -> Counter:
        """Ids sharing at least one band, with how many bands they share."""
        found: Counter = Counter()
        get = self.buckets.get
        for k in keys.tolist():
            ids = get(k)
            if ids:
                found.update(ids)
        return found

    def add(self, doc_id: Hashable, keys: np.ndarray) -> None:
        buckets = self.buckets
        for k in keys.tolist():
            ids = buckets.get(k)
            if ids is None:
                buckets[k] = [doc_id]
            else:
                ids.append(doc_id)


class ArrayIndex:
    """An in-process LSH index kept as sorted numpy arrays and fed a batch at a time, set-based like the
    PostgreSQL index (one pass per batch instead of a dictionary operation per key): for benchmarks and
    bulk work."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)
        self.owners = np.empty(0, dtype=np.int64)

    def add_batch(self, ids: np.ndarray, bands: np.ndarray | Sequence[np.ndarray]) -> dict[int, Counter]:
        """Index the batch (ids: int64 in [0, 2^31), one row of keys each, rows of any length) and return, for
        each of its ids, the earlier ids (indexed before, or earlier in the batch) sharing a key, with how many."""
        if ids.size and (ids.min() < 0 or ids.max() >= 2**31):
            raise ValueError("ArrayIndex ids must be in [0, 2^31)")
        rows = list(bands)
        flat_keys = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        flat_ids = np.repeat(ids, [r.size for r in rows])
        order = np.lexsort((flat_ids, flat_keys))
        k, i = flat_keys[order], flat_ids[order]
        # Against the index: every stored entry with an equal key (the keys looked up in sorted order, so the
        # binary searches walk the index in one direction instead of missing the cache at random).
        lo = np.searchsorted(self.keys, k, side="left")
        hi = np.searchsorted(self.keys, k, side="right")
        width = hi - lo
        hit = np.flatnonzero(width)
        who = np.repeat(i[hit], width[hit])
        starts = np.repeat(lo[hit] - np.cumsum(np.r_[0, width[hit][:-1]]), width[hit])
        other = self.owners[starts + np.arange(who.size)]
        # Within the batch: equal keys, each entry paired with the entries of lower id.
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        sizes = np.diff(np.r_[starts, k.size])
        pairs_a, pairs_b = [who], [other]
        two = starts[sizes == 2]
        pairs_a.append(i[two + 1])
        pairs_b.append(i[two])
        for first, size in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist(), strict=True):
            members = i[first : first + size]
            for m in range(1, size):
                pairs_a.append(np.repeat(members[m], m))
                pairs_b.append(members[:m])
        a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
        keep = a != b
        codes, counts = np.unique((a[keep] << 32) | b[keep], return_counts=True)
        found: dict[int, Counter] = {}
        for code, n in zip(codes.tolist(), counts.tolist(), strict=True):
            found.setdefault(code >> 32, Counter())[code & 0xFFFFFFFF] = n
        # Merge the batch in; a stable sort of two sorted runs is a linear merge.
        keys = np.concatenate([self.keys, k])
        owners = np.concatenate([self.owners, i])
        merged = np.argsort(keys, kind="stable")
        self.keys, self.owners = keys[merged], owners[merged]
        return found
