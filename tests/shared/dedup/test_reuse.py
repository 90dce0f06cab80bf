"""Partial reuse in the pure engine: winnowed fingerprints, reuse shares both ways, join, link or nothing."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from shared.dedup.engine import Candidate, Features, Method, decide, featurize
from shared.dedup.reuse import (
    Reuse,
    aligned_units,
    batch_fingerprints,
    character_spans,
    fingerprints,
    reused_units,
    runs,
)
from shared.dedup.settings import DedupSettings, engine_version
from shared.dedup.shingles import Mode, grams
from shared.text.normalise import normalise_body
from tests.shared.dedup.reuse_support import story

S = DedupSettings()


def features(*names: str, s: DedupSettings = S) -> dict[str, Features]:
    titles, bodies = zip(*(story(n) for n in names), strict=True)
    return dict(zip(names, featurize([normalise_body(b).body for b in bodies], list(titles), s), strict=True))


def against(doc: Features, other: Features, *, bands: int = 0, passages: int = 50) -> Candidate:
    """The other article as a candidate found by ``passages`` fingerprints (and ``bands`` LSH bands)."""
    return Candidate(id="other", rank=("other",), shared_bands=bands, shared_passages=passages, features=other)


def test_winnowing_gives_every_shared_passage_of_a_window_a_common_fingerprint() -> None:
    rng = np.random.default_rng(7)
    passage = rng.integers(0, 2**63, size=12, dtype=np.uint64)
    a = np.concatenate([rng.integers(0, 2**63, size=30, dtype=np.uint64), passage])
    b = np.concatenate([passage, rng.integers(0, 2**63, size=50, dtype=np.uint64)])
    fa, fb = fingerprints(a, 8), fingerprints(b, 8)
    assert np.intersect1d(fa, fb).size >= 1
    assert fa.size < a.size  # a sample, not every shingle
    assert fingerprints(a[:5], 8).size == 1  # a text shorter than the window keeps its minimum
    assert fingerprints(a, 0).size == 0


@pytest.mark.parametrize("window", [1, 3, 8, 9])
def test_a_batch_winnows_each_text_as_every_window_minimum_of_its_own(window: int) -> None:
    rng = np.random.default_rng(window)
    counts = [0, 1, window, window + 1, 40, 3, 25]
    offsets = np.concatenate(([0], np.cumsum(counts)))
    hashes = rng.integers(0, 2**64, size=int(offsets[-1]), dtype=np.uint64) % np.uint64(1_000)  # with repeats
    for n, got in enumerate(batch_fingerprints(hashes, offsets, window)):
        text = hashes[offsets[n] : offsets[n + 1]]
        minima = (
            {int(text[i : i + window].min()) for i in range(max(text.size - window + 1, 1))} if text.size else set()
        )
        assert got.view(np.uint64).tolist() == sorted(minima)
    # With a limit, each text keeps its smallest: a bottom-k sample of its fingerprints; with a lead, the
    # fingerprints of the windows inside its first shingles go first.
    every = batch_fingerprints(hashes, offsets, window)
    for n, (got, smallest) in enumerate(zip(every, batch_fingerprints(hashes, offsets, window, 3), strict=True)):
        assert np.array_equal(got[:3], smallest)
        text = hashes[offsets[n] : offsets[n + 1]]
        [kept] = batch_fingerprints(text, np.array([0, text.size]), window, 3, lead=window + 1)
        head = fingerprints(text[: window + 1], window).view(np.uint64)
        rest = np.setdiff1d(got.view(np.uint64), head)
        assert kept.view(np.uint64).tolist() == sorted([*head.tolist(), *rest.tolist()][:3])


def test_reused_units_ignore_runs_shorter_than_the_minimum_and_cover_the_shingles_words() -> None:
    raw = np.arange(1, 21, dtype=np.uint64)  # 20 shingles of 5 words: 24 words
    other = np.array([3, 10, 11, 12, 13], dtype=np.uint64)  # a lone shingle and a run of four
    mask = reused_units(raw, other, span=5, min_run=3)
    assert mask.size == 24
    assert runs(mask) == [(9, 17)]  # shingles 9..12 (0-based) cover words 9..16
    assert runs(reused_units(raw, other, span=5, min_run=1)) == [(2, 7), (9, 17)]


def test_a_local_rewrite_of_a_wire_story_joins_it_with_both_shares_recorded() -> None:
    f = features("wire", "rewrite")
    verdict = decide(f["rewrite"], [against(f["rewrite"], f["wire"])], S)
    assert verdict.match is not None and verdict.match.method is Method.reuse
    (r,) = verdict.reuses
    # Most of each text is in the other, and the whole-text similarity alone would not have joined them.
    assert 0.6 <= r.of_doc < 0.8 and 0.6 <= r.of_other < 0.8
    assert verdict.match.similarity == r.share == max(r.of_doc, r.of_other)
    assert verdict.match.jaccard is not None and verdict.match.jaccard < S.jaccard_threshold
    # Either arrival order finds the same pair, with the shares swapped.
    (back,) = decide(f["wire"], [against(f["wire"], f["rewrite"])], S).reuses
    assert (back.of_doc, back.of_other) == pytest.approx((r.of_other, r.of_doc))


def test_the_passages_are_the_reused_paragraphs_as_character_offsets() -> None:
    f = features("wire", "rewrite")
    (r,) = decide(f["rewrite"], [against(f["rewrite"], f["wire"])], S).reuses
    rewrite = normalise_body(story("rewrite")[1]).body
    wire = normalise_body(story("wire")[1]).body
    here = [rewrite[a:b] for a, b in character_spans(rewrite, Mode.words, r.doc_runs)]
    there = [wire[a:b] for a, b in character_spans(wire, Mode.words, r.other_runs)]
    assert any("Ingrid Solberg told reporters" in p for p in here)
    assert any("Ingrid Solberg told reporters" in p for p in there)
    # The rewrite's own lead and the fisherman's quote are not reused; the wire's analysts' close is not kept.
    assert not any("reacted with anger" in p or "Arne Haugland" in p for p in here)
    assert not any("Shipping analysts said" in p for p in there)


def test_a_feature_quoting_part_of_the_wire_is_linked_not_merged() -> None:
    f = features("wire", "feature")
    verdict = decide(f["feature"], [against(f["feature"], f["wire"])], S)
    assert verdict.match is None
    (r,) = verdict.reuses
    assert S.reuse_link_threshold <= r.share < S.reuse_join_threshold


def test_two_earnings_briefs_sharing_boilerplate_never_merge() -> None:
    f = features("brief_a", "brief_b")
    verdict = decide(f["brief_b"], [against(f["brief_b"], f["brief_a"])], S)
    assert verdict.match is None
    assert all(r.share < S.reuse_join_threshold for r in verdict.reuses)


def test_the_thresholds_are_settings() -> None:
    strict = DedupSettings(reuse_join_threshold=0.8, reuse_link_threshold=0.5)
    f = features("wire", "rewrite", "feature", s=strict)
    rewrite = decide(f["rewrite"], [against(f["rewrite"], f["wire"])], strict)
    assert rewrite.match is None and len(rewrite.reuses) == 1  # linked only
    assert decide(f["feature"], [against(f["feature"], f["wire"])], strict).reuses == []
    assert engine_version(strict) != engine_version(S)
    off = DedupSettings(reuse_window=0)
    g = features("wire", "rewrite", s=off)
    assert g["wire"].passages.size == 0
    assert decide(g["rewrite"], [against(g["rewrite"], g["wire"])], off).match is None
    # Too few shared fingerprints: not even verified.
    picky = DedupSettings(reuse_min_shared=10_000)
    assert decide(f["rewrite"], [against(f["rewrite"], f["wire"])], picky).reuses == []


def test_settings_reject_a_link_threshold_above_the_join_threshold() -> None:
    with pytest.raises(ValidationError, match="REUSE_LINK_THRESHOLD"):
        DedupSettings(reuse_join_threshold=0.4, reuse_link_threshold=0.5)


def test_copies_still_win_over_reuse() -> None:
    f = features("wire", "wire")
    verdict = decide(f["wire"], [against(f["wire"], f["wire"], bands=48)], S)
    assert verdict.match is not None and verdict.match.method is Method.minhash


def test_a_batch_winnows_each_text_as_it_would_be_winnowed_alone() -> None:
    rng = np.random.default_rng(11)
    texts = [rng.integers(0, 2**63, size=n, dtype=np.uint64) for n in (0, 3, 16, 17, 90)]
    offsets = np.concatenate(([0], np.cumsum([t.size for t in texts]))).astype(np.int64)
    batch = batch_fingerprints(np.concatenate(texts), offsets, 16)
    assert [b.tolist() for b in batch] == [fingerprints(t, 16).tolist() for t in texts]
    assert batch[0].size == 0 and batch[1].size == 1


WIRE = " ".join(
    f"The port handled {n} mln tonnes of cargo in quarter {n + 1}, said the harbour master." for n in range(20)
)


def _pair(copy: str) -> Reuse:
    wire, edited = featurize([WIRE, copy], ["wire", "copy"], S)
    (r,) = decide(edited, [against(edited, wire)], S).reuses
    return r


def test_house_style_edits_every_few_words_leave_the_reused_share_whole() -> None:
    # "mln" -> "million" and "said" -> "says" in every sentence: no 5-word shingle of the wire survives there.
    r = _pair(WIRE.replace(" mln ", " million ").replace(" said ", " says "))
    assert r.of_other >= 0.9 and r.of_doc >= 0.9


def test_a_changed_figure_inside_a_passage_is_not_bridged_as_an_edit() -> None:
    edited = _pair(WIRE.replace("harbour master", "port chief"))
    refigured = _pair(WIRE.replace(" mln tonnes", "0 mln tonnes"))  # every sentence tells another tonnage
    assert edited.share > 0.95 and len(edited.doc_runs) == 1  # the changed words are bridged
    # Each changed figure splits the passage and is not counted as reused: one passage per sentence.
    assert len(refigured.doc_runs) >= 19 and refigured.share < edited.share


def test_texts_too_short_to_judge_reuse_index_no_fingerprints() -> None:
    short, long = featurize(
        ["A short note of twelve words about the harbour and its cargo today.", WIRE], ["a", "b"], S
    )
    assert not short.thin and short.passages.size == 0
    assert long.passages.size > 0


EUROBOND_NOTICE = (
    "{issuer} is issuing a 150 mln dlr eurobond due March 1994 paying 7-3/4 pct and priced at 101-1/8, lead manager "
    "{lead} said.\n\nThe non-callable bond is available in denominations of 5,000 dlrs and will be listed in "
    "Luxembourg. Payment date is April 2.\n\nThe selling concession is 1-1/4 pct while management and underwriting "
    "combined pays 5/8 pct. The issue is guaranteed by {parent}, the lead manager said.\n\nFees total 1-7/8 pct and "
    "the bonds will be sold in the United States only after a 90-day lock-up period, according to {lead}.\n\n"
    "{issuer} last tapped the eurobond market in the autumn, when it raised 100 mln dlrs through a five-year issue "
    "arranged by {lead}, syndicate officials added."
)


def test_a_template_notice_filled_in_for_another_issuer_is_not_joined_although_it_reuses_most_words() -> None:
    sankei = EUROBOND_NOTICE.format(issuer="Sankei Building Co", lead="Nomura International", parent="Fuji Bank Ltd")
    sekisui = EUROBOND_NOTICE.format(issuer="Sekisui Chemical Co", lead="Yamaichi International", parent="Sanwa Bank")

    def verdict(s: DedupSettings) -> tuple[Method | None, list[int]]:
        a, b = featurize([sankei, sekisui], ["Sankei Building eurobond", "Sekisui Chemical eurobond"], s)
        v = decide(b, [against(b, a)], s)
        return (v.match.method if v.match else None), [r.differing_slots for r in v.reuses]

    # A notice this short is mostly template: at a Jaccard similarity of 0.67 the copy rule takes it, whatever the
    # slots. What is tested here is the reuse rule, so the copy rules are put out of its reach.
    assert verdict(S)[0] is Method.minhash
    reuse_only = {"jaccard_threshold": 1.0, "containment_threshold": 1.0}
    # The same figures and most words, but issuer, lead manager and guarantor differ where the passages leave gaps.
    method, slots = verdict(DedupSettings(**reuse_only))
    assert method is None and slots and slots[0] > S.reuse_max_differing_slots
    # It is the slot check that keeps them apart: tolerate the differing slots and the share alone would join them.
    assert verdict(DedupSettings(reuse_max_differing_slots=slots[0], **reuse_only))[0] is Method.reuse


def test_a_digest_quoting_most_of_a_story_among_others_links_to_it_without_joining() -> None:
    title, body = story("wire")
    paragraphs = normalise_body(body).body.split("\n\n")
    quoted = paragraphs[: max(2, round(len(paragraphs) * 0.7))]
    others = [story("brief_a")[1], story("brief_b")[1], WIRE, EUROBOND_NOTICE.format(issuer="Sankei Building Co",
              lead="Nomura International", parent="Fuji Bank Ltd")]  # fmt: skip
    digest_body = "\n\n".join(["Today's highlights.", *others[:2], *quoted, *others[2:]])
    wire, digest = featurize([normalise_body(body).body, digest_body], [title, "News highlights"], S)
    for doc, other in ((digest, wire), (wire, digest)):
        verdict = decide(doc, [against(doc, other)], S)
        # Most of the story is in the digest, but the story is a small part of the digest: a link, not one story.
        assert verdict.match is None
        (r,) = verdict.reuses
        assert r.share >= S.reuse_join_threshold and min(r.of_doc, r.of_other) < S.reuse_link_threshold


def _words(text: str) -> tuple[np.ndarray, np.ndarray]:
    from shared.dedup.shingles import token_hashes, word_flags
    from shared.text.normalise import words

    return token_hashes(words(text)), word_flags(text).figures


TABLE = "operating income {a} mln vs 998 mln operating expenses 759 mln vs 692 mln tax 96 mln vs 125 mln in 1986"


def test_an_alignment_keeps_a_passage_edited_every_few_words_and_breaks_at_a_changed_figure() -> None:
    wire, wire_figures = _words(TABLE.format(a=1150))
    edited, edited_figures = _words(TABLE.format(a=1150).replace("mln", "million"))
    here, there = aligned_units(wire, edited, figures_a=wire_figures, figures_b=edited_figures, max_gap=2, min_words=5)
    assert here.all() and there.all()  # every word, the restyled unit between the figures included
    # The 4-word grams find nothing: no five words in a row are the same.
    grams_only = reused_units(grams(wire, 4), np.unique(grams(edited, 4)), span=4, min_run=2, max_gap=5,
                              figure_units=wire_figures)  # fmt: skip
    assert not grams_only.any()
    # Another figure in a gap is another table, not an edit: the chain stops there.
    other, other_figures = _words(TABLE.format(a=1420).replace("mln", "million"))
    here, _ = aligned_units(wire, other, figures_a=wire_figures, figures_b=other_figures, max_gap=2, min_words=5)
    assert not here[:4].any() and here[4:].all()
    # A gap longer than the allowance is not an edit either.
    here, _ = aligned_units(wire, edited, figures_a=wire_figures, figures_b=edited_figures, max_gap=0, min_words=5)
    assert not here.any()


def test_a_rewrite_restyling_a_table_joins_by_its_aligned_share_and_not_by_grams_alone() -> None:
    rows = [f"{name} {n}.{n % 7} mln vs {n + 13}.{n % 3} mln" for n, name in
            zip(range(101, 131), ["Sales", "Net", "Tax", "Costs", "Revs", "Assets"] * 5, strict=True)]  # fmt: skip
    wire_body = "\n\n".join(rows)
    copy_body = "\n\n".join(["LOCAL DESK - Our business reporter writes on the results below.",
                             *(r.replace("mln", "million") for r in rows)])  # fmt: skip
    wire, copy = featurize([wire_body, copy_body], ["Group results", "Local: group results"], S)
    verdict = decide(copy, [against(copy, wire)], S)
    assert verdict.match is not None and verdict.match.method is Method.reuse
    assert verdict.reuses[0].of_other >= S.reuse_join_threshold
    no_alignment = DedupSettings(reuse_align_gap=0)
    assert decide(copy, [against(copy, wire)], no_alignment).match is None
