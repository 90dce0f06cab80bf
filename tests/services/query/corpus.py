"""A small real corpus for the query tests: articles from ``../shared/data`` ingested through the API and
processed by the real worker, then given known tags and story clusters.

The dedup and tagging stages write the same contract tables as they evolve; the query tests need exact
expectations, so once the articles are processed the fixture replaces their ``article_tags`` and dedup columns
with rows derived here from the texts themselves (places, people and organisations that occur in the text,
the BBC folder's IPTC topic, keywords by frequency). Expected answers are computed from these ``Doc``
objects, never typed in.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.support import DATA, SEED_ARTICLE, wait_for

BBC_TOPICS = {
    "business": "04000000",
    "entertainment": "01000000",
    "politics": "11000000",
    "sport": "15000000",
    "tech": "13000000",
}
TOPIC_NAMES = {
    "01000000": "arts, culture, entertainment and media",
    "04000000": "economy, business and finance",
    "11000000": "politics",
    "13000000": "science and technology",
    "15000000": "sport",
    "16000000": "conflict, war and peace",
}
# A tiny gazetteer: name → (GeoNames id, country code, lat, lon).
PLACES = {
    "Damascus": (170654, "SY", 33.5102, 36.29128),
    "Aleppo": (170063, "SY", 36.20124, 37.16117),
    "Iraq": (99237, "IQ", 33.0, 44.0),
    "Iran": (130758, "IR", 32.0, 53.0),
    "Turkey": (298795, "TR", 39.0, 35.0),
    "Lebanon": (272103, "LB", 33.83333, 35.83333),
    "London": (2643743, "GB", 51.50853, -0.12574),
    "Japan": (1861060, "JP", 35.68536, 139.75309),
    "China": (1814991, "CN", 35.0, 105.0),
    "France": (3017382, "FR", 46.0, 2.0),
    "Germany": (2921044, "DE", 51.5, 10.5),
    "Europe": (6255148, "", 48.69096, 9.14062),
    "Scotland": (2638360, "GB", 56.0, -4.0),
    "Wales": (2634895, "GB", 52.5, -3.5),
    "Brazil": (3469034, "BR", -10.0, -55.0),
    "Washington": (4140963, "US", 38.89511, -77.03637),
}
PEOPLE = [
    "Bashar al-Assad", "Tony Blair", "Gordon Brown", "Michael Howard", "Charles Kennedy", "Patricia Hewitt",
    "Bill Gates", "Alan Greenspan", "George Bush", "Jose Mourinho", "Sir Alex Ferguson",
]  # fmt: skip
ORGS = [
    "Hezbollah", "Reuters", "UN", "Microsoft", "Apple", "Google", "Sony", "Labour", "Conservatives",
    "European Union", "Chelsea", "Arsenal", "BBC", "Federal Reserve", "World Bank", "OPEC", "IMF",
]  # fmt: skip
SOURCES = ["bbc-news", "the-guardian", "reuters", "afp"]
STOP = {"that", "with", "have", "this", "from", "they", "their", "which", "would", "about", "there", "been", "were"}
START = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


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


def _bbc(folder: str, count: int) -> list[tuple[str, str, str]]:
    out, bodies = [], set()
    for path in sorted((DATA / "bbc" / folder).glob("*.txt")):
        raw = path.read_bytes().decode("utf-8", errors="replace")
        title, _, body = raw.partition("\n")
        body = "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip())
        if body in bodies or not title.strip():
            continue  # the BBC set holds exact duplicates: keep one of each
        bodies.add(body)
        out.append((f"bbc-{folder}-{path.stem}", title.strip(), body))
        if len(out) == count:
            break
    return out


def _reuters(count: int) -> list[tuple[str, str, str]]:
    raw = (DATA / "reuters21578" / "reut2-000.sgm").read_text(encoding="latin-1")
    out = []
    for n, block in enumerate(re.findall(r"<REUTERS\b.*?</REUTERS>", raw, re.S)):
        title = re.search(r"<TITLE>(.*?)</TITLE>", block, re.S)
        body = re.search(r"<BODY>(.*?)</BODY>", block, re.S)
        if not title or not body or len(body.group(1)) < 600:
            continue
        paras = [" ".join(p.split()) for p in re.split(r"\n\s{3,}", html.unescape(body.group(1))) if p.strip()]
        paras = [re.sub(r"\s*Reuter\s*\x03?$", "", p) for p in paras]
        out.append((f"reuters-{n}", html.unescape(title.group(1)).strip().title(), "\n\n".join(paras)))
        if len(out) == count:
            break
    return out


def build_docs() -> list[Doc]:
    docs: list[Doc] = []
    seed = SEED_ARTICLE.read_text()
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", seed) if b.strip()]
    seed_title, seed_summary = blocks[0], blocks[1]
    seed_body = "\n\n".join(b for b in blocks[2:] if not b.startswith("Source:"))
    docs.append(
        Doc(
            "seed", seed_title, seed_body, "newsdesk", datetime(2025, 3, 30, 0, 30, tzinfo=UTC),
            summary=seed_summary, tags=derive_tags(seed_title, seed_body, ["16000000", "11000000"]),
        )
    )  # fmt: skip
    i = 0
    for folder, topic in BBC_TOPICS.items():
        for key, title, body in _bbc(folder, 6):
            published = START + timedelta(hours=17 * i + (i % 5))
            language = "de" if i % 11 == 3 else "en"  # declared by the sender: the pipeline keeps it
            docs.append(
                Doc(key, title, body, SOURCES[i % len(SOURCES)], published, language,
                    tags=derive_tags(title, body, [topic]))
            )  # fmt: skip
            i += 1
    for key, title, body in _reuters(10):
        published = START + timedelta(hours=13 * i + 3)
        docs.append(Doc(key, title, body, "reuters-wire", published, tags=derive_tags(title, body, ["04000000"])))
        i += 1
    # A story republished three times: same text elsewhere, a rewritten headline, a trimmed copy.
    original = next(d for d in docs if d.key.startswith("bbc-politics"))
    paras = original.body.split("\n\n")
    copies = [
        ("copy-exact", original.title, original.body, "afp", 2, "exact:content_hash", 1.0),
        ("copy-headline", "UPDATE 1-" + original.title, original.body, "the-guardian", 5, "near:minhash", 0.93),
        ("copy-trimmed", original.title, "\n\n".join(paras[: max(1, len(paras) - 2)]), "reuters", 9,
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
