"""Each tagger on its own: language, entities, places, topics, keywords, tone, rules; and the pipeline's
handling of other languages and of a failing tagger."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shared.tagging.base import Document, Mention, Tag
from shared.tagging.entities import EntityTagger, canonical_names, clean_name
from shared.tagging.gazetteer import gazetteer
from shared.tagging.keywords import KeywordTagger
from shared.tagging.language import LanguageTagger, settle_language
from shared.tagging.ner import EntityRecognizer, harmonise
from shared.tagging.places import PlaceTagger
from shared.tagging.rules import Rule, RuleTagger
from shared.tagging.settings import TaggingSettings
from shared.tagging.taggers import Taggers, _run
from shared.tagging.tone import ToneTagger
from shared.tagging.topics import TopicTagger, best_subject


def doc(title: str, body: str, language: str | None = "en", **kw: str) -> Document:
    return Document(id=title, title=title, body=body, language=language, **kw)  # type: ignore[arg-type]


def values(tags: Sequence[Tag], kind: str) -> set[str]:
    return {t.value for t in tags if t.kind == kind}


def test_the_language_tagger_reports_the_decided_language() -> None:
    tagger = LanguageTagger()
    french = doc("Les grèves continuent", "Les syndicats appellent à une nouvelle journée de grève nationale.", None)
    declared = doc("Kurz", "Ein Text.", "de")
    empty = doc("", "", None)
    undecided = doc("Les grèves continuent", "Les syndicats appellent à une nouvelle journée de grève.", None)
    settle_language([french, declared, empty])
    [fr], [de], none, [] = tagger.tag([french, declared, empty, undecided])
    assert (fr.value, fr.name) == ("fr", "French") and fr.score > 0.5
    assert de.value == "de"
    assert none == []
    assert undecided.language is None, "a tagger never decides the language itself"


def test_clean_and_canonical_names() -> None:
    assert clean_name("the Assad’s") == "Assad"
    assert clean_name(" Reuters, ") == "Reuters"
    people = canonical_names({"Bashar al-Assad": 1, "Assad": 3, "Obama": 1}, "PER")  # type: ignore[arg-type]
    assert people == {"Bashar al-Assad": "Bashar al-Assad", "Assad": "Bashar al-Assad", "Obama": "Obama"}
    orgs = canonical_names({"United Nations": 1, "UN": 2}, "ORG")  # type: ignore[arg-type]
    assert orgs["UN"] == "United Nations"


def test_harmonise_gives_one_class_per_name() -> None:
    mentions = [Mention("Hejeira", "LOC", "GPE", 0, 7), Mention("Hejeira", "PER", "PERSON", 20, 27)]
    assert {m.label for m in harmonise(mentions)} == {"LOC"}


def test_entity_tagger_counts_and_scores() -> None:
    d = doc(
        "Merkel meets Macron in Berlin",
        "German Chancellor Angela Merkel met French President Emmanuel Macron at the European Commission. "
        "Merkel said the European Commission would act. Macron agreed with Merkel.",
    )
    EntityRecognizer().annotate([d])
    tags = EntityTagger().tag([d])[0]
    people = {t.value: t for t in tags if t.kind == "person"}
    assert people["Angela Merkel"].mentions == 3
    assert people["Angela Merkel"].score == 1.0
    assert "Emmanuel Macron" in people
    assert "European Commission" in values(tags, "organisation")
    assert all(t.tagger == "entities" and t.tagger_version.endswith("3.8.0") for t in tags)


def test_entity_tagger_skips_other_languages() -> None:
    d = doc("Merkel trifft Macron", "Bundeskanzlerin Angela Merkel traf Emmanuel Macron in Berlin.", "de")
    EntityRecognizer().annotate([d])
    assert d.mentions == []
    assert EntityTagger().tag([d]) == [[]]


def _places(text: str, title: str = "News") -> dict[str, Tag]:
    d = doc(title, text)
    EntityRecognizer().annotate([d])
    return {t.value: t for t in PlaceTagger().tag([d])[0]}


def test_demonyms_name_countries() -> None:
    places = _places("Lebanese and Syrian officials met Iraqi and South Korean envoys.")
    assert {"Lebanon", "Syria", "Iraq", "South Korea"} <= set(places)
    assert places["Lebanon"].attrs["country_code"] == "LB"


def test_context_disambiguates_places() -> None:
    syria = _places("Fighting in Damascus and Homs, Syria, continued on Tuesday.")
    assert syria["Damascus"].attrs["country_code"] == "SY"
    texas = _places(
        "Paris, a small town in Lamar County, Texas, United States, lies north of Dallas. "
        "Paris has a population of about 25,000; residents of Paris drive to Dallas."
    )
    assert texas["Paris"].attrs["country_code"] == "US"
    france = _places("The summit in Paris brought leaders from across Europe.")
    assert france["Paris"].attrs["country_code"] == "FR"


def test_countries_win_over_towns_of_the_same_name() -> None:
    places = _places("Troops moved towards the border with Lebanon and Jordan.")
    assert places["Lebanon"].attrs["feature"] == "country"
    assert places["Lebanon"].attrs["geonames_id"] == gazetteer().countries["LB"].geonames_id


def test_unknown_places_stay_without_coordinates() -> None:
    places = _places("Government forces recaptured the town of Sbeineh, near Hejeira, south of Damascus.")
    unknown = [t for t in places.values() if t.attrs["geonames_id"] is None]
    assert unknown and all(t.attrs["lat"] is None for t in unknown)


@pytest.mark.parametrize(
    ("title", "body", "code"),
    [
        (
            "Striker's late goal wins the cup final",
            "The striker scored in the 89th minute as the home team beat their rivals 2-1 in the cup final. "
            "The coach praised his players and the fans after the match; the league season ends next week.",
            "15000000",
        ),
        (
            "Shares fall as profits slide",
            "Shares in the retailer fell 8% after it reported lower annual profits and warned that sales would "
            "weaken. Investors and analysts expect the central bank to cut interest rates as inflation eases.",
            "04000000",
        ),
        (
            "New smartphone chip speeds up downloads",
            "The software firm unveiled a processor for mobile phones that lets users download video faster "
            "over broadband and wireless networks, and said hackers could not break its encryption.",
            "13000000",
        ),
        (
            "Film wins best picture at the Oscars",
            "The director and the actress thanked the cast as the film took the Oscar for best picture; the "
            "album of its soundtrack topped the chart and the singer begins a concert tour in May.",
            "01000000",
        ),
        (
            "Heatwave brings record temperatures",
            "Forecasters said the heatwave would continue with temperatures above 40C, little rainfall "
            "and strong winds; storms are expected at the weekend, the Met Office said.",
            "17000000",
        ),
    ],
)
def test_topics(title: str, body: str, code: str) -> None:
    d = doc(title, body)
    assert best_subject(d) == code
    [top, *_] = TopicTagger().tag([d])[0]
    assert top.value == code and top.score > 0


def test_topics_need_evidence() -> None:
    assert TopicTagger().tag([doc("Hello", "A short note.")]) == [[]]


def test_keywords() -> None:
    d = doc(
        "Electric cars sell out",
        "Electric cars sold out in Norway this year. Dealers say electric cars now outsell diesel cars, and "
        "charging stations are being built along every motorway. Charging stations remain scarce in the north.",
    )
    tags = KeywordTagger(limit=5).tag([d])[0]
    assert tags[0].score == 1.0 and len(tags) <= 5
    assert "electric cars" in values(tags, "keyword")
    assert "charging stations" in values(tags, "keyword")
    assert all(t.value == t.value.lower() for t in tags)


def test_keywords_in_other_languages_and_not_in_unknown_ones() -> None:
    german = doc(
        "Die Bahn streikt",
        "Der Streik bei der Bahn legt den Verkehr lahm. Die Gewerkschaft ruft zum Streik auf, die Bahn verhandelt.",
        "de",
    )
    found = values(KeywordTagger().tag([german])[0], "keyword")
    assert "streik" in found and any("bahn" in v.split() for v in found)
    assert KeywordTagger().tag([doc("x", "y z", "xx")]) == [[]]


def test_tone() -> None:
    good = doc("A wonderful win", "Fans celebrated a wonderful, joyful victory. It was a great day.")
    bad = doc("Deadly attack", "Dozens were killed in a horrific attack. Survivors described terror and grief.")
    flat = doc("Meeting held", "The committee met on Tuesday. It will meet again in March.")
    [[g], [b], [f]] = ToneTagger().tag([good, bad, flat])
    assert (g.value, b.value, f.value) == ("positive", "negative", "neutral")
    assert g.score > 0.05 > -0.05 > b.score
    assert ToneTagger().tag([doc("Un jour", "Il fait beau.", "fr")]) == [[]]


def test_rule_tagger() -> None:
    rules = [
        Rule("r1", "Syria watch", "syria", "syria* AND NOT title:football", 3),
        Rule("r2", "Sport", "sport", "title:football", 1),
    ]
    d = doc("Talks on Syria resume", "Diplomats met in Geneva.")
    [tags] = RuleTagger(rules).tag([d])
    assert [(t.kind, t.value, t.tagger, t.tagger_version) for t in tags] == [("rule", "syria", "rule:r1", "3")]
    assert tags[0].attrs == {"rule_id": "r1", "rule_name": "Syria watch"}


def test_non_english_articles_get_what_applies(tagging: Taggers) -> None:
    german = doc(
        "Syrische Truppen greifen an",
        "Die syrischen Truppen haben am Dienstag in Aleppo und Damaskus angegriffen. "
        "Die Regierung in Damaskus will die Kontrolle über Aleppo zurückgewinnen.",
        None,
    )
    empty = doc("", "", None)
    weird = doc("🙂🙂🙂", "\u200b\u200b ### 123 456", None)
    rule = Rule("r1", "Aleppo", "aleppo", "aleppo", 1)
    settle_language([german, empty, weird])
    tags_de, tags_empty, tags_weird = tagging.tag([german, empty, weird], [rule])
    kinds = {t.kind for t in tags_de}
    assert values(tags_de, "language") == {"de"}
    assert "keyword" in kinds and "rule" in kinds
    assert kinds.isdisjoint({"person", "organisation", "place", "topic", "tone"})
    assert tags_empty == [] and tags_weird == []


def test_a_failing_tagger_costs_only_its_tags() -> None:
    class Fragile:
        name = "fragile"
        version = "1"
        languages = None
        needs_mentions = False

        def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
            if any(d.title == "bad" for d in docs):
                raise ValueError("boom")
            return [[Tag("keyword", d.title, d.title, self.name, self.version)] for d in docs]

    out = _run(Fragile(), [doc("good", ""), doc("bad", ""), doc("fine", "")])
    assert [[t.value for t in tags] for tags in out] == [["good"], [], ["fine"]]


def test_only_the_named_taggers_run() -> None:
    only = Taggers(TaggingSettings(), only=["language", "tone"])
    assert set(only.versions()) == {"language", "tone"} and only.recognizer is None
    with pytest.raises(ValueError, match="unknown tagger"):
        Taggers(TaggingSettings(), only=["nope"])


def test_an_abbreviation_keeps_its_last_dot_and_resolves(tagging: Taggers) -> None:
    assert clean_name("the U.S.'s") == "U.S." and clean_name("Washington D.C.") == "Washington D.C."
    assert clean_name("Apple Inc.") == "Apple Inc" and clean_name("Damascus.") == "Damascus"
    body = "The U.S. and Canada agreed new trade terms on Monday, officials in Ottawa said."
    [tags] = tagging.tag([doc("Trade talks", body)])
    places = {t.value for t in tags if t.kind == "place"}
    assert "United States" in places and "U.S" not in places
