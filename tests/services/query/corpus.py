"""A corpus for the query tests, written for the project: the newsroom article, the hand-written wire stories,
articles in German, French and Spanish, and many articles composed from templates (``tests/fixtures/newsgen.py``),
ingested through the API and processed by the real worker, then given known tags and story clusters.

The dedup and tagging stages write the same contract tables as they evolve; the query tests need exact
expectations, so once the articles are processed the fixture replaces their ``article_tags`` and dedup columns
with rows derived here from the texts themselves (places, people and organisations that occur in the text,
the desk's IPTC topic, keywords by frequency). Expected answers are computed from these ``Doc`` objects,
never typed in.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, text

from shared.text.plaintext import parse_plain_article
from tests.fixtures import newsgen
from tests.support import NEWSROOM_ARTICLE, fixture_text, wait_for, wire_story

TOPIC_NAMES = {
    "01000000": "arts, culture, entertainment and media",
    "04000000": "economy, business and finance",
    "11000000": "politics",
    "13000000": "science and technology",
    "15000000": "sport",
    "16000000": "conflict, war and peace",
}
# A tiny gazetteer: name → (GeoNames id, country code, lat, lon): the composed articles' cities, and the places
# the newsroom article and the wire stories name.
PLACES = {
    **newsgen.CITIES,
    "Omdurman": (365137, "SD", 15.64453, 32.47773),
    "Khartoum": (379252, "SD", 15.55177, 32.53241),
    "Port Sudan": (377039, "SD", 19.61745, 37.21644),
    "Cairo": (360630, "EG", 30.06263, 31.24967),
    "Egypt": (357994, "EG", 26.0, 30.0),
    "Sudan": (366755, "SD", 15.0, 30.0),
    "Jeddah": (105343, "SA", 21.49012, 39.18624),
    "Dresden": (2935022, "DE", 51.05089, 13.73832),
    "Antwerp": (2803138, "BE", 51.21989, 4.40346),
    "Europe": (6255148, "", 48.69096, 9.14062),
    "Portugal": (2264397, "PT", 39.5, -8.0),
}
PEOPLE = sorted(
    {p for desk in newsgen.DESKS.values() for p, _role in desk.people}
    | {"Hassan Mirghani", "Tarek Bashir", "Amina Suleiman", "Fatima Osman"}  # the newsroom article
    | {"Helen Marsh", "Daniel Okafor", "Priya Nair", "George Whitfield", "Marcus Hale", "Ana Duarte",
       "Ingrid Solberg", "Rafael Mendes", "Clara Antunes", "Daniel Kiprotich", "Sofia Lindqvist"}  # the wire
)  # fmt: skip
ORGS = sorted(
    {o for desk in newsgen.DESKS.values() for o in desk.organisations}
    | {"Rapid Support Forces", "African Union", "World Food Programme", "United Nations"}
    | {"European Space Agency", "Eumetsat", "National Education Union", "British Medical Association"}
)
SOURCES = ["city-herald", "the-courier", "northern-wire", "coastal-news"]
STOP = {"that", "with", "have", "this", "from", "they", "their", "which", "would", "about", "there", "been", "were"}
WIRE = {  # the hand-written wire stories and their desks' subjects
    "harbour-strike": ["04000000"], "school-budget": ["11000000"], "cup-final": ["15000000"],
    "chip-plant": ["13000000", "04000000"], "phone-recall": ["13000000"], "film-festival": ["01000000"],
    "waiting-lists": ["11000000"], "satellite-launch": ["13000000"], "marathon": ["15000000"],
}  # fmt: skip
FOREIGN = {"de": ["04000000"], "fr": ["11000000"], "es": ["04000000"]}  # texts in other languages, declared
COMPOSED = 100
# Days of March 2025 that get articles: the others stay empty, so daily series have zero buckets.
DAYS = [d for d in range(1, 32) if d not in (12, 13, 21)]


@dataclass
class Tag:
    kind: str
    value: str
    name: str
    score: float
    mentions: int = 1
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Doc:
    key: str
    title: str
    body: str
    source: str
    published_at: datetime
    language: str = "en"
    summary: str | None = None
    tags: list[Tag] = field(default_factory=list)
    cluster_key: str | None = None  # copies share their original's key
    similarity: float | None = None
    method: str | None = None
    id: uuid.UUID | None = None

    def has(self, kind: str, value: str) -> bool:
        return any(t.kind == kind and t.value == value for t in self.tags)

    def tag_values(self, kind: str) -> set[str]:
        return {t.value for t in self.tags if t.kind == kind}

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "title": self.title,
            "body": self.body,
            "source": self.source,
            "external_id": self.key,
            "published_at": self.published_at.isoformat(),
            "language": self.language,
        }
        if self.summary:
            out["summary"] = self.summary
        return out


def _mentions(body: str, name: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", body))


def derive_tags(title: str, body: str, topics: list[str]) -> list[Tag]:
    """Tags a tagger would plausibly give, from what the text actually says."""
    text_ = f"{title}\n{body}"
    tags = [Tag("topic", code, TOPIC_NAMES[code], round(0.95 - 0.2 * i, 2)) for i, code in enumerate(topics)]
    for name, (gid, cc, lat, lon) in PLACES.items():
        if n := _mentions(text_, name):
            attrs = {"geonames_id": gid, "country_code": cc, "lat": lat, "lon": lon}
            tags.append(Tag("place", name, name, min(1.0, 0.5 + 0.1 * n), n, attrs))
    for kind, names in (("person", PEOPLE), ("organisation", ORGS)):
        for name in names:
            if n := _mentions(text_, name):
                tags.append(Tag(kind, name, name, min(1.0, 0.6 + 0.1 * n), n))
    words = Counter(w for w in re.findall(r"[a-z]{6,}", text_.lower()) if w not in STOP)
    tags += [Tag("keyword", w, w, round(n / max(words.values()), 3), n) for w, n in words.most_common(3)]
    tags.append(Tag("tone", "neutral", "neutral", 0.0))
    return tags


def _published(i: int) -> datetime:
    """The ``i``-th article's time: spread over March 2025, at varied hours, never on the empty days."""
    return datetime(2025, 3, DAYS[i % len(DAYS)], 5 + (7 * i) % 17, (13 * i) % 60, tzinfo=UTC)


def build_docs() -> list[Doc]:
    docs: list[Doc] = []
    seed = parse_plain_article(NEWSROOM_ARTICLE.read_text(encoding="utf-8"))
    docs.append(
        Doc(
            "seed", seed.title, seed.body, "newsdesk", datetime(2025, 3, 30, 0, 30, tzinfo=UTC),
            summary=seed.summary, tags=derive_tags(seed.title, seed.body, ["16000000", "11000000"]),
        )
    )  # fmt: skip
    i = 0
    for name, topics in WIRE.items():
        title, body = wire_story(name)
        docs.append(
            Doc(f"wire-{name}", title, body, "agency-wire", _published(i), tags=derive_tags(title, body, topics))
        )
        i += 1
    for language, topics in FOREIGN.items():
        title, _, body = fixture_text(f"languages/{language}.txt").strip().partition("\n\n")
        docs.append(
            Doc(f"foreign-{language}", title, body, SOURCES[i % len(SOURCES)], _published(i), language,
                tags=derive_tags(title, body, topics))
        )  # fmt: skip
        i += 1
    for article in newsgen.articles(COMPOSED):
        docs.append(
            Doc(article.key, article.title, article.body, SOURCES[i % len(SOURCES)], _published(i),
                tags=derive_tags(article.title, article.body, [article.topic]))
        )  # fmt: skip
        i += 1
    # A story republished three times: same text elsewhere, a rewritten headline, a trimmed copy.
    original = next(d for d in docs if d.key.startswith("politics-"))
    paras = original.body.split("\n\n")
    copies = [
        ("copy-exact", original.title, original.body, "coastal-news", 2, "exact:content_hash", 1.0),
        ("copy-headline", "UPDATE 1-" + original.title, original.body, "the-courier", 5, "near:minhash", 0.93),
        ("copy-trimmed", original.title, "\n\n".join(paras[: max(1, len(paras) - 2)]), "northern-wire", 9,
         "near:containment", 0.88),
    ]  # fmt: skip
    original.cluster_key = original.key
    for key, title, body, source, hours, method, similarity in copies:
        docs.append(
            Doc(key, title, body, source, original.published_at + timedelta(hours=hours), tags=list(original.tags),
                cluster_key=original.key, method=method, similarity=similarity)
        )  # fmt: skip
    return docs


@dataclass
class Corpus:
    docs: list[Doc]
    clusters: dict[str, uuid.UUID]  # cluster key → cluster id

    def by_key(self, key: str) -> Doc:
        return next(d for d in self.docs if d.key == key)

    def canonical(self) -> list[Doc]:
        return [d for d in self.docs if d.method is None]


def load(ingest: httpx.Client, engine: Engine) -> Corpus:
    """Ingest every doc through the API, wait for the worker, then lay down the known tags and clusters."""
    docs = build_docs()
    r = ingest.post("/v1/articles/batch", json={"articles": [d.payload() for d in docs]})
    assert r.status_code == 202, r.text
    answer = r.json()
    assert not answer["rejected"], answer["rejected"]
    for item in answer["accepted"]:
        docs[item["index"]].id = uuid.UUID(item["id"])
    ids = [d.id for d in docs]

    def processed() -> bool:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM articles WHERE id = ANY(:ids)"), {"ids": ids}) == len(ids)

    wait_for(processed, timeout=180, interval=0.25, what="the corpus to be processed by the worker")
    clusters: dict[str, uuid.UUID] = {}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM article_tags WHERE article_id = ANY(:ids)"), {"ids": ids})
        conn.execute(
            text("DELETE FROM clusters WHERE canonical_id = ANY(:ids) OR id IN "
                 "(SELECT cluster_id FROM articles WHERE id = ANY(:ids))"),
            {"ids": ids},
        )  # fmt: skip
        rows = []
        for d in docs:
            for t in d.tags:
                rows.append({"a": d.id, "k": t.kind, "v": t.value, "n": t.name, "s": t.score, "m": t.mentions,
                             "attrs": json.dumps(t.attrs)})  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO article_tags (article_id, kind, value, tagger, name, score, mentions, tagger_version, "
                "attrs) VALUES (:a, :k, :v, 'fixture', :n, :s, :m, '1', CAST(:attrs AS jsonb))"
            ),
            rows,
        )
        for d in docs:
            key = d.cluster_key or d.key
            if d.method is None:
                members = [m for m in docs if (m.cluster_key or m.key) == key]
                cid = clusters[key] = uuid.uuid4()
                conn.execute(
                    text(
                        "INSERT INTO clusters (id, canonical_id, size, first_published_at, last_published_at) "
                        "VALUES (:id, :c, :size, :first, :last)"
                    ),
                    {"id": cid, "c": d.id, "size": len(members), "first": min(m.published_at for m in members),
                     "last": max(m.published_at for m in members)},
                )  # fmt: skip
        for d in docs:
            key = d.cluster_key or d.key
            canonical = next(m for m in docs if (m.cluster_key or m.key) == key and m.method is None)
            conn.execute(
                text(
                    "UPDATE articles SET cluster_id = :cid, duplicate_of = :dup, is_canonical = :canon, "
                    "dedup_similarity = :sim, dedup_method = :method, dedup_version = 'fixture-1' WHERE id = :id"
                ),
                {"cid": clusters[key], "dup": None if d.method is None else canonical.id,
                 "canon": d.method is None, "sim": d.similarity, "method": d.method, "id": d.id},
            )  # fmt: skip
    return Corpus(docs=docs, clusters=clusters)
