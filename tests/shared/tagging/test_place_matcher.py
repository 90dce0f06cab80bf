"""The fast profile: places found by gazetteer matching, no entity recogniser, the full profile's tag shape."""

from __future__ import annotations

import pytest

from shared.tagging.base import Document
from shared.tagging.gazetteer import gazetteer
from shared.tagging.place_matcher import PlaceMatcher
from shared.tagging.places import PlaceTagger
from shared.tagging.settings import TaggingSettings
from shared.tagging.taggers import Taggers


@pytest.fixture(scope="module")
def fast() -> Taggers:
    return Taggers(TaggingSettings(profile="fast"))


def _places(tagger: PlaceTagger, title: str, body: str) -> dict[str, dict]:
    [tags] = tagger.tag([Document(id=title, title=title, body=body, language="en")])
    return {t.value: t.attrs for t in tags}


def test_the_fast_profile_tags_places_without_the_recogniser(fast: Taggers, seed: Document, tagging: Taggers) -> None:
    assert fast.recognizer is None
    assert "entities" not in fast.versions()
    [tags] = fast.tag([seed])
    assert {"person", "organisation", "misc"}.isdisjoint({t.kind for t in tags})
    places = {t.value: t for t in tags if t.kind == "place"}
    for name in ("Omdurman", "Khartoum", "Cairo", "Egypt", "Chad", "Saudi Arabia"):
        attrs = places[name].attrs
        assert attrs["country_code"] and attrs["geonames_id"] and attrs["lat"] is not None
        for m in attrs["mentions"]:
            field = {"title": seed.title, "summary": seed.summary, "body": seed.body, "caption": seed.caption}
            assert field[m["field"]][m["start"] : m["end"]] == m["text"]
    assert places["Khartoum"].attrs["country_code"] == "SD"
    assert places["Omdurman"].tagger_version.endswith("/match-1")
    [full] = tagging.tag([seed_copy(seed)])
    full_places = {t.value for t in full if t.kind == "place" and t.attrs["geonames_id"]}
    # Every gazetteer place the recogniser's profile finds in the seed article, the fast one finds too.
    assert full_places <= set(places)


def seed_copy(doc: Document) -> Document:
    return Document(
        id=doc.id, title=doc.title, body=doc.body, summary=doc.summary, caption=doc.caption, language=doc.language
    )


def test_context_decides_between_places_of_one_name() -> None:
    tagger = PlaceTagger(matcher=PlaceMatcher(gazetteer()))
    texas = _places(tagger, "Storm damage", "The storm hit Paris on Monday. Officials in Texas counted the damage.")
    assert texas["Paris"]["country_code"] == "US"
    france = _places(tagger, "Strikes", "Unions marched in Paris on Monday as France faced a fourth day of strikes.")
    assert france["Paris"]["country_code"] == "FR"


def test_names_inside_other_names_and_common_words_are_not_places() -> None:
    tagger = PlaceTagger(matcher=PlaceMatcher(gazetteer()))
    found = _places(
        tagger,
        "Cup tie",
        "Manchester United won, the New York Times reported. Reading the report, fans in Lisbon "
        "cheered. Moody's Investors Service said in March that a man was hired. Wilson said prices rose.",
    )
    assert "Lisbon" in found and "Manchester" not in found and not any("New York" in name for name in found)
    assert {"Reading", "Man", "Moody", "Wilson", "March"}.isdisjoint(found)


def test_a_country_at_the_start_of_a_longer_name_is_still_the_country() -> None:
    tagger = PlaceTagger(matcher=PlaceMatcher(gazetteer()))
    found = _places(tagger, "Visit", "U.S. President Joe Biden met leaders in Germany.")
    assert found["United States"]["country_code"] == "US" and found["Germany"]["country_code"] == "DE"


def test_which_profile_finds_places_how() -> None:
    assert TaggingSettings(profile="fast").places_by_matching
    assert TaggingSettings(enabled=("language", "places")).places_by_matching
    assert not TaggingSettings().places_by_matching
    with pytest.raises(ValueError, match="fast tagging profile"):
        Taggers(TaggingSettings(profile="fast", enabled=("entities", "places")))
