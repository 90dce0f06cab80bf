"""The tag vocabulary: every kind a tagger emits is one the vocabulary knows (so it is searchable), the
facets follow from the kinds, and a plug-in's kinds join them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shared.tagging.base import Document, Tag
from shared.tagging.language import settle_language
from shared.tagging.rules import Rule, RuleTagger
from shared.tagging.taggers import Taggers, _run
from shared.tagging.vocabulary import RULES, TAGGERS, Vocabulary, load_plugins, vocabulary
from tests.support import fixture_text

SPANISH = Document(
    id="es",
    title="El ejército sudanés lanza una ofensiva sobre Omdurmán",
    body="El ejército de Sudán atacó el miércoles los barrios del oeste de Omdurmán y las afueras de Jartum.",
)


def test_every_tagger_emits_only_the_kinds_its_entry_declares(tagging: Taggers, seed: Document) -> None:
    docs = [seed, SPANISH]
    settle_language(docs)
    assert tagging.recognizer is not None
    tagging.recognizer.annotate(docs)
    registered = vocabulary().taggers
    built = {t.name: t for t in tagging.taggers}
    assert set(built) == set(registered) - {RULES}, "every registered tagger is built by default"
    rules = RuleTagger([Rule("r1", "Sudan", "sudan", "sudan OR omdurman", 1)])
    for tagger in [*built.values(), rules]:
        entry = registered[RULES if tagger is rules else tagger.name]
        emitted = {t.kind for tags in tagger.tag(docs) for t in tags}
        declared = {k.name for k in entry.kinds}
        assert emitted <= declared, f"{tagger.name} emits {sorted(emitted - declared)}, not in its entry"
        assert declared <= set(vocabulary().kind_names)
    # The seed article exercises every built-in kind the registry declares, so none is declared in vain.
    seen = {t.kind for t in tagging.tag([seed], [Rule("r1", "Sudan", "sudan", "sudan", 1)])[0]}
    assert {k.name for e in TAGGERS for k in e.kinds} <= seen


def test_a_kind_missing_from_the_vocabulary_is_refused() -> None:
    class Colours:
        name = "colours"
        version = "1"
        languages = None
        needs_mentions = False

        def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
            return [[Tag("colour", "red", "red", self.name, self.version)] for _ in docs]

    assert _run(Colours(), [Document(id=1, title="Red", body="A red door.")]) == [[]]


def test_the_facets_follow_from_the_kinds() -> None:
    facets = Vocabulary(TAGGERS).facets
    assert facets["source"] is None and facets["language"] is None
    assert facets["entity"] == ("person", "organisation", "misc"), "places have their own facet"
    assert facets["place"] == ("place",) and facets["topic"] == ("topic",) and facets["rule"] == ("rule",)
    assert set(Vocabulary(TAGGERS).entity_kinds) == {"person", "organisation", "place", "misc"}


def test_a_plugin_adds_its_kinds_and_facets() -> None:
    plugin = load_plugins(("tests.ticker_tagger",))
    words = Vocabulary((*TAGGERS, *plugin))
    assert "ticker" in words.kind_names and words.facets["ticker"] == ("ticker",)
    assert "ticker" not in Vocabulary(TAGGERS).kind_names
    with pytest.raises(ValueError, match="registered twice"):
        Vocabulary((*TAGGERS, *plugin, *plugin))
    with pytest.raises(ValueError, match="no TAGGERS"):
        load_plugins(("tests.support",))


def test_the_language_is_decided_over_title_and_body_with_the_declared_one_first() -> None:
    text = fixture_text("languages/de.txt")
    settled = Document(id="de", title="", body=text)
    declared = Document(id="fr", title="", body=text, language="fr")
    settle_language([settled, declared])
    assert settled.language == "de" and settled.language_score
    assert declared.language == "fr" and declared.language_score is None, "the sender's word wins, unscored"
