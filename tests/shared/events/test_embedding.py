"""The sentence embedding of an article's opening, as the topic tagger and the events stage share it."""

from __future__ import annotations

import numpy as np

from shared.events.embedding import embed, shared_in_batch

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
