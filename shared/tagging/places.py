"""Places resolved to the gazetteer: GeoNames id, country code and coordinates, disambiguated by context.

Candidates come from the recogniser's location mentions and from demonyms anywhere in the text ("Lebanese" →
Lebanon, "Iranian Revolutionary Guards" → Iran). An ambiguous name is settled by how prominent each candidate
is (countries, then continents and states, then cities by population), whether its name is the primary one,
and whether its country (or, in the US, its state) is otherwise named in the article: "Damascus" beside
"Syria" is the Syrian capital, "Paris" beside "Texas" is Paris, Texas. Names the gazetteer does not know stay as places
without coordinates.
Each tag lists its mentions (``attrs["mentions"]``: ``{text, start, end, field}``), demonyms included.

The names come from the recogniser's ``LOC`` mentions, or, where the recogniser does not run (the fast profile,
or ``entities`` switched off), from gazetteer matching over the text (:mod:`shared.tagging.place_matcher`);
the two carry different versions, so a backfill can tell their tags apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.tagging.base import MAX_MENTIONS, Document, Tag, fold
from shared.tagging.entities import clean_name, salience
from shared.tagging.gazetteer import Gazetteer, Place, data_version, gazetteer
from shared.tagging.place_matcher import PlaceMatcher
from shared.tagging.settings import TaggingSettings

VERSION = "2"
MATCHER_VERSION = "match-1"  # appended to the version of tags whose names came from gazetteer matching
CONTEXT_BONUS = 1.5
REGION_BONUS = 3.0  # the article names the city's state: strong evidence
PRIMARY_NAME_BONUS = 1.0
DEMONYM_WEIGHT = 0.6  # a demonym is weaker evidence that the article is about the country
_WORD = re.compile(r"\w+", re.UNICODE)  # the tokenisation of Document.tokens, with offsets


def prominence(place: Place) -> float:
    if place.feature == "country":
        return 10.0
    if place.feature == "continent":
        return 9.0
    if place.feature == "region":
        return 6.5 if place.geonames_id is not None else 3.0
    return math.log10(max(place.population, 1000))


@dataclass
class _Found:
    place: Place | None
    name: str
    mentions: int = 0
    demonyms: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)  # offsets in Document.text


def resolve(
    name: str, candidates: list[Place], context: Counter[str], regions: frozenset[tuple[str, str]] = frozenset()
) -> Place | None:
    """The most likely of ``candidates`` for ``name`` given the countries and states the article names; a
    town only where the article names its country."""
    candidates = [p for p in candidates if not p.town or context.get(p.country_code or "")]
    if not candidates:
        return None
    key = fold(name)

    def score(p: Place) -> float:
        s = prominence(p)
        if fold(p.name) == key:
            s += PRIMARY_NAME_BONUS
        if p.feature != "country" and p.country_code and context.get(p.country_code):
            s += CONTEXT_BONUS
        if p.feature == "city" and (p.country_code, p.admin1) in regions:
            s += REGION_BONUS
        return s

    return max(candidates, key=score)


class PlaceTagger:
    """``place`` tags (English). Names come from the recogniser's mentions, or from ``matcher`` when one is
    given (then the recogniser is not needed); demonyms work on any English text."""

    name = "places"
    languages: frozenset[str] | None = frozenset({"en"})

    def __init__(self, *, matcher: PlaceMatcher | None = None) -> None:
        self.gazetteer: Gazetteer = gazetteer()
        self.matcher = matcher
        self.needs_mentions = matcher is None
        self.version = f"{VERSION}/{data_version()}" + (f"/{MATCHER_VERSION}" if matcher is not None else "")
        self._multiword = {d for d in self.gazetteer.demonyms if " " in d}

    @classmethod
    def from_settings(cls, settings: TaggingSettings) -> PlaceTagger:
        return cls(matcher=PlaceMatcher(gazetteer()) if settings.places_by_matching else None)

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        return [self._tag_one(d) if d.language == "en" else [] for d in docs]

    def _demonyms(self, doc: Document) -> tuple[Counter[str], dict[str, list[tuple[int, int]]]]:
        """Countries named by demonym: how often, and where in :attr:`Document.text`."""
        found: Counter[str] = Counter()
        where: dict[str, list[tuple[int, int]]] = defaultdict(list)
        matches = list(_WORD.finditer(doc.text))
        skip = False
        for i, match in enumerate(matches):
            tok = match.group()
            if skip:
                skip = False
                continue
            if not tok[:1].isupper():
                continue
            if i + 1 < len(matches) and f"{tok} {matches[i + 1].group()}" in self._multiword:
                code = self.gazetteer.demonyms[f"{tok} {matches[i + 1].group()}"]
                found[code] += 1
                where[code].append((match.start(), matches[i + 1].end()))
                skip = True
                continue
            demonym = self.gazetteer.demonym(tok)
            if demonym is not None:
                found[demonym] += 1
                where[demonym].append(match.span())
        return found, where

    def _tag_one(self, doc: Document) -> list[Tag]:
        gaz = self.gazetteer
        if self.matcher is not None:
            located = [(m.text, m) for m in self.matcher.find(doc.text)]  # names as the gazetteer spells them
        else:
            mentions = (m for m in doc.mentions or () if m.label == "LOC")
            located = [(n, m) for n, m in ((clean_name(m.text), m) for m in mentions) if n]
        names = Counter(n for n, _ in located)
        demonyms, demonym_spans = self._demonyms(doc)
        # Context: countries named outright, by demonym, or by a place name that is not ambiguous.
        context: Counter[str] = Counter(demonyms)
        for name, count in names.items():
            candidates = gaz.lookup(name)
            countries = {p.country_code for p in candidates if p.country_code and not p.town}
            if len(countries) == 1:
                context[countries.pop() or ""] += count
        regions = frozenset(
            (p.country_code, p.admin1)
            for name in names
            for p in gaz.lookup(name)
            if p.feature == "region" and p.country_code and p.admin1
        )
        found: dict[object, _Found] = {}
        entry_of: dict[str, _Found] = {}
        for name, count in names.items():
            place = resolve(name, gaz.lookup(name), context, regions)
            key: object = (place.geonames_id or (place.name, place.country_code)) if place else fold(name)
            entry = found.setdefault(key, _Found(place, place.name if place else name))
            entry.mentions += count
            entry_of[name] = entry
        for name, m in located:
            entry_of[name].spans.append((m.start, m.end))
        for code, count in demonyms.items():
            country = gaz.countries[code]
            entry = found.setdefault(country.geonames_id, _Found(country, country.name))
            entry.demonyms += count
            entry.spans.extend(demonym_spans[code])

        if not found:
            return []
        top = max(f.mentions + f.demonyms * DEMONYM_WEIGHT for f in found.values())
        lead = fold(f"{doc.title} {doc.summary or ''}")
        tags: dict[str, Tag] = {}
        for f in found.values():
            weight = f.mentions + f.demonyms * DEMONYM_WEIGHT
            score = salience(weight, top, fold(f.name) in lead)
            if f.place is None:
                score = round(score * 0.5, 4)  # unresolved: a weaker claim
            attrs = f.place.attrs() if f.place else Place(f.name, "unknown", None, None, None, None).attrs()
            attrs["mentions"] = [doc.locate(a, b) for a, b in sorted(f.spans)[:MAX_MENTIONS]]
            tag = Tag(
                kind="place",
                value=f.name,
                name=f.name,
                tagger=self.name,
                tagger_version=self.version,
                score=score,
                mentions=f.mentions + f.demonyms,
                attrs=attrs,
            )
            # Two different places of one name in one article: keep the stronger (the key is kind+value).
            if f.name not in tags or tags[f.name].score < tag.score:
                tags[f.name] = tag
        return list(tags.values())
