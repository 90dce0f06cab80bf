"""The fixed request mix of the query benchmark, drawn from the loaded corpus with a fixed seed.

Queries are what a newsroom types: one or two words of a real headline, a two-word phrase from one, an OR, a
negated term; filters are the ones a search page offers (a date window, sources, a language, a place, an
IPTC topic, a person or organisation), picked from the tags and sources that exist. Five kinds:

- ``search``: full text plus filters; newest first (60%) or by relevance (40%).
- ``filters``: filters only, newest first.
- ``deep_page``: page 51 of a listing (20 per page), through the cursor of page 50 fetched beforehand.
- ``facets``: top sources, languages, topics, entities and places for a search or a filter set.
- ``timeseries``: 7 days hourly, 30 or 90 days daily, a year weekly, in one of four time zones.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta

from benchmarks.query_corpus import BaseDoc
from benchmarks.query_load import END

SEED = 5150
_STOP_WORDS = (
    "the a an and or of to in on for with by at from as is was were be been are it its this that these those "
    "said says will would could should may might not no but if than then also has have had into over after "
    "before under more most some any all new year years first last says qtr shr net cts mln dlrs pct"
)
_STOP = set(_STOP_WORDS.split())
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
TOP_SOURCES = ["reuters", "associated-press", "afp", "bbc-news", "bloomberg", "the-guardian", "dpa", "efe"]


@dataclass(frozen=True)
class Request:
    kind: str
    path: str
    params: tuple[tuple[str, str], ...]

    def as_params(self) -> list[tuple[str, str]]:
        return list(self.params)


def _words(title: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]{4,}", title.lower()) if w not in _STOP]


def _query(rnd: random.Random, doc: BaseDoc) -> str:
    words = _words(doc.title) or ["market"]
    roll = rnd.random()
    if roll < 0.35 or len(words) < 2:
        return rnd.choice(words)
    a, b = rnd.sample(words, 2)
    if roll < 0.70:
        return f"{a} {b}"
    if roll < 0.85:
        i = rnd.randrange(len(words) - 1)
        return f'"{words[i]} {words[i + 1]}"'
    if roll < 0.95:
        return f"{a} OR {b}"
    return f"{a} -{b}"


def _window(rnd: random.Random, days: int) -> list[tuple[str, str]]:
    end = END - timedelta(days=rnd.randrange(0, 120))
    return [("from", (end - timedelta(days=days)).isoformat()), ("to", end.isoformat())]


def _filters(rnd: random.Random, doc: BaseDoc, *, windowed: float) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if rnd.random() < windowed:
        out += _window(rnd, rnd.choice([7, 30, 90, 365]))
    if rnd.random() < 0.2:
        out += [("source", s) for s in rnd.sample(TOP_SOURCES, rnd.randint(1, 3))]
    if rnd.random() < 0.2:
        out.append(("language", rnd.choice(["en", "en", "en", "fr", "de"])))
    tags = [t for t in doc.tags if t.kind in ("place", "topic", "person", "organisation")]
    if tags and rnd.random() < 0.3:
        tag = rnd.choice(tags)
        name = {"place": "place", "topic": "topic"}.get(tag.kind, "entity")
        out.append((name, tag.value))
    return out


def build_mix(docs: list[BaseDoc], *, size: int = 240) -> tuple[list[Request], list[Request]]:
    """(measured requests, deep-pagination seeds whose page-50 cursor is fetched before the run)."""
    rnd = random.Random(SEED)
    mix: list[Request] = []
    counts = {"search": size // 4, "filters": size // 6, "facets": size // 5, "timeseries": size // 5}
    for _ in range(counts["search"]):
        doc = rnd.choice(docs)
        params = [("q", _query(rnd, doc)), *_filters(rnd, doc, windowed=0.7)]
        params.append(("sort", "relevance" if rnd.random() < 0.4 else "-published"))
        mix.append(Request("search", "/v1/articles", tuple(params)))
    for _ in range(counts["filters"]):
        doc = rnd.choice(docs)
        params = _filters(rnd, doc, windowed=0.8) or _window(rnd, 30)
        mix.append(Request("filters", "/v1/articles", tuple(params)))
    for _ in range(counts["facets"]):
        doc = rnd.choice(docs)
        params = _filters(rnd, doc, windowed=0.8)
        if rnd.random() < 0.5:
            params.insert(0, ("q", _query(rnd, doc)))
        mix.append(Request("facets", "/v1/facets", tuple(params)))
    for _ in range(counts["timeseries"]):
        doc = rnd.choice(docs)
        days, interval = rnd.choice([(7, "hour"), (30, "day"), (90, "day"), (365, "week")])
        params = [*_window(rnd, days), ("interval", interval), ("tz", rnd.choice(ZONES))]
        extra = _filters(rnd, doc, windowed=0.0)
        if rnd.random() < 0.5:
            extra.insert(0, ("q", _query(rnd, doc)))
        mix.append(Request("timeseries", "/v1/timeseries", tuple(params + extra)))
    deep = []
    for _ in range(size - len(mix)):
        doc = rnd.choice(docs)
        params = [("limit", "20"), ("sort", rnd.choice(["-published", "-published", "published"]))]
        if rnd.random() < 0.5:
            params.append(("q", rnd.choice(_words(doc.title) or ["market"])))
        else:
            params += _filters(rnd, doc, windowed=1.0)
        deep.append(Request("deep_page", "/v1/articles", tuple(params)))
    return mix, deep
