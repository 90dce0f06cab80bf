"""Places down to towns (GeoNames cities1000): a town resolves beside its country, not from a word that
merely shares its name; groups are not people."""

from __future__ import annotations

from shared.tagging.base import Document
from shared.tagging.gazetteer import TOWN_POPULATION, gazetteer
from shared.tagging.taggers import Taggers


def _places(tagging: Taggers, title: str, body: str) -> dict[str, dict]:
    doc = Document(id=title, title=title, body=body, language="en")
    return {t.value: t.attrs for t in tagging.tag([doc])[0] if t.kind == "place"}


def test_the_gazetteer_knows_towns_of_a_thousand_people_with_latin_alternate_names() -> None:
    gaz = gazetteer()
    kinsale = [p for p in gaz.lookup("Kinsale") if p.country_code == "IE"]
    assert kinsale and kinsale[0].population < TOWN_POPULATION and kinsale[0].town
    assert gaz.lookup("kitzbuhel")  # accents folded: "Kitzbühel"


def test_a_town_beside_its_country_gets_coordinates(tagging: Taggers) -> None:
    places = _places(
        tagging,
        "Storm damages harbour in Kinsale",
        "High winds tore boats from their moorings in Kinsale, in the south of Ireland, on Sunday night. "
        "The Irish coastguard said nobody was hurt.",
    )
    kinsale = places["Kinsale"]
    assert kinsale["country_code"] == "IE" and kinsale["geonames_id"] is not None
    assert 51 < kinsale["lat"] < 52 and -9 < kinsale["lon"] < -8
    assert places["Ireland"]["feature"] == "country"


def test_a_town_far_from_its_country_stays_unresolved(tagging: Taggers) -> None:
    places = _places(
        tagging,
        "Festival returns to Kinsale",
        "Organisers said the food festival in Kinsale would return next year with more stalls.",
    )
    assert "Kinsale" not in places or places["Kinsale"]["geonames_id"] is None


def test_words_that_are_town_names_are_not_places_in_ordinary_use(tagging: Taggers) -> None:
    places = _places(
        tagging,
        "Nice try, say critics of the reading scheme",
        "Teachers said the mobile library and a warm bath at bedtime did more for reading than the new scheme. "
        "Nice words, they said, but no money.",
    )
    assert not places, places


def test_a_city_named_like_a_word_is_still_found_when_the_text_means_it(tagging: Taggers) -> None:
    places = _places(
        tagging,
        "Flooding closes roads in Reading",
        "The Thames burst its banks in Reading, west of London, and police closed two bridges in England's "
        "Berkshire county.",
    )
    assert places["Reading"]["country_code"] == "GB"


def test_a_group_named_before_its_noun_is_not_a_person(tagging: Taggers) -> None:
    doc = Document(
        id="group",
        title="Leader courts minority voters",
        body="The president, who belongs to the Druze community, met leaders of the Alawite sect and the "
        "Yazidi minority on Friday.",
        language="en",
    )
    people = {t.value for t in tagging.tag([doc])[0] if t.kind == "person"}
    assert not people & {"Alawite", "Druze", "Yazidi"}
