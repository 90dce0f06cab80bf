"""The issue's definition of done for the engines: the seed article, tagged."""

from __future__ import annotations

from shared.tagging.base import Document, Tag
from shared.tagging.pipeline import TaggingPipeline


def _by_kind(tags: list[Tag], kind: str) -> dict[str, Tag]:
    return {t.value: t for t in tags if t.kind == kind}


def test_seed_article_tags(tagging: TaggingPipeline, seed: Document) -> None:
    [tags] = tagging.tag([seed])

    assert set(_by_kind(tags, "language")) == {"en"}

    places = _by_kind(tags, "place")
    expected = {"Damascus": "SY", "Aleppo": "SY", "Iraq": "IQ", "Lebanon": "LB", "Iran": "IR", "Turkey": "TR"}
    for name, country in expected.items():
        assert name in places, f"{name} missing from {sorted(places)}"
        attrs = places[name].attrs
        assert attrs["country_code"] == country
        assert isinstance(attrs["geonames_id"], int)
        assert -90 <= attrs["lat"] <= 90 and -180 <= attrs["lon"] <= 180
    assert places["Damascus"].attrs["geonames_id"] == 170654  # the Syrian capital, not Damascus, Maryland
    assert abs(places["Damascus"].attrs["lat"] - 33.51) < 0.1 and abs(places["Damascus"].attrs["lon"] - 36.29) < 0.1
    assert places["Lebanon"].mentions == 1  # from "Lebanese" alone

    assert "Bashar al-Assad" in _by_kind(tags, "person")
    assert _by_kind(tags, "person")["Bashar al-Assad"].mentions >= 4  # "Assad" mentions count towards him
    assert {"Hezbollah", "Iranian Revolutionary Guards", "UN", "Reuters"} <= set(_by_kind(tags, "organisation"))
    assert "Emboldened Assad" not in _by_kind(tags, "organisation")  # a sentence opener glued to a surname
    assert not {"Syrian", "Lebanese", "Iraqi"} & set(_by_kind(tags, "misc"))  # nationalities became places

    topics = _by_kind(tags, "topic")
    assert topics["16000000"].name == "conflict, war and peace"
    assert topics["11000000"].name == "politics"
    assert topics["16000000"].score > topics["11000000"].score

    assert _by_kind(tags, "tone").keys() == {"negative"}
    keywords = _by_kind(tags, "keyword")
    assert "aleppo" in keywords and keywords["aleppo"].name == "Aleppo"

    for tag in tags:
        assert tag.tagger and tag.tagger_version
        assert 0 <= tag.score <= 1 or tag.kind == "tone"
    assert len({t.key for t in tags}) == len(tags)
