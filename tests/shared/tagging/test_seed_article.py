"""The engines' definition of done: the newsroom article (a war story naming people, organisations, countries
and cities), tagged. Every expectation is something the article's text says."""

from __future__ import annotations

from shared.tagging.base import Document, Tag
from shared.tagging.taggers import Taggers


def _by_kind(tags: list[Tag], kind: str) -> dict[str, Tag]:
    return {t.value: t for t in tags if t.kind == kind}


def test_seed_article_tags(tagging: Taggers, seed: Document) -> None:
    [tags] = tagging.tag([seed])

    assert set(_by_kind(tags, "language")) == {"en"}

    places = _by_kind(tags, "place")
    expected = {
        "Omdurman": "SD", "Khartoum": "SD", "Port Sudan": "SD", "Sudan": "SD", "Cairo": "EG", "Egypt": "EG",
        "Jeddah": "SA", "Saudi Arabia": "SA", "Ethiopia": "ET", "Chad": "TD", "United States": "US",
    }  # fmt: skip
    for name, country in expected.items():
        assert name in places, f"{name} missing from {sorted(places)}"
        attrs = places[name].attrs
        assert attrs["country_code"] == country
        assert isinstance(attrs["geonames_id"], int)
        assert -90 <= attrs["lat"] <= 90 and -180 <= attrs["lon"] <= 180
    assert places["Cairo"].attrs["geonames_id"] == 360630  # the Egyptian capital, not Cairo, Illinois
    assert abs(places["Cairo"].attrs["lat"] - 30.06) < 0.1 and abs(places["Cairo"].attrs["lon"] - 31.25) < 0.1
    assert places["Chad"].mentions == 1  # from "Chadian" alone
    assert places["Omdurman"].score == max(p.score for p in places.values()), "the story's city is named most"

    people = _by_kind(tags, "person")
    assert {"Hassan Mirghani", "Tarek Bashir", "Amina Suleiman", "Fatima Osman"} <= set(people)
    assert people["Hassan Mirghani"].mentions >= 3  # "Mirghani said", "Mirghani accused" count towards him
    assert "Mirghani" not in people and "Bashir" not in people, "a surname alone joins the full name"
    organisations = set(_by_kind(tags, "organisation"))
    assert {"Rapid Support Forces", "African Union", "World Food Programme", "United Nations"} <= organisations
    assert "International Committee of the Red Cross" in organisations
    assert not {"Chadian", "Egyptian", "Sudanese"} & set(_by_kind(tags, "misc"))  # nationalities became places

    topics = _by_kind(tags, "topic")
    assert topics["16000000"].name == "conflict, war and peace"
    assert topics["11000000"].name == "politics"
    # A war story with a political side: both subjects clear the model's threshold.
    assert min(topics["16000000"].score, topics["11000000"].score) >= 0.5

    assert _by_kind(tags, "tone").keys() == {"negative"}
    keywords = _by_kind(tags, "keyword")
    assert "omdurman" in keywords and keywords["omdurman"].name == "Omdurman"

    for tag in tags:
        assert tag.tagger and tag.tagger_version
        assert 0 <= tag.score <= 1 or tag.kind == "tone"
    assert len({t.key for t in tags}) == len(tags)
