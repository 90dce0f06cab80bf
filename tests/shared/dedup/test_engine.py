"""The pure dedup engine: shingles, MinHash, banding, verification, decisions, exact keys, URLs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.dedup.engine import ArrayIndex, Candidate, Features, MemoryIndex, Method, best_match, featurize, verify
from shared.dedup.keys import exact_keys, uuid7_floor, uuid7_time, window_floor
from shared.dedup.minhash import estimated_jaccard, permutations, select, signatures
from shared.dedup.reuse import fingerprints
from shared.dedup.settings import DedupSettings, engine_version
from shared.dedup.shingles import Mode, shingle_batch
from shared.dedup.similarity import jaccard_containment
from shared.ids import uuid7
from shared.text.urls import canonical_url
from tests.services.worker.dedup_support import composed, credited, story

S = DedupSettings()
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


def feats(*bodies: str, titles: tuple[str, ...] | None = None) -> list[Features]:
    return featurize(list(bodies), list(titles or ("",) * len(bodies)), S)


@given(st.lists(WORD, min_size=6, max_size=60), st.sampled_from([" ", "  ", "\n", ", ", " - ", "\t"]))
@settings(max_examples=60, deadline=None)
def test_shingles_ignore_case_whitespace_and_punctuation(tokens: list[str], sep: str) -> None:
    plain = " ".join(tokens)
    noisy = sep.join(t.upper() if i % 3 == 0 else t for i, t in enumerate(tokens)) + " !!"
    a, b = feats(plain, noisy)
    assert np.array_equal(a.shingles, b.shingles)
    assert np.array_equal(a.bands, b.bands)


@given(st.lists(st.lists(WORD, min_size=0, max_size=30), min_size=1, max_size=12))
@settings(max_examples=40, deadline=None)
def test_a_batch_gives_each_text_what_it_gets_alone(texts: list[list[str]]) -> None:
    bodies = [" ".join(t) for t in texts]
    together = feats(*bodies)
    for body, f in zip(bodies, together, strict=True):
        [alone] = feats(body)
        assert np.array_equal(alone.shingles, f.shingles)
        assert np.array_equal(alone.bands, f.bands)
        assert np.array_equal(alone.passages, f.passages)


def test_signatures_estimate_jaccard() -> None:
    body = story("harbour-strike")[1]
    half = body[: len(body) * 2 // 3]
    batch = shingle_batch([body, half], shingle_words=5, shingle_chars=5, char_script_ratio=0.5)
    sig = signatures(batch, num_perm=480, seed=1)
    a, b = feats(body, half)
    exact = jaccard_containment(a.shingles, b.shingles)[0]
    assert abs(estimated_jaccard(sig[0], sig[1]) - exact) < 0.08


def test_long_texts_span_several_numpy_slices() -> None:
    body = " ".join(f"w{n}" for n in range(60_000))  # 60k shingles: several slices of the batch
    batch = shingle_batch(["a b c d e f", body, "g h i j k"], shingle_words=5, shingle_chars=5, char_script_ratio=0.5)
    sig = signatures(batch, num_perm=16, seed=3)
    a, b = permutations(16, 3)
    for i in range(3):
        x = batch.hashes[batch.offsets[i] : batch.offsets[i + 1]]
        expected = ((x[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).min(axis=0).astype(np.uint32)
        assert np.array_equal(sig[i], expected)


def test_some_permutations_of_some_texts_are_those_columns_and_rows_of_the_whole_signature() -> None:
    bodies = [story(name)[1] for name in ("harbour-strike", "school-budget")]
    batch = shingle_batch(["a b c", *bodies, ""], shingle_words=5, shingle_chars=5, char_script_ratio=0.5)
    whole = signatures(batch, num_perm=120, seed=5)
    texts = np.array([1, 3])
    part = signatures(select(batch, texts), num_perm=120, seed=5, perms=slice(72, 120))
    assert np.array_equal(part, whole[texts, 72:])


def test_texts_compute_and_keep_the_bands_they_index_whatever_their_batch_neighbours_index() -> None:
    # A long text keeps fewer bands than a short one beside it (its fingerprints stand in for the rest), and a
    # text too short for reuse keeps the lead bands: each text's keys are those it gets in a batch of its own.
    bodies = [story("harbour-strike")[1], story("school-budget")[1][:400], "a few words about nothing much"]
    for s in (S, DedupSettings(reuse_window=0), DedupSettings(reuse_min_shingles=200)):
        together = featurize(bodies, ["", "", ""], s)
        assert len({f.bands.size for f in together}) > 1 or s.reuse_window == 0
        for body, f in zip(bodies, together, strict=True):
            [alone] = featurize([body], [""], s)
            assert np.array_equal(alone.bands, f.bands)


def test_scripts_without_spaces_use_character_shingles() -> None:
    zh, th, en = feats(
        "国家统计局今天公布的数据显示经济增长放缓", "กรุงเทพมหานครประกาศมาตรการใหม่", "plain english words here"
    )
    assert (zh.mode, th.mode, en.mode) == (Mode.chars, Mode.chars, Mode.words)
    assert not zh.thin and zh.shingles.size == len("国家统计局今天公布的数据显示经济增长放缓") - 4


def test_thin_texts_have_no_bands() -> None:
    empty, word, punct = feats("", "Developing", "!!! ???")
    assert empty.thin and word.thin and punct.thin
    assert verify(word, word, 0, S, "x") is None, "thin texts are never near duplicates"


def test_verification_methods() -> None:
    title, body = story("school-budget")
    paras = body.split("\n")
    original, copy, trimmed, other = feats(
        body,
        credited(body),
        "\n".join(paras[: len(paras) // 3]),
        story("cup-final")[1],
        titles=(title, title, title, "x"),
    )
    assert verify(copy, original, 40, S, "o").method is Method.minhash  # type: ignore[union-attr]
    trim = verify(trimmed, original, 8, S, "o")
    assert trim is not None and trim.method is Method.containment and trim.containment == 1.0
    assert verify(other, original, 1, S, "o") is None


def test_title_supports_a_borderline_match() -> None:
    a = " ".join(f"word{n}" for n in range(100))
    b = " ".join(f"word{n}" if n % 13 else f"other{n}" for n in range(100))
    same = feats(a, b, titles=("Budget cuts announced for schools", "Budget cuts announced for schools"))
    diff = feats(a, b, titles=("Budget cuts announced for schools", "Cup final tickets on sale"))
    jac = jaccard_containment(same[0].shingles, same[1].shingles)[0]
    assert S.jaccard_threshold - S.title_margin <= jac < S.jaccard_threshold
    assert verify(same[1], same[0], 5, S, "a").method is Method.minhash_title  # type: ignore[union-attr]
    assert verify(diff[1], diff[0], 5, S, "a") is None


def test_best_match_prefers_exact_keys_then_the_earliest() -> None:
    body = story("chip-plant")[1]
    doc, near = feats(body, credited(body))
    candidates = [
        Candidate(id="near", rank=(1,), shared_bands=40, features=near),
        Candidate(id="url-late", rank=(3,), exact={Method.canonical_url}),
        Candidate(id="url-early", rank=(2,), exact={Method.canonical_url}),
        Candidate(id="title", rank=(0,), exact={Method.same_title}),
    ]
    m = best_match(doc, candidates, S)
    assert m is not None and (m.matched, m.method, m.similarity) == ("url-early", Method.canonical_url, 1.0)
    m = best_match(doc, candidates[:1], S)
    assert m is not None and m.method is Method.minhash and m.matched == "near"
    assert best_match(doc, [], S) is None


def test_memory_index_counts_shared_bands() -> None:
    a, b, c = feats(composed("business", 1)[1], credited(composed("business", 1)[1]), composed("sport", 3)[1])
    index = MemoryIndex()
    index.add("a", a.bands)
    found = index.query(b.bands)
    assert found["a"] >= min(a.bands.size, b.bands.size) // 2  # texts with fingerprints keep fewer bands
    assert index.query(c.bands).get("a", 0) <= 1


def test_exact_keys() -> None:
    common = {"content_hash": b"h" * 32, "title_hash": b"t" * 32, "source": "desk", "min_title_words": 4}
    full = exact_keys(
        body="long body",
        title="A title of five words",
        canonical_url="https://x.org/a",
        external_id="9",
        thin=False,
        **common,
    )
    assert set(full) == {Method.exact_hash, Method.canonical_url, Method.external_id, Method.same_title}
    short = exact_keys(body="x", title="Short", canonical_url=None, external_id=None, thin=True, **common)
    assert set(short) == {Method.exact_hash}
    other_title = exact_keys(body="x", title="Other", canonical_url=None, external_id=None, thin=True, **common)
    assert short[Method.exact_hash] != other_title[Method.exact_hash], "a thin body is keyed with its title"
    punct = exact_keys(body="!!!", title="Short", canonical_url=None, external_id=None, thin=True, **common)
    assert punct[Method.exact_hash] != short[Method.exact_hash]
    other_source = exact_keys(
        body="long body", title="A title of five words", canonical_url=None, external_id="9", thin=False,
        **{**common, "source": "wire"},
    )  # fmt: skip
    assert other_source[Method.external_id] != full[Method.external_id]
    assert other_source[Method.same_title] != full[Method.same_title]


def test_uuid7_windows() -> None:
    now = datetime.now(UTC)
    fresh = uuid7()
    assert window_floor(now, 30) < fresh
    assert uuid7_floor(now + timedelta(seconds=5)) > fresh
    assert abs(uuid7_time(fresh) - now) < timedelta(seconds=5)
    assert uuid7_floor(now) <= uuid.UUID(int=uuid7_floor(now).int | 0xFFFF)


def test_settings_are_validated_and_versioned() -> None:
    with pytest.raises(ValueError, match=r"(?i)preferred_sources"):
        DedupSettings(canonical_policy="preferred_source")
    assert engine_version(S) != engine_version(DedupSettings(bands=20))
    assert S.num_perm == S.bands * S.rows


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www-bbc-co-uk.cdn.ampproject.org/c/s/www.bbc.co.uk/news/world-1/amp",
            "https://bbc.co.uk/news/world-1",
        ),
        ("https://www.google.com/amp/s/example.com/a/story.amp.html?utm_source=x", "https://example.com/a/story.html"),
        ("https://example-com.cdn.ampproject.org/v/example.com/b?id=2", "https://example.com/b?id=2"),
        ("https://www.google.com/search?q=amp", "https://google.com/search?q=amp"),
    ],
)
def test_amp_cache_links_unify_with_the_publisher_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_array_index_finds_what_the_memory_index_finds() -> None:
    bodies = [composed("business", n)[1] for n in range(1, 41)]
    bodies += [credited(b) for b in bodies[:10]] + bodies[5:8]  # copies, some exact
    fs = feats(*bodies)
    memory, expected = MemoryIndex(), {}
    for i, f in enumerate(fs):
        if found := memory.query(f.bands):
            expected[i] = dict(found)
        memory.add(i, f.bands)
    array, got = ArrayIndex(), {}
    for start in range(0, len(fs), 16):  # several batches, duplicates inside and across them
        ids = np.arange(start, min(start + 16, len(fs)), dtype=np.int64)
        # Rows of different lengths: a text with fingerprints keeps fewer bands.
        got.update({i: dict(c) for i, c in array.add_batch(ids, [fs[i].bands for i in ids]).items()})
    assert got == expected
    assert len(expected) >= 13 and len({f.bands.size for f in fs}) > 1
    with pytest.raises(ValueError, match="ids"):
        array.add_batch(np.array([-1]), np.stack([fs[0].bands]))


def test_word_flags_mark_each_word_of_the_text_reuse_measures() -> None:
    [f] = feats("Sankei Building issues 50 mln dlrs of bonds.\n\nLead manager is Nomura, U.S. says")
    # One flag per word hash, read from the text as it was shingled.
    assert f.units.size == f.figure_units.size == f.slot_units.size == f.paragraph_units.size == 15
    tokens = ["sankei", "building", "issues", "50", "mln", "dlrs", "of", "bonds",
              "lead", "manager", "is", "nomura", "u", "s", "says"]  # fmt: skip
    assert [t for t, x in zip(tokens, f.figure_units, strict=True) if x] == ["50"]
    # Names and figures are a template's slots; an initialism ("U.S.") is written either way and is no name.
    assert [t for t, x in zip(tokens, f.slot_units, strict=True) if x] == [
        "sankei", "building", "50", "lead", "nomura"]  # fmt: skip
    assert [t for t, x in zip(tokens, f.paragraph_units, strict=True) if x] == ["sankei", "lead"]


def test_word_flags_stay_aligned_when_case_folding_changes_a_word() -> None:
    # "ß" folds to "ss" and "ﬁ" to "fi": where the written words and the folded ones disagree in number, no
    # word is taken for a name or an opening, and the figures still line up with the word hashes.
    [f] = feats("Straße 12 ﬁnal ǅemal Größe 7 \u0130stanbul")
    assert f.units.size == f.figure_units.size == f.slot_units.size == f.paragraph_units.size
    [zh] = feats("国家统计局今天公布的数据显示经济增长放缓")
    assert zh.mode is Mode.chars and zh.figure_units.size == zh.slot_units.size == 0


def test_passage_fingerprints_stand_in_for_the_lead_bands_of_a_copy_trimmed_at_the_tail() -> None:
    title, body = story("school-budget")
    paras = body.split("\n")
    short = "Twelve words about the harbour, its cargo and the tide this morning, no more."
    original, trimmed, brief = feats(body, "\n".join(paras[: len(paras) // 4]), short, titles=(title, "Other", "x"))
    # With fingerprints a text writes no lead bands, and its fingerprints take the place of its last whole-text
    # bands down to reuse_min_bands: no more keys than without them. One too short for a containment match
    # writes no lead bands either.
    off = DedupSettings(reuse_window=0)
    without = featurize([body, "\n".join(paras[: len(paras) // 4])], [title, "Other"], off)
    assert [f.bands.size for f in without] == [S.bands + S.lead_bands] * 2
    spare = S.bands + S.lead_bands - S.reuse_min_bands  # fingerprints that add no key
    assert S.reuse_max_fingerprints == spare
    # A long text keeps as many fingerprints as add no key: its lead's, then its smallest others.
    every = featurize([body], [title], DedupSettings(reuse_max_fingerprints=1_000))[0].passages
    in_lead = fingerprints(original.raw[: S.lead_shingles], S.reuse_window)
    assert 0 < trimmed.passages.size < spare == original.passages.size < every.size
    assert np.isin(in_lead, original.passages).all()
    others = np.setdiff1d(every.view(np.uint64), in_lead.view(np.uint64))[: spare - in_lead.size]
    assert np.array_equal(np.sort(np.r_[in_lead.view(np.uint64), others]), original.passages.view(np.uint64))
    assert trimmed.bands.size + trimmed.passages.size <= without[1].bands.size
    assert original.bands.size + original.passages.size == without[0].bands.size
    assert original.bands.size == S.reuse_min_bands  # its fingerprints stand in for all it may drop
    for f, alone in zip((original, trimmed), without, strict=True):
        assert np.array_equal(f.bands, alone.bands[: f.bands.size])  # the first bands, numbered as without
    assert brief.bands.size == S.bands and brief.passages.size == 0
    # The trimmed copy keeps the original's lead, and with it the lead's fingerprints: found by its fingerprints
    # alone (no band shared), the original comes to the containment check; one shared fingerprint is not enough.
    shared = np.intersect1d(trimmed.passages, original.passages).size
    assert np.isin(in_lead, trimmed.passages).all()
    assert shared >= max(in_lead.size, S.reuse_min_shared)
    found = best_match(trimmed, [Candidate(id="o", rank=("o",), shared_passages=shared, features=original)], S)
    assert found is not None and found.method is Method.containment and found.matched == "o"
    assert best_match(trimmed, [Candidate(id="o", rank=("o",), shared_passages=1, features=original)], S) is None
