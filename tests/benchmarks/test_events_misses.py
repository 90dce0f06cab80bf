"""The events benchmark's breakdown of lost same-event pairs: a pair the index never handed the scoring is
counted apart from one the rules turned down, on articles written for the tests."""

from __future__ import annotations

from benchmarks.events import Bodies, Pair, Text, grouped_rates, miss_breakdown
from shared.events.embedding import embed, opening
from shared.events.engine import EventFeatures, featurize
from shared.events.settings import EventSettings
from tests.fixtures.events import ARTICLES, published

ENTITIES = {
    "quake_wire": ["organisation:AFAD", "place:Malatya", "place:Turkey"],
    "quake_local": ["organisation:AFAD", "place:Malatya", "place:Turkey"],
    "derby": ["person:Galatasaray", "place:Istanbul", "place:Turkey"],
}


def _features(s: EventSettings) -> dict[str, EventFeatures]:
    return {
        name: featurize(
            title=ARTICLES[name]["title"],
            body=ARTICLES[name]["body"],
            language="en",
            entities=entities,
            published_at=published("quake_wire"),
            settings=s,
        )
        for name, entities in ENTITIES.items()
    }


# Two reports of the earthquake, and a pair labelled one event that shares only the country.
PAIRS = [Pair("quake_wire", "quake_local", 1.0, "en"), Pair("quake_wire", "derby", 1.0, "en")]
ORDER = ["quake_wire", "quake_local", "derby"]


def test_a_pair_the_rules_turn_down_is_lost_to_scoring_not_retrieval() -> None:
    s = EventSettings()
    out = miss_breakdown(PAIRS, ORDER, _features(s), s)
    assert out["pairs"] == 2
    assert out["retrieved_verified"] == 1  # the two earthquake reports
    assert out["retrieved_not_verified"] == 1  # found through the shared country, refused by the rules
    assert out["same_event"] == 1
    assert out.get("not_retrieved", 0) == 0


def test_a_pair_without_a_shared_index_key_is_lost_to_retrieval_even_when_the_rules_accept_it() -> None:
    s = EventSettings(salient_terms=0, max_entities=0, anchor_keys=0, embedding_bands=0)
    out = miss_breakdown(PAIRS[:1], ORDER, _features(s), s)
    assert out["not_retrieved_verified"] == 1
    assert out["lost_to_retrieval_same_event"] == 0
    assert out["same_event"] == 0


def test_a_pair_only_the_second_look_verifies_counts_as_verified_with_the_bodies_and_lost_without() -> None:
    s = EventSettings()
    langs = {"ferry_en": "en", "ferry_fr": "fr"}
    texts = {n: Text(n, lang, ARTICLES[n]["title"], ARTICLES[n]["body"]) for n, lang in langs.items()}
    feats = {
        n: featurize(
            title=t.title,
            body=t.body,
            language=t.language,
            entities=(),
            published_at=published(n),
            settings=s,
            embedding=embed([opening(t.title, t.body, s.embedding_words)], s.embedding_tokens)[0],
        )
        for n, t in texts.items()
    }
    pairs, order = [Pair("ferry_en", "ferry_fr", 1.0, "cross-language")], ["ferry_en", "ferry_fr"]
    bodies = Bodies(texts, s)
    assert miss_breakdown(pairs, order, feats, s, bodies)["verified"] == 1
    assert set(bodies) == {"ferry_en", "ferry_fr"}  # embedded when the pair asked
    assert miss_breakdown(pairs, order, feats, s)["not_verified"] == 1


def test_grouped_pair_rates_read_the_events_the_grouping_made() -> None:
    pairs = [*PAIRS, Pair("quake_local", "derby", 4.0, "en")]
    # The two earthquake reports in one event, the derby alone: one of two same-event pairs together, and the
    # unrelated pair apart.
    out = grouped_rates(pairs, {"quake_wire": "e1", "quake_local": "e1", "derby": "e2"})
    assert out == {"same_event_together": 0.5, "unrelated_together": 0.0, "same_event_pairs": 2, "unrelated_pairs": 1}
    # Joined through a third article, an unrelated pair counts as together.
    chained = grouped_rates(pairs, {"quake_wire": "e1", "quake_local": "e1", "derby": "e1"})
    assert chained["unrelated_together"] == 1.0
