"""Bulk-load the query benchmark database: N articles built from the real texts, loaded with COPY.

The corpus is a plan of *stories*: each story takes a real base document, a start time, and 1 to 200 copies
(72% are single articles; the rest follow a Zipf tail, so about a third of all articles are duplicates, as in
aggregated news). Copies are republications: the same text under another outlet, a rewritten headline, trimmed
paragraphs, an added credit line. Distinct stories built on the same base text get a paragraph of another
article, so no two stories share a body. Publication times span two years with growth, weekday and hour-of-day
cycles; 300 sources follow a Zipf law, each with its language and sections. Every row is derived from the
story's index with its own random generator, so the same settings load the same database.

Secondary indexes and foreign keys are dropped during the load and rebuilt from their saved definitions after
it (the standard bulk-load recipe), then the tables are vacuumed and analysed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from benchmarks.query_corpus import BaseDoc, Tag, load_base_docs

SEED = 20240101
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 731  # 2024-01-01 .. 2025-12-31
END = START + timedelta(days=DAYS)
TAG_FIELDS_TRIGGER = "article_tags_copy_article_fields"  # migration 0007
# The counts kept per hour (migration 0014): off during the load, recomputed once after it.
HOUR_COUNT_TRIGGERS = {
    "articles": ("articles_hour_counts_insert", "articles_hour_counts_update", "articles_hour_counts_delete"),
    "article_tags": ("article_tags_hour_counts_insert", "article_tags_hour_counts_delete"),
}
LOADED_TABLES = ("ingestions", "articles", "clusters", "article_tags")

_WIRES = [
    ("reuters", "en"), ("associated-press", "en"), ("afp", "fr"), ("bbc-news", "en"), ("bloomberg", "en"),
    ("the-guardian", "en"), ("dpa", "de"), ("efe", "es"), ("ansa", "it"), ("kyodo", "en"), ("xinhua", "en"),
    ("al-jazeera", "en"), ("financial-times", "en"), ("le-monde", "fr"), ("der-spiegel", "de"),
]  # fmt: skip
_OTHER_LANGUAGES = ["de", "fr", "es", "it", "pt", "nl", "ar", "sv"]
_SECTIONS = {
    "reuters": ["business", "markets", "commodities", "world"],
    "bbc": ["news", "uk", "world"],
    "seed": ["world"],
}
_TITLE_REWRITES = ["UPDATE 1-", "UPDATE 2-", "Analysis: ", "Factbox: ", "", "BREAKING: "]
_CREDITS = ["Source: Reuters", "Source: AFP", "Reporting by staff; editing by the desk", "Source: News Agencies"]
_RULE_TAGS = ["markets-watch", "breaking", "sanctions", "energy-desk", "elections-2025"]
_TAGGER_VERSION = {
    "language": "1",
    "gazetteer": "1",
    "spacy-ner": "3.8.0",
    "iptc-rules": "1",
    "keyphrases": "1",
    "vader": "3.3.2",
}


@dataclass(frozen=True)
class Source:
    name: str
    language: str


def sources(rng: np.random.Generator) -> tuple[list[Source], np.ndarray]:
    """300 sources with Zipf-distributed volume; wires first, then regional outlets."""
    out = [Source(n, lang) for n, lang in _WIRES]
    while len(out) < 300:
        lang = "en" if rng.random() < 0.8 else str(rng.choice(_OTHER_LANGUAGES))
        out.append(Source(f"outlet-{len(out):03d}", lang))
    weights = 1.0 / np.arange(1, len(out) + 1) ** 1.05
    return out, weights / weights.sum()


def _time_weights() -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(DAYS)
    weekday = np.array([(START + timedelta(days=int(d))).weekday() for d in days])
    day_w = (1.0 + 0.5 * days / DAYS) * np.where(weekday >= 5, 0.55, 1.0)
    hour_w = np.array([0.3, 0.25, 0.2, 0.2, 0.3, 0.5, 0.8, 1.1, 1.4, 1.6, 1.7, 1.7,
                       1.6, 1.6, 1.6, 1.5, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7, 0.5, 0.4])  # fmt: skip
    return day_w / day_w.sum(), hour_w / hour_w.sum()


@dataclass(frozen=True)
class Plan:
    sizes: np.ndarray  # copies per story
    bases: np.ndarray
    starts: np.ndarray  # seconds since START
    source_weights: np.ndarray
    sources: list[Source]


def make_plan(n_articles: int, n_bases: int) -> Plan:
    rng = np.random.default_rng(SEED)
    est = int(n_articles / 1.4) + 1000
    sizes = np.where(rng.random(est) < 0.72, 1, 1 + np.minimum(rng.zipf(2.5, est), 199))
    cum = np.cumsum(sizes)
    n_stories = int(np.searchsorted(cum, n_articles)) + 1
    sizes = sizes[:n_stories].copy()
    sizes[-1] -= int(cum[n_stories - 1] - n_articles)
    day_w, hour_w = _time_weights()
    day = rng.choice(DAYS, size=n_stories, p=day_w)
    hour = rng.choice(24, size=n_stories, p=hour_w)
    starts = day * 86400 + hour * 3600 + rng.integers(0, 3600, n_stories)
    order = np.argsort(starts, kind="stable")  # stories in time order, like a live system's ids
    srcs, weights = sources(rng)
    return Plan(
        sizes=sizes[order],
        bases=rng.integers(0, n_bases, n_stories),
        starts=starts[order],
        source_weights=weights,
        sources=srcs,
    )


def _uuid7(at: datetime, rnd: random.Random) -> uuid.UUID:
    ms = int(at.timestamp() * 1000)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rnd.getrandbits(12) << 64 | 0b10 << 62 | rnd.getrandbits(62)
    return uuid.UUID(int=value)


def _slug(title: str) -> str:
    return "-".join("".join(c for c in w if c.isalnum()) for w in title.lower().split()[:8])


@dataclass
class Row:
    article: tuple[Any, ...]
    ingestion: tuple[Any, ...]
    tags: list[tuple[Any, ...]]


def story_rows(index: int, plan: Plan, docs: list[BaseDoc]) -> tuple[tuple[Any, ...], list[Row]]:
    """The cluster row and the article rows of one story, derived only from its index."""
    rnd = random.Random(SEED * 1_000_003 + index)
    base = docs[int(plan.bases[index])]
    size = int(plan.sizes[index])
    first = START + timedelta(seconds=int(plan.starts[index]))
    paras = list(base.paragraphs)
    if rnd.random() < 0.6:  # a paragraph from another article makes this story's text its own
        other = docs[rnd.randrange(len(docs))]
        paras.insert(rnd.randint(1, len(paras)), other.paragraphs[rnd.randrange(len(other.paragraphs))])
    summary = paras.pop(0) if len(paras) > 2 and rnd.random() < 0.5 else None
    source_ix = np.searchsorted(np.cumsum(plan.source_weights), [rnd.random() for _ in range(size)])
    section = rnd.choice(_SECTIONS[base.corpus])
    cluster_id = _uuid7(first, rnd)
    rows: list[Row] = []
    times = sorted(
        [first] + [first + timedelta(seconds=min(172_800, rnd.expovariate(1 / 10_800))) for _ in range(size - 1)]
    )
    canonical_id: uuid.UUID | None = None
    for member, published in enumerate(times):
        src = plan.sources[int(min(source_ix[member], len(plan.sources) - 1))]
        title, body_paras, credit = base.title, list(paras), None
        method, similarity = None, None
        if member > 0:
            kind = rnd.random()
            if kind < 0.3:
                method, similarity = "exact:content_hash", 1.0
            elif kind < 0.55:
                title = rnd.choice(_TITLE_REWRITES) + title
                method, similarity = "near:minhash", round(rnd.uniform(0.9, 0.99), 4)
            elif kind < 0.8 and len(body_paras) > 2:
                body_paras = body_paras[: rnd.randint(max(1, len(body_paras) // 2), len(body_paras) - 1)]
                method, similarity = "near:containment", round(rnd.uniform(0.8, 0.97), 4)
            else:
                credit = rnd.choice(_CREDITS)
                method, similarity = "near:minhash", round(rnd.uniform(0.85, 0.98), 4)
        received = published + timedelta(seconds=rnd.lognormvariate(5.5, 1.0))
        processed = received + timedelta(seconds=rnd.uniform(0.5, 4))
        article_id = _uuid7(received, rnd)
        if member == 0:
            canonical_id = article_id
        body = "\n\n".join(body_paras)
        external_id = f"{src.name}-{index}-{member}"
        url = f"https://{src.name}.example/{published:%Y/%m/%d}/{_slug(title)}-{index}"
        words = len(body.split())
        article = (
            article_id, src.name, external_id, url + ("?utm_source=feed" if rnd.random() < 0.2 else ""), url,
            title, summary, body, credit, None, [], section, "{}", src.language, round(rnd.uniform(0.9, 1.0), 3),
            words, hashlib.sha256(body.encode()).digest(), hashlib.sha256(title.lower().encode()).digest(),
            published, True, received, processed, "1", cluster_id,
            None if member == 0 else canonical_id, member == 0, similarity, method, "dedup-1",
        )  # fmt: skip
        ingestion = (article_id, src.name, external_id, "api", "{}", "processed", 1, received, processed, processed)
        canonical = member == 0
        tags = [_tag_row(article_id, t, published, canonical) for t in base.tags]
        language = Tag("language", src.language, src.language, 0.97, tagger="language")
        tags.append(_tag_row(article_id, language, published, canonical))
        if rnd.random() < 0.04:
            rule = rnd.choice(_RULE_TAGS)
            tagger = f"rule:{_RULE_TAGS.index(rule) + 1}"
            tags.append((article_id, "rule", rule, tagger, rule, 1.0, 1, "1", "{}", published, canonical))
        rows.append(Row(article, ingestion, tags))
    assert canonical_id is not None
    cluster = (cluster_id, canonical_id, size, times[0], times[-1], times[0], times[-1])
    return cluster, rows


def _tag_row(article_id: uuid.UUID, t: Tag, published: datetime, canonical: bool) -> tuple[Any, ...]:
    attrs = json.dumps(t.attrs) if t.attrs else "{}"
    version = _TAGGER_VERSION[t.tagger]
    return (article_id, t.kind, t.value, t.tagger, t.name, t.score, t.mentions, version, attrs, published, canonical)


ARTICLE_COLUMNS = (
    "id, source, external_id, url, canonical_url, title, summary, body, credit, caption, authors, section, "
    "metadata, language, language_score, word_count, content_hash, title_hash, published_at, published_at_given, "
    "received_at, processed_at, pipeline_version, cluster_id, duplicate_of, is_canonical, dedup_similarity, "
    "dedup_method, dedup_version"
)
INGESTION_COLUMNS = "id, source, external_id, channel, payload, state, attempts, received_at, updated_at, processed_at"
CLUSTER_COLUMNS = "id, canonical_id, size, first_published_at, last_published_at, created_at, updated_at"
# The article's date and flag are written here, with the trigger that copies them off during the load.
TAG_COLUMNS = (
    "article_id, kind, value, tagger, name, score, mentions, tagger_version, attrs, published_at, is_canonical"
)


def _iter_stories(plan: Plan, worker: int, workers: int) -> Iterator[int]:
    return iter(range(worker, len(plan.sizes), workers))


def _load_part(dsn: str, plan: Plan, docs: list[BaseDoc], worker: int, workers: int, progress: Any) -> None:
    with ExitStack() as stack:
        conns = [stack.enter_context(psycopg.connect(dsn)) for _ in LOADED_TABLES]
        ing, art, clu, tag = (
            stack.enter_context(conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN"))
            for conn, table, columns in zip(
                conns, LOADED_TABLES, (INGESTION_COLUMNS, ARTICLE_COLUMNS, CLUSTER_COLUMNS, TAG_COLUMNS), strict=True
            )
        )
        done = 0
        for index in _iter_stories(plan, worker, workers):
            cluster, rows = story_rows(index, plan, docs)
            clu.write_row(cluster)
            for row in rows:
                ing.write_row(row.ingestion)
                art.write_row(row.article)
                for t in row.tags:
                    tag.write_row(t)
            done += len(rows)
            if done >= 5000:
                with progress.get_lock():
                    progress.value += done
                done = 0
        with progress.get_lock():
            progress.value += done
        # Leaving the stack ends each COPY, then each connection's context commits it.


def _saved_definitions(conn: psycopg.Connection) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The CREATE INDEX statements of the secondary indexes and the foreign keys of the loaded tables."""
    indexes = [
        r[0]
        for r in conn.execute(
            """SELECT indexdef FROM pg_indexes i
               WHERE schemaname = 'public' AND tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            (list(LOADED_TABLES),),
        )
    ]
    fks = [
        (r[0], r[1], r[2])
        for r in conn.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)""",
            (list(LOADED_TABLES),),
        )
    ]
    return indexes, fks


def _has_hour_counts(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('tag_hour_counts')").fetchone() not in (None, (None,))


# The tables the queries read, the counts kept per hour included: what ``settle`` keeps vacuumed and analysed.
READ_TABLES = (*LOADED_TABLES, "article_hour_counts", "tag_hour_counts")
# A table whose visibility map covers less than this share of its pages loses its index-only scans.
MIN_ALL_VISIBLE = 0.95


def unsettled_tables(conn: psycopg.Connection) -> list[str]:
    """The read tables autovacuum would vacuum or analyse now (its default thresholds), or whose visibility map
    has fallen behind (a bulk update, statistics lost in a crash): each would be planned from stale statistics,
    or read row by row from the heap instead of from its covering indexes alone."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
           WHERE c.relname = ANY(%s) AND (
               s.last_analyze IS NULL AND s.last_autoanalyze IS NULL
               OR s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
               OR s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)
               OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0)
               OR c.relpages > 0 AND c.relallvisible < %s * c.relpages)
           ORDER BY c.relname""",
        (list(READ_TABLES), MIN_ALL_VISIBLE),
    )
    return [r[0] for r in rows]


def settle(dsn: str, *, log: Any = print) -> list[str]:
    """Vacuum and analyse what autovacuum would have by now (see ``unsettled_tables``): a benchmark server may
    run with autovacuum off, and a migration applied to a loaded database may rewrite or update its rows."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        tables = unsettled_tables(conn)
        for table in tables:
            log(f"  VACUUM (ANALYZE) {table}")
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return tables


def load(dsn: str, n_articles: int, *, workers: int = 2, log: Any = print) -> dict[str, Any]:
    """Empty the loaded tables and fill them with ``n_articles`` articles; return timings."""
    timings: dict[str, Any] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        indexes, fks = _saved_definitions(conn)
        conn.execute(f"TRUNCATE {', '.join(LOADED_TABLES)} CASCADE")
        for table, name, _ in fks:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for ddl in indexes:
            name = ddl.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            conn.execute(f"DROP INDEX {name}")
        conn.execute(f"ALTER TABLE article_tags DISABLE TRIGGER {TAG_FIELDS_TRIGGER}")
        counted = _has_hour_counts(conn)
        for table, names in HOUR_COUNT_TRIGGERS.items() if counted else ():
            for name in names:
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    started = time.perf_counter()
    docs = load_base_docs()
    plan = make_plan(n_articles, len(docs))
    timings["corpus_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    progress = mp.Value("q", 0)
    ctx = mp.get_context("fork")  # the children share the parsed corpus and the plan
    procs = [ctx.Process(target=_load_part, args=(dsn, plan, docs, w, workers, progress)) for w in range(workers)]
    for p in procs:
        p.start()
    while any(p.is_alive() for p in procs):
        for p in procs:
            p.join(timeout=30)
        elapsed = time.perf_counter() - started
        log(f"  loaded {progress.value:,} / {n_articles:,} articles ({progress.value / max(elapsed, 1e-9):,.0f}/s)")
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("a loader process failed")
    timings["copy_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        for ddl in indexes:
            log(f"  {ddl[:110]}")
            conn.execute(ddl)
        for table, name, definition in fks:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.execute(f"ALTER TABLE article_tags ENABLE TRIGGER {TAG_FIELDS_TRIGGER}")
        for table, names in HOUR_COUNT_TRIGGERS.items() if counted else ():
            for name in names:
                conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
    timings["index_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in LOADED_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        if conn.execute("SELECT to_regclass('tag_stats')").fetchone() not in (None, (None,)):
            conn.execute("SET statement_timeout = 0")
            conn.execute("REFRESH MATERIALIZED VIEW tag_stats")
        if counted:
            conn.execute("SET statement_timeout = 0")
            conn.execute("SET work_mem = '256MB'")
            conn.execute("SELECT refresh_hour_counts()")
            conn.execute("VACUUM (ANALYZE) article_hour_counts, tag_hour_counts")
    timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
    return timings
