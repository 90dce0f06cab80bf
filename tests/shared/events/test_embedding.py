"""The sentence embedding of an article's opening, as the topic tagger and the events stage share it."""

from __future__ import annotations

import numpy as np

from shared.events.embedding import body_vectors, embed, sentences, shared_in_batch

TEXTS = [
    "Floods close the main road into the valley after two days of rain",
    "Die Zentralbank hebt den Leitzins um einen Viertelpunkt an",
    "The club signs a striker from the league champions on a three-year deal",
]


def test_a_batch_shares_vectors_in_the_order_asked() -> None:
    alone = embed(TEXTS, 96)
    with shared_in_batch():
        first = embed(TEXTS[:2], 96)
        # Asked again in another order, with a repeat and a new text: each row is its own text's vector.
        again = embed([TEXTS[2], TEXTS[0], TEXTS[0], TEXTS[1]], 96)
    assert np.allclose(first, alone[:2], atol=1e-5)
    assert np.allclose(again, alone[[2, 0, 0, 1]], atol=1e-5)
    assert np.array_equal(again[1], first[0])  # the vector the batch already had, not a second encoding


def test_the_token_cap_is_part_of_what_is_shared() -> None:
    long_text = " ".join(["The council votes on the harbour plan and the new ferry timetable"] * 12)
    with shared_in_batch():
        capped = embed([long_text], 8)
        whole = embed([long_text], 0)
    assert not np.allclose(capped, whole, atol=1e-3)
    assert np.allclose(whole, embed([long_text], 0), atol=1e-5)


def test_the_body_s_first_sentences_are_read_without_bylines_or_initials() -> None:
    body = (
        "By staff.\n\nThe U.S. envoy arrived on Monday with a 3.5 billion dollar offer. Talks began at once, "
        "officials said! Were they over by noon, people asked? Nobody said.\n\n地震发生在清晨的山区小镇。救援队连夜赶到现场。"
    )
    assert sentences(body, 10) == [
        "The U.S. envoy arrived on Monday with a 3.5 billion dollar offer.",  # no end at an initial or a decimal
        "Talks began at once, officials said!",
        "Were they over by noon, people asked?",
        "地震发生在清晨的山区小镇。",  # the ideographic full stop needs no space
        "救援队连夜赶到现场。",
    ]
    assert sentences(body, 2) == sentences(body, 10)[:2]


def test_a_body_vector_is_the_mean_of_its_sentences_and_none_without_one() -> None:
    body = "Floods close the main road into the valley. The council opens a shelter in the school hall."
    vector, empty = body_vectors([body, "By staff."], 8, 64)
    assert empty is None
    parts = embed(sentences(body, 8), 64)
    mean = parts.mean(axis=0)
    assert vector is not None and np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
    # The first sentences only: a third one beyond the count changes nothing.
    assert np.allclose(body_vectors([body + " A third sentence that is not read."], 2, 64)[0], vector, atol=1e-5)
