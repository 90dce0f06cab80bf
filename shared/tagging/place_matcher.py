"""Place names found by gazetteer matching over the text, without the entity recogniser (the fast profile).

Each capitalised word starts a candidate; the candidate grows over up to ``MAX_WORDS`` words (joined by
spaces, hyphens, apostrophes or a period: "Rio de Janeiro", "St. Louis", "Bosnia and Herzegovina") and the
longest one the gazetteer knows wins. The look-up is the gazetteer's own folded index (``Gazetteer.lookup``), so
a name matches here exactly when the places tagger could resolve it, and the offsets are the text's own.

A second index (an Aho-Corasick automaton over the gazetteer's 526k folded names: pyahocorasick took 4.3 s and
60 MB per process to build here) would still need word boundaries, capitalisation and a map from folded to
original offsets; walking the capitalised words and probing the existing dict costs neither.

What the model would have judged from context is approximated with a few rules, each cheap:
- a name inside a longer run of capitalised words is part of another name ("Manchester United",
  "New York Times", "Moody's Investors"), unless it starts the run and names a country or a continent
  ("U.S. President ...");
- a one-word name that is a stop word, a month or a weekday, shorter than four letters, in capitals, followed
  by "said", or that the same text also uses in lower case ("a man", "reading"), is a word, an abbreviation or
  a speaker, not a place, unless it names a country, continent or state;
- a one-word name only at the start of sentences needs a second mention elsewhere ("Reading the report ...");
- demonyms are left to the places tagger, which reads them itself;
- an all-capitals word longer than three letters is a shouted headline, not a name ("UK" and "USA" still count).
The mentions go to :class:`shared.tagging.places.PlaceTagger` as ``LOC`` mentions, so disambiguation (country
context, population, towns only beside their country) and the tag shape are those of the full profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shared.tagging.base import Mention, fold
from shared.tagging.gazetteer import Gazetteer

MAX_WORDS = 6  # names of more words are 1% of the gazetteer's, nearly all transliterated villages
MODEL_LABEL = "GAZETTEER"  # the "model label" of a matched mention: no model said it
_WORD = re.compile(r"\w+", re.UNICODE)
_JOIN = re.compile(r"[ .'’-]{1,3}")  # what may sit between the words of one name (never a newline)
_SENTENCE_END = frozenset(".!?\n")
_OPENERS = " \t\"'“‘(["
_NATIONS = frozenset({"country", "continent"})
_CALENDAR = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed", "thu", "thur",
    "thurs", "fri", "sat", "sun",
))  # fmt: skip
_SPEECH = frozenset({"said", "says", "told", "added", "wrote", "argued"})  # "Wilson said": a speaker, not a place
MIN_WORD_CHARS = 4  # a one-word place below this must be a country or state ("UK", "Iraq" passes, "Bu" not)


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _CALENDAR


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 3 and word.isupper())


def _plain_word(word: str) -> bool:
    """Could be a one-word place without being a country or state: long enough, not an abbreviation."""
    return len(word) >= MIN_WORD_CHARS and not word.isupper()


class PlaceMatcher:
    """``LOC`` mentions of the places a text names, by gazetteer look-up."""

    def __init__(self, gaz: Gazetteer) -> None:
        self.gazetteer = gaz
        self.common = _stop_words()

    def _known(self, name: str) -> bool:
        return bool(self.gazetteer.lookup(name))

    def _candidates(self, text: str, tokens: list[re.Match[str]]) -> Iterator[tuple[int, int, int]]:
        """(first token, last token, end offset) of the longest known name starting at each capitalised word,
        left to right, not overlapping."""
        i = 0
        while i < len(tokens):
            if not _is_name_word(tokens[i].group()):
                i += 1
                continue
            last = i
            while last + 1 < len(tokens) and last - i + 1 < MAX_WORDS:
                gap = text[tokens[last].end() : tokens[last + 1].start()]
                if not _JOIN.fullmatch(gap):
                    break
                last += 1
            start = tokens[i].start()
            found = None
            for j in range(last, i - 1, -1):
                if not _is_name_word(tokens[j].group()):
                    continue
                end = tokens[j].end()
                if end < len(text) and text[end] == "." and self._known(text[start : end + 1]):
                    found = (j, end + 1)  # "U.S.", "Washington D.C."
                    break
                if self._known(text[start:end]):
                    found = (j, end)
                    break
            if found is None:
                i += 1
                continue
            yield i, found[0], found[1]
            i = found[0] + 1

    @staticmethod
    def _possessed(text: str, tokens: list[re.Match[str]], last: int) -> bool:
        """ "Moody's Investors": the name is the owner inside a longer name."""
        if last + 2 >= len(tokens) or tokens[last + 1].group() != "s":
            return False
        gap, after = text[tokens[last].end() : tokens[last + 1].start()], tokens[last + 2]
        return (
            gap in ("'", "’") and text[tokens[last + 1].end() : after.start()] == " " and _is_name_word(after.group())
        )

    def find(self, text: str) -> list[Mention]:
        tokens = list(_WORD.finditer(text))
        lower = {t.group() for t in tokens if t.group().islower()}

        def capitalised_before(i: int) -> bool:
            return (
                i > 0 and text[tokens[i - 1].end() : tokens[i].start()] == " " and _is_name_word(tokens[i - 1].group())
            )

        def sentence_start(i: int) -> bool:
            start = tokens[i].start()
            before = text[max(0, start - 8) : start].rstrip(_OPENERS)
            return (start <= 8 and not before) or (bool(before) and before[-1] in _SENTENCE_END)

        kept: list[tuple[Mention, bool]] = []  # with whether it stands alone at a sentence's start
        for first, last, end in self._candidates(text, tokens):
            name = text[tokens[first].start() : end]
            word = tokens[first].group()
            if first == last and self.gazetteer.demonym(word) is not None:
                continue
            places = self.gazetteer.lookup(name)
            nation = any(p.feature in _NATIONS for p in places)
            prominent = nation or any(p.feature == "region" and p.geonames_id is not None for p in places)
            after = last + 1 < len(tokens) and text[end : tokens[last + 1].start()] == " "
            followed = (after and _is_name_word(tokens[last + 1].group())) or self._possessed(text, tokens, last)
            if capitalised_before(first) or (followed and not nation):
                continue
            if first == last and not prominent:
                said = after and tokens[last + 1].group() in _SPEECH
                if said or not _plain_word(word) or fold(word) in self.common or word.lower() in lower:
                    continue
            at_start = first == last and not prominent and sentence_start(first)
            kept.append((Mention(name, "LOC", MODEL_LABEL, tokens[first].start(), end), at_start))
        elsewhere = {fold(m.text) for m, at_start in kept if not at_start}
        return [m for m, at_start in kept if not at_start or fold(m.text) in elsewhere]
