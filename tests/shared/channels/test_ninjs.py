"""IPTC ninjs 1.x and 2.x items map to article payloads."""

from __future__ import annotations

import pytest

from shared.channels.errors import ChannelError
from shared.channels.ninjs import is_ninjs, ninjs_article
from shared.schemas.articles import ArticleIn
from tests.shared.channels.samples import NINJS_1, NINJS_2


def test_ninjs_2_maps_headlines_bodies_and_by() -> None:
    article = ninjs_article(NINJS_2, source="dpa")
    assert article["title"] == "Elfmeter in der Nachspielzeit entscheidet das Derby"
    assert (
        article["body"] == "Für den Trainer der Gäste war der Pfiff ein Skandal.\n\nDer Verein will Einspruch einlegen."
    )
    assert article["summary"] == "War der Pfiff von Schiedsrichter Becker richtig?"
    assert article["external_id"] == NINJS_2["uri"]
    assert article["published_at"] == "2024-03-09T17:40:00+01:00"
    assert article["language"] == "de"
    assert article["authors"] == ["Katrin Vogel"]
    assert article["credit"] == "nordpresse"
    assert article["metadata"]["subjects"] == ["Fußball"]
    assert article["metadata"]["urgency"] == 4
    ArticleIn.model_validate(article)


def test_ninjs_1_maps_headline_and_body_text() -> None:
    article = ninjs_article(NINJS_1, source="wire")
    assert article["title"] == "Storm hits the coast"
    assert article["body"] == "The storm reached the coast overnight.\n\nThousands lost power."
    assert article["summary"] == "A storm reached the coast."
    assert article["section"] == "WEATHER-STORM"
    assert article["authors"] == ["Jane Doe"]
    ArticleIn.model_validate(article)


def test_ninjs_is_told_apart_from_tidings_json() -> None:
    assert is_ninjs(NINJS_1) and is_ninjs(NINJS_2)
    assert not is_ninjs({"title": "t", "body": "b"})
    assert not is_ninjs({"uri": "x", "title": "t", "body": "b"})


@pytest.mark.parametrize(
    ("change", "field"),
    [({"headline": ""}, "headline"), ({"body_text": None}, "body_text"), ({"uri": ""}, "uri")],
)
def test_an_incomplete_item_names_the_missing_field(change: dict, field: str) -> None:
    with pytest.raises(ChannelError) as caught:
        ninjs_article({**NINJS_1, **change}, source="wire")
    assert caught.value.field == field
