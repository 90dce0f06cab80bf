"""The query benchmark's requests: written vocabularies and random combinations of filters, fresh each round.

Nothing is taken from the corpus's own titles: the terms come from word lists written here, in three groups
a newsroom's searches fall into: common news words (tens of thousands of matches), rare ones (a few hundred
or fewer) and terms the corpus does not hold at all (a miss must be as cheap as a hit). Filters are drawn at
random from what a search page offers (a date window, sources, a language, a place, an IPTC topic, a person
or organisation), so almost every request is one the service has never answered before; each round draws
its own requests from its own seed, and every request is issued once per round. Four kinds:

- ``search``: a term (one word, two words, a phrase, an OR, a negation) plus filters, newest first or by
  relevance.
- ``filters``: filters only, newest first.
- ``facets``: top sources, languages, topics, entities and places, for a term or for filters alone.
- ``timeseries``: 7 days hourly, 30 or 90 days daily, a year weekly, in one of four time zones, for a term
  or for filters alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from benchmarks.query_load import END
from shared.tagging.topic_lexicon import SUBJECTS

COMMON = [
    "government",
    "market",
    "prices",
    "bank",
    "trade",
    "oil",
    "company",
    "shares",
    "profit",
    "minister",
    "president",
    "election",
    "police",
    "court",
    "workers",
    "strike",
    "growth",
    "economy",
    "exports",
    "talks",
    "agreement",
    "officials",
    "report",
    "week",
    "billion",
    "million",
    "analysts",
    "dollar",
    "interest",
    "rates",
    "budget",
    "tax",
    "industry",
    "production",
    "sales",
    "demand",
]
RARE = [
    "cobalt",
    "sorghum",
    "tungsten",
    "palladium",
    "shipyard",
    "anchovy",
    "brewery",
    "lumber",
    "orchestra",
    "glacier",
    "typhoon",
    "vaccine",
    "monsoon",
    "telescope",
    "cathedral",
    "quarry",
    "locomotive",
    "ferry",
    "hurricane",
    "plywood",
    "cocoa",
    "tin",
    "rubber",
    "platinum",
]
MISSING = [
    "blockchain",
    "cryptocurrency",
    "smartphone",
    "selfie",
    "hashtag",
    "podcast",
    "bitcoin",
    "tiktok",
    "zyxglorp",
    "quantafrob",
    "nanotwerk",
    "metaverse",
]
PLACES = (
    "United States", "Japan", "United Kingdom", "Canada", "London", "Germany", "France", "Australia", "Brazil",
    "Tokyo", "Paris", "China", "Mexico", "Argentina", "Italy", "New York", "Saudi Arabia", "Iran", "Nigeria",
    "Kenya", "Peru", "Chile", "Norway", "Atlantis",
)  # fmt: skip
ENTITIES = ("Reagan", "IBM", "Exchange Commission", "Federal Reserve", "OPEC", "Volcker", "Baker", "Tony Blair",
            "Chrysler", "Texaco", "Nobody Atall")  # fmt: skip
SOURCES = ["reuters", "associated-press", "afp", "bbc-news", "bloomberg", "the-guardian", "dpa", "efe",
           "outlet-020", "outlet-150", "outlet-299"]  # fmt: skip
LANGUAGES = ["en", "en", "en", "fr", "de", "es"]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
# Shares of the terms: mostly common words, a fair number of rare ones, some misses.
_TERM_GROUPS = ((COMMON, 0.6), (RARE, 0.3), (MISSING, 0.1))


@dataclass(frozen=True)
class Request:
    kind: str
    path: str
    params: tuple[tuple[str, str], ...]

    def as_params(self) -> list[tuple[str, str]]:
        return list(self.params)


def _word(rnd: random.Random) -> str:
    roll, acc = rnd.random(), 0.0
    for words, share in _TERM_GROUPS:
        acc += share
        if roll < acc:
            return rnd.choice(words)
    return rnd.choice(COMMON)


def _query(rnd: random.Random) -> str:
    a, b = _word(rnd), _word(rnd)
    roll = rnd.random()
    if roll < 0.4 or a == b:
        return a
    if roll < 0.7:
        return f"{a} {b}"
    if roll < 0.8:
        return f'"{a} {b}"'
    if roll < 0.92:
        return f"{a} OR {b}"
    return f"{a} -{b}"


def _window(rnd: random.Random, days: int) -> list[tuple[str, str]]:
    end = END - timedelta(days=rnd.randrange(0, 300))
    return [("from", (end - timedelta(days=days)).isoformat()), ("to", end.isoformat())]


def _filters(rnd: random.Random, *, windowed: float) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if rnd.random() < windowed:
        out += _window(rnd, rnd.choice([7, 30, 90, 365]))
    if rnd.random() < 0.2:
        out += [("source", s) for s in rnd.sample(SOURCES, rnd.randint(1, 3))]
    if rnd.random() < 0.15:
        out.append(("language", rnd.choice(LANGUAGES)))
    roll = rnd.random()
    if roll < 0.15:
        out.append(("place", rnd.choice(PLACES)))
    elif roll < 0.25:
        out.append(("topic", rnd.choice(sorted(SUBJECTS))))
    elif roll < 0.32:
        out.append(("entity", rnd.choice(ENTITIES)))
    return out


def build_round(seed: int, *, size: int = 200) -> list[Request]:
    """One round's requests, all distinct, in a shuffled order."""
    rnd = random.Random(seed)
    seen: set[Request] = set()
    counts = {"search": size * 3 // 10, "filters": size // 5, "facets": size // 4}
    counts["timeseries"] = size - sum(counts.values())
    for kind, count in counts.items():
        made = 0
        while made < count:
            req = _request(rnd, kind)
            if req not in seen:
                seen.add(req)
                made += 1
    out = sorted(seen, key=lambda r: (r.kind, r.params))
    rnd.shuffle(out)
    return out


def _request(rnd: random.Random, kind: str) -> Request:
    if kind == "search":
        params = [("q", _query(rnd)), *_filters(rnd, windowed=0.6)]
        params.append(("sort", "relevance" if rnd.random() < 0.4 else "-published"))
        return Request(kind, "/v1/articles", tuple(params))
    if kind == "filters":
        return Request(kind, "/v1/articles", tuple(_filters(rnd, windowed=0.8) or _window(rnd, 30)))
    if kind == "facets":
        params = _filters(rnd, windowed=0.8)
        if rnd.random() < 0.5:
            params.insert(0, ("q", _query(rnd)))
        return Request(kind, "/v1/facets", tuple(params))
    days, interval = rnd.choice([(7, "hour"), (30, "day"), (90, "day"), (365, "week")])
    params = [*_window(rnd, days), ("interval", interval), ("tz", rnd.choice(ZONES))]
    extra = _filters(rnd, windowed=0.0)
    if rnd.random() < 0.5:
        extra.insert(0, ("q", _query(rnd)))
    return Request(kind, "/v1/timeseries", tuple(params + extra))
