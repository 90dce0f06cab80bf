"""People, organisations and other named entities from the recogniser's mentions, under canonical names.

Mentions of one entity are merged: "Assad" and "Assad's" count towards "Bashar al-Assad" when the article names
him in full, and an acronym ("UN") joins its spelled-out form when both appear. The score is the entity's share
of attention: its mentions against the most-mentioned entity, raised when the headline or standfirst names it.
Each tag keeps what the text said and where: ``attrs["mentions"]`` lists ``{text, start, end, field}``, the
offsets counted in the stored field ("UN" in the body under the value "United Nations").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from shared.tagging.base import MAX_MENTIONS, Document, Mention, Tag, fold
from shared.tagging.gazetteer import gazetteer
from shared.tagging.ner import model_version
from shared.tagging.vocabulary import MISC, ORGANISATION, PERSON

KINDS = {"PER": PERSON.name, "ORG": ORGANISATION.name, "MISC": MISC.name}
VERSION = "2"

_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_DOTTED = re.compile(r"(?:^|\s)(?:[^\W\d_]\.)+[^\W\d_]$")
_SPACES = re.compile(r"\s+")


def clean_name(text: str) -> str:
    """A mention as a name: no leading "the", no possessive, no edge punctuation, single spaces."""
    text = _SPACES.sub(" ", text).strip()
    text = _LEADING_THE.sub("", text)
    text = _POSSESSIVE.sub("", text)
    name = _EDGE_PUNCT.sub("", text)
    # An abbreviation keeps its last dot: "U.S." and "D.C." are the names, "U.S" is no name at all.
    if _DOTTED.search(name) and text.rstrip().endswith(name + "."):
        name += "."
    return name


def _surname(name: str) -> str:
    """The last word of a name without a particle: "Bashar al-Assad" → "assad"."""
    last = name.split()[-1]
    return fold(last.rsplit("-", 1)[-1] if "-" in last else last)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isupper())


def canonical_names(names: Counter[str], kind: str) -> dict[str, str]:
    """Map each surface name to the canonical name it stands for within one article."""
    canon = {n: n for n in names}
    if kind == "PER":
        full = sorted((n for n in names if " " in n), key=lambda n: (-names[n], -len(n)))
        for n in names:
            if " " not in n:
                match = next((f for f in full if _surname(f) == fold(n) or fold(f.split()[0]) == fold(n)), None)
                if match is not None:
                    canon[n] = match
    elif kind == "ORG":
        spelled = [n for n in names if " " in n]
        for n in names:
            if n.isupper() and 2 <= len(n) <= 6:
                match = next((f for f in spelled if _initials(f) == n), None)
                if match is not None:
                    canon[n] = match
    return canon


def salience(mentions: float, top: float, in_lead: bool) -> float:
    """0.3-1.0: mentions against the most-mentioned, plus 0.2 when the headline or standfirst names it."""
    score = 0.3 + 0.7 * min(1.0, mentions / max(top, 1))
    return round(min(1.0, score + (0.2 if in_lead else 0.0)), 4)


def _reattach_people(mentions: list[Mention], text: str) -> list[Mention]:
    """A two-word organisation or other entity ending in a person's surname at the start of a sentence is
    that person with the sentence's first word glued on ("Emboldened Assad troops" read as an ORG)."""
    surnames = {_surname(clean_name(m.text)) for m in mentions if m.label == "PER" and " " in m.text.strip()}
    if not surnames:
        return mentions
    out = []
    for m in mentions:
        words = clean_name(m.text).split()
        before = text[: m.start].rstrip(" ")
        starts_sentence = not before or before[-1] in ".!?\n\"'“”‘’"
        if m.label in ("ORG", "MISC") and len(words) == 2 and fold(words[1]) in surnames and starts_sentence:
            start = text.rfind(words[1], m.start, m.end)
            out.append(replace(m, text=words[1], label="PER", start=start if start >= 0 else m.start))
        else:
            out.append(m)
    return out


def mention_spans(doc: Document, named: Iterable[tuple[str, Mention]]) -> dict[str, list[dict[str, Any]]]:
    """Each canonical name's mentions as ``{text, start, end, field}`` in the article's fields, in text order,
    at most ``MAX_MENTIONS`` each."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, m in sorted(named, key=lambda nm: nm[1].start):
        if len(out[name]) < MAX_MENTIONS:
            out[name].append(doc.locate(m.start, m.end))
    return out


class EntityTagger:
    """``person``, ``organisation`` and ``misc`` tags (English; needs the recogniser's mentions)."""

    name = "entities"
    languages: frozenset[str] | None = frozenset({"en"})
    needs_mentions = True

    def __init__(self) -> None:
        self.version = f"{VERSION}/{model_version()}"
        self.gazetteer = gazetteer()

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        return [self._tag_one(d) if d.language == "en" else [] for d in docs]

    def _tag_one(self, doc: Document) -> list[Tag]:
        lead = fold(f"{doc.title} {doc.summary or ''}")
        demonyms = self.gazetteer.demonyms
        mentions = _reattach_people(doc.mentions or [], doc.text)
        tags: list[Tag] = []
        for label, kind in KINDS.items():
            named = [
                (n, m)
                for n, m in ((clean_name(m.text), m) for m in mentions if m.label == label)
                # Nationalities ("Syrian") become places (the places tagger reads demonyms), not misc tags.
                if n and not (label == "MISC" and (n in demonyms or n.removesuffix("s") in demonyms))
            ]
            if not named:
                continue
            names = Counter(n for n, _ in named)
            canon = canonical_names(names, label)
            counts: Counter[str] = Counter()
            for surface, count in names.items():
                counts[canon[surface]] += count
            spans = mention_spans(doc, ((canon[n], m) for n, m in named))
            top = max(counts.values())
            for name, count in counts.items():
                in_lead = any(fold(s) in lead for s, c in canon.items() if c == name)
                tags.append(
                    Tag(
                        kind=kind,
                        value=name,
                        name=name,
                        tagger=self.name,
                        tagger_version=self.version,
                        score=salience(count, top, in_lead),
                        mentions=count,
                        attrs={"mentions": spans[name]},
                    )
                )
        return tags
