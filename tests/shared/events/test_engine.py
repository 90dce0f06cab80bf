"""The event engine on its own: what it compares and what it verifies."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from shared.events.embedding import Vector, body_vectors, embed, embedding_cosine, opening, pack, unpack
from shared.events.engine import (
    MemoryIndex,
    Rule,
    best_verdict,
    compare,
    cosine,
    featurize,
    key_hash,
    top_candidates,
    word_anchor,
)
from shared.events.settings import EventSettings
from tests.fixtures.events import ARTICLES, published

S = EventSettings()
ENTITIES = {
    "quake_wire": ["organisation:AFAD", "place:Malatya", "place:Turkey", "person:Ali Yerlikaya"],
    "quake_local": ["organisation:AFAD", "place:Malatya", "place:Turkey", "person:Recep Tayyip Erdogan"],
    "quake_follow_up": ["organisation:AFAD", "place:Turkey", "place:Yesilyurt"],
    "quake_much_later": ["organisation:AFAD", "place:Malatya", "place:Turkey", "place:Yesilyurt"],
    "central_bank": ["organisation:Central Bank of the Republic of Turkey", "place:Turkey"],
    "derby": ["person:Galatasaray", "place:Istanbul", "place:Turkey"],
}


def features(name: str, **changes: object):  # type: ignore[no-untyped-def]
    a = ARTICLES[name]
    return featurize(
        title=a["title"],
        body=a["body"],
        language="en",
        entities=ENTITIES[name],
        published_at=changes.get("published_at", published(name)),  # type: ignore[arg-type]
        settings=S,
    )


def test_two_outlets_telling_one_event_are_verified_with_their_evidence() -> None:
    v = compare(features("quake_local"), features("quake_wire"), "quake_wire", S)
    assert v.rule in (Rule.text_and_entity, Rule.strong_text)
    assert v.text_similarity >= S.text_threshold
    assert {"organisation:AFAD", "place:Malatya"} <= set(v.shared)
    assert 3 < v.hours_apart < 4


def test_unrelated_stories_of_the_same_day_sharing_only_the_country_are_not() -> None:
    quake = features("quake_wire")
    for other in ("central_bank", "derby"):
        v = compare(features(other), quake, "quake_wire", S)
        assert v.shared == ("place:Turkey",)
        assert v.rule is None, (other, v)


def test_the_time_window_bounds_an_event() -> None:
    follow_up, much_later = features("quake_follow_up"), features("quake_much_later")
    assert compare(follow_up, features("quake_wire"), "w", S).rule is not None  # two days later
    # Nine days later the text is as close, but the window (3 days) has closed.
    assert compare(much_later, features("quake_wire"), "w", S).text_similarity >= S.text_threshold
    assert compare(much_later, features("quake_wire"), "w", S).rule is None
    moved = features("quake_much_later", published_at=published("quake_wire") + timedelta(days=2))
    assert compare(moved, features("quake_wire"), "w", S).rule is not None


def test_common_words_weigh_nothing_and_word_forms_meet() -> None:
    a = featurize(
        title="The earthquakes", body="", language="en", entities=(), published_at=published("derby"), settings=S
    )
    b = featurize(
        title="An earthquake", body="", language="en", entities=(), published_at=published("derby"), settings=S
    )
    assert set(a.vector) == set(b.vector) == {"earthqu"}
    assert compare(a, b, "b", S).text_similarity > 0.99


def test_index_keys_are_stable_and_shared_by_one_event() -> None:
    assert key_hash("e", "place:Malatya") == key_hash("e", "place:Malatya")
    assert -(2**63) <= key_hash("t", "earthqu") < 2**63
    assert set(features("quake_wire").keys) & set(features("quake_local").keys)


def test_incremental_grouping_in_memory_puts_each_article_where_it_belongs() -> None:
    index = MemoryIndex(S)
    event: dict[str, str] = {}
    feats = {name: features(name) for name in sorted(ENTITIES, key=published)}
    for name, f in feats.items():
        candidates = [(c, feats[str(c)]) for c in top_candidates(index.query(f), S.max_candidates)]
        verdict, _ = best_verdict(f, candidates, S)
        event[name] = event[str(verdict.candidate)] if verdict else name
        index.add(name, f)
    assert event["quake_local"] == event["quake_follow_up"] == event["quake_wire"] == "quake_wire"
    assert event["quake_much_later"] == "quake_much_later"
    assert event["central_bank"] == "central_bank" and event["derby"] == "derby"


def test_figures_are_terms_shared_across_languages() -> None:
    en = featurize(
        title="Death toll rises to 63", body="", language="en", entities=(), published_at=published("derby"), settings=S
    )
    de = featurize(
        title="Zahl der Toten steigt auf 63",
        body="",
        language="de",
        entities=(),
        published_at=published("derby"),
        settings=S,
    )
    assert "#63" in en.vector and "#63" in de.vector
    assert compare(en, de, "de", S).text_similarity > 0


def _in(name: str, language: str):  # type: ignore[no-untyped-def]
    a = ARTICLES[name]
    return featurize(
        title=a["title"], body=a["body"], language=language, entities=(), published_at=published(name), settings=S
    )


def test_one_event_told_in_two_languages_joins_on_its_places_names_and_figures() -> None:
    german, english = _in("quake_de", "de"), features("quake_local")
    v = compare(german, english, "quake_local", S)
    assert v.text_similarity < S.text_threshold  # the words differ: the text alone would not join them
    assert v.rule is Rule.anchors
    assert {"name:afad", "name:yesilyu"} <= set(v.shared)
    assert set(german.keys) & set(english.keys)  # the index finds one from the other


def test_a_story_in_another_language_sharing_only_the_country_and_the_day_stays_apart() -> None:
    derby = _in("derby_de", "de")
    for other in ("quake_wire", "quake_local", "central_bank"):
        assert compare(derby, features(other), other, S).rule is None, other


def test_anchors_read_one_place_and_one_figure_the_same_in_every_language() -> None:
    assert word_anchor("München", "de", S.anchor_place_population) == word_anchor(
        "Munich", "en", S.anchor_place_population
    )
    assert word_anchor("Munich", "en", S.anchor_place_population)[0].startswith("place:")
    assert word_anchor("House", "en", S.anchor_place_population)[1] == 0  # a common word is no name
    assert word_anchor("Yerlikaya", "tr", S.anchor_place_population) == (
        "name:yerlika",
        word_anchor("YERLIKAYA", "en", S.anchor_place_population)[1],
    )
    german, english = _in("quake_de", "de"), features("quake_wire")
    assert "#6.8" in german.anchors and "#6.8" in english.anchors  # "6,8" and "6.8"


def test_anchors_only_decide_between_languages() -> None:
    same = featurize(
        title=ARTICLES["quake_de"]["title"],
        body=ARTICLES["derby_de"]["body"],
        language="de",
        entities=(),
        published_at=published("derby_de"),
        settings=S,
    )
    loose = S.model_copy(update={"anchor_threshold": 0.0, "min_shared_anchors": 1})
    # Two German texts are compared by their words; a shared anchor alone never joins them.
    assert compare(same, _in("derby_de", "de"), "d", loose).rule is not Rule.anchors


def test_country_names_are_read_in_the_article_s_language() -> None:
    chinese = featurize(
        title="德国和西班牙", body="", language="zh", entities=(), published_at=published("derby"), settings=S
    )
    spanish = featurize(
        title="Alemania y España", body="", language="es", entities=(), published_at=published("derby"), settings=S
    )
    english = featurize(
        title="Germany and Spain", body="", language="en", entities=(), published_at=published("derby"), settings=S
    )
    assert {"place:DE", "place:ES"} <= set(chinese.anchors) & set(spanish.anchors) & set(english.anchors)


def test_plain_words_that_name_a_subdivision_or_a_country_somewhere_are_no_place() -> None:
    # "West" and "South" are regions of Cameroon, "Paul" one of Cape Verde: read as places, two unrelated
    # English stories of a day would share a country.
    for word in ("West", "South", "East", "Paul"):
        assert word_anchor(word, "en", S.anchor_place_population) == ("", 0.0)
    # A common word in another language of news is no region either: "Nord Stream" reads as a name.
    assert word_anchor("Nord", "en", S.anchor_place_population)[0] == "name:nord"
    # A rarer region name still says its country; a US state keeps its own gazetteer id.
    assert word_anchor("Hampshire", "en", S.anchor_place_population)[0] == "place:GB"
    assert word_anchor("Texas", "en", S.anchor_place_population)[0] == "place:4736286"
    # Russian "того" ("of that") spells Togo: a stop word of the language is never a country there.
    russian = featurize(
        title="После того как Германия", body="", language="ru", entities=(), published_at=published("derby"),
        settings=S,
    )  # fmt: skip
    assert set(russian.anchors) == {"place:DE"}


def _embedded(name: str, language: str):  # type: ignore[no-untyped-def]
    a = ARTICLES[name]
    return featurize(
        title=a["title"],
        body=a["body"],
        language=language,
        entities=ENTITIES.get(name, ()),
        published_at=published(name),
        settings=S,
        embedding=embed([opening(a["title"], a["body"], S.embedding_words)])[0],
    )


def test_a_report_in_chinese_sharing_two_anchors_joins_on_its_meaning() -> None:
    chinese, wire = _embedded("quake_zh", "zh"), _embedded("quake_wire", "en")
    v = compare(chinese, wire, "quake_wire", S)
    assert v.rule is Rule.embedding
    assert v.embedding_similarity is not None and v.embedding_similarity >= S.embedding_threshold
    assert {"#6.8", "place:TR"} <= set(v.shared)  # the evidence backing the meaning
    # Without the embeddings, the words and the two anchors would not join them.
    assert compare(dataclasses.replace(chinese, embedding=None), wire, "quake_wire", S).rule is None


def test_close_meaning_needs_a_shared_name_place_or_figure_and_unrelated_stories_stay_apart() -> None:
    chinese, wire = _embedded("quake_zh", "zh"), _embedded("quake_wire", "en")
    bare = dataclasses.replace(chinese, anchors={}, entities=frozenset())
    assert compare(bare, wire, "quake_wire", S).rule is None
    rate_zh = _embedded("central_bank_zh", "zh")
    assert compare(rate_zh, wire, "quake_wire", S).rule is None  # same country and day, another happening
    assert compare(rate_zh, _embedded("central_bank", "en"), "central_bank", S).rule is Rule.embedding
    later = dataclasses.replace(chinese, day=wire.day + S.window_days + 1)
    assert compare(later, wire, "quake_wire", S).rule is None


def test_a_stored_embedding_compares_as_the_fresh_one() -> None:
    chinese, wire = _embedded("quake_zh", "zh"), _embedded("quake_wire", "en")
    assert chinese.embedding is not None and wire.embedding is not None
    stored = unpack(pack(chinese.embedding))
    assert len(pack(chinese.embedding)) < 700
    assert abs(float(np.dot(stored, wire.embedding)) - float(np.dot(chinese.embedding, wire.embedding))) < 0.01


def test_moderate_text_and_moderate_meaning_together_join_without_a_shared_name() -> None:
    rate_zh, rate_en = _embedded("central_bank_zh", "zh"), _embedded("central_bank", "en")
    bare = dataclasses.replace(rate_zh, anchors={}, entities=frozenset())
    text = cosine(bare.vector, rate_en.vector)
    # The engine's cosine (in float64): a float32 dot product may land a hair above it and miss the bar.
    meaning = embedding_cosine(bare.embedding, rate_en.embedding)
    assert meaning is not None
    # Only the joint rule may decide: every other rule's bar is out of reach.
    only_joint = S.model_copy(update={"strong_threshold": 1.0, "text_threshold": 1.0, "embedding_threshold": 1.0})
    at_the_bars = only_joint.model_copy(update={"joint_text_threshold": text, "joint_embedding_threshold": meaning})
    v = compare(bare, rate_en, "central_bank", at_the_bars)
    assert v.rule is Rule.text_and_embedding and v.score == pytest.approx(meaning)
    # Each signal alone falls short: either bar raised past its score keeps them apart.
    above_text = at_the_bars.model_copy(update={"joint_text_threshold": text + 0.01})
    above_meaning = at_the_bars.model_copy(update={"joint_embedding_threshold": meaning + 0.01})
    assert compare(bare, rate_en, "central_bank", above_text).rule is None
    assert compare(bare, rate_en, "central_bank", above_meaning).rule is None


def test_the_embedding_reads_a_text_up_to_its_token_cap() -> None:
    a = ARTICLES["quake_wire"]
    text = opening(a["title"], a["body"], 60)
    whole, capped, generous = embed([text]), embed([text], max_tokens=12), embed([text], 10_000)
    assert np.allclose(generous, whole, atol=1e-6)  # under the cap: the text as it is
    assert not np.allclose(capped, whole, atol=1e-3)  # over it: only the opening pieces
    assert float(np.dot(capped[0], whole[0])) > 0.5  # still the same story's opening


def test_shared_anchor_names_back_a_moderate_text_match_when_the_taggers_found_none() -> None:
    # A report the taggers read no names in (they know English best): its anchors name the agency and the town.
    wire, local = (dataclasses.replace(features(n), entities=frozenset()) for n in ("quake_wire", "quake_local"))
    moderate = S.model_copy(update={"strong_threshold": 0.99})  # only the text+entity rule can join them
    v = compare(wire, local, "quake_local", moderate)
    assert v.rule is Rule.text_and_entity
    assert {"name:afad", "name:yesilyu"} <= set(v.shared)  # the evidence, kept with the decision
    # One shared country is not a name: a moderate text match with only that in common stays apart.
    country_only = {"place:TR": 1.0}
    apart = compare(
        dataclasses.replace(wire, anchors=country_only),
        dataclasses.replace(local, anchors=country_only),
        "quake_local",
        moderate,
    )
    assert apart.rule is None


def test_the_batched_scoring_picks_what_comparing_each_candidate_picks() -> None:
    names = sorted(ENTITIES, key=published)
    feats = {n: dataclasses.replace(features(n), embedding=_embedded(n, "en").embedding) for n in names}
    for name, f in feats.items():
        others = [(c, o) for c, o in feats.items() if c != name]
        best, scored = best_verdict(f, others, S)
        verdicts = [v for c, o in others if (v := compare(f, o, c, S)).rule is not None]
        expected = max(verdicts, key=lambda v: (v.score, [-b for b in str(v.candidate).encode()]), default=None)
        assert scored == len(others)
        # The same candidate by the same rule, the scores equal but for the last bits of a sum's order.
        assert (best and best.candidate, best and best.rule) == (
            expected and expected.candidate,
            expected and expected.rule,
        )
        if best is not None and expected is not None:
            assert best.score == pytest.approx(expected.score, abs=1e-9)


def test_the_top_candidates_share_the_most_keys_and_ties_go_to_the_earliest_id() -> None:
    ids = [uuid.UUID(int=n) for n in range(1, 8)]
    shared = Counter({ids[6]: 3, ids[4]: 1, ids[2]: 1, ids[5]: 2, ids[0]: 1, ids[1]: 2, ids[3]: 1})
    assert top_candidates(shared, 4) == [ids[6], ids[1], ids[5], ids[0]]
    assert top_candidates(Counter({i.int: n for i, n in shared.items()}), 4) == [
        i.int for i in top_candidates(shared, 4)
    ]
    assert top_candidates(shared, 100) == [ids[6], ids[1], ids[5], ids[0], ids[2], ids[3], ids[4]]


def test_the_memory_index_keeps_the_newest_ids_of_a_key_like_the_stored_rows() -> None:
    small = S.model_copy(update={"bucket_cap": 3})
    index = MemoryIndex(small)
    f = features("quake_wire")
    for n in range(5):
        index.add(f"article-{n}", f)
    assert set(index.query(f)) == {"article-2", "article-3", "article-4"}


def _bodies(names: list[str]) -> dict[str, Vector | None]:
    return dict(
        zip(
            names,
            body_vectors([ARTICLES[n]["body"] for n in names], S.second_look_sentences, S.second_look_tokens),
            strict=True,
        )
    )


def test_a_report_in_other_words_joins_on_a_second_look_at_the_bodies_and_a_same_day_story_does_not() -> None:
    french, english, strike = _embedded("ferry_fr", "fr"), _embedded("ferry_en", "en"), _embedded("strike_fr", "fr")
    vectors = _bodies(["ferry_fr", "ferry_en", "strike_fr"])

    def bodies_of(item: str):  # type: ignore[no-untyped-def]
        def look(candidates):  # type: ignore[no-untyped-def]
            return vectors[item], [vectors[str(c)] for c in candidates]

        return look

    # No name, place or figure in common, and the words of two languages: no other rule joins them.
    assert compare(french, english, "ferry_en", S).rule is None
    assert best_verdict(french, [("ferry_en", english)], S)[0] is None
    v, _ = best_verdict(french, [("ferry_en", english)], S, bodies_of("ferry_fr"))
    assert v is not None and v.rule is Rule.second_look and v.candidate == "ferry_en"
    assert v.embedding_similarity is not None and v.embedding_similarity >= S.second_look_floor
    assert v.body_similarity is not None and v.body_similarity >= S.second_look_threshold
    assert v.score == v.body_similarity
    # The teachers' strike of the same day and language stays apart.
    assert best_verdict(strike, [("ferry_fr", french)], S, bodies_of("strike_fr"))[0] is None
    # Either bar raised past its score keeps the ferry reports apart too.
    meaning, body = v.embedding_similarity, v.body_similarity
    for raised in ({"second_look_floor": meaning + 0.01}, {"second_look_threshold": body + 0.01}):
        assert (
            best_verdict(french, [("ferry_en", english)], S.model_copy(update=raised), bodies_of("ferry_fr"))[0] is None
        )
    later = dataclasses.replace(english, day=french.day + S.window_days + 1)
    assert best_verdict(french, [("ferry_en", later)], S, bodies_of("ferry_fr"))[0] is None


def test_the_second_look_reads_only_the_short_list_and_only_when_no_rule_joined() -> None:
    french, english, strike = _embedded("ferry_fr", "fr"), _embedded("ferry_en", "en"), _embedded("strike_fr", "fr")
    vectors = _bodies(["ferry_fr", "ferry_en", "strike_fr"])
    asked: list[list[object]] = []

    def look(candidates):  # type: ignore[no-untyped-def]
        asked.append(list(candidates))
        return vectors["ferry_fr"], [vectors[str(c)] for c in candidates]

    one = S.model_copy(update={"second_look_candidates": 1, "second_look_floor": 0.0})
    v, scored = best_verdict(french, [("strike_fr", strike), ("ferry_en", english)], one, look)
    assert v is not None and v.candidate == "ferry_en" and scored == 2
    assert asked == [["ferry_en"]]  # the closest in meaning only, one embedding of bodies for the article
    # A candidate some rule verifies: no second look is asked for.
    asked.clear()
    wire, local = _embedded("quake_wire", "en"), _embedded("quake_local", "en")
    v, _ = best_verdict(local, [("quake_wire", wire), ("ferry_en", english)], S, look)
    assert v is not None and v.rule is not Rule.second_look and asked == []
    # Nothing close enough in meaning: nothing is asked either.
    assert best_verdict(strike, [("ferry_en", english)], S, look)[0] is None and asked == []
