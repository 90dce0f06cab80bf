"""Event grouping benchmark (``make bench-events``) on the SemEval-2022 task 8 pairs, and the engine's speed.

* Data: ``semeval2022_task8_dev/pairs.csv``: 1,018 news article pairs in 10 languages (some pairs across two
  languages), each with both texts and annotators' ratings; ``Overall`` runs from 1 (very similar: the same
  event) to 4 (very dissimilar). Pairs rated 1-1.5 should share an event, pairs rated >= 3.5 should not;
  the rest, neither clearly one event nor clearly two, are left out. The texts carry no publication dates:
  every article is taken as published on the same day, so the time window plays no part here (the tests
  cover it).
* Entities and places: the project's own taggers (``entities``, ``places``) over the title and lead, as in
  the worker; they know English names best, so non-English articles lean on their text.
* Split: the pairs are shuffled with a fixed seed and cut in two halves; the thresholds are chosen on the
  first ("tune") and every figure is reported on the second ("test").
* Pair rates: a pair counts as together when the engine's verification accepts it (strong text, or text plus
  a shared entity or place). Reported overall and per language group (English, other same-language,
  cross-language).
* B-cubed: the gold clustering is the connected components of the test half's same-event pairs (every other
  article alone); the predicted one comes from grouping the test half's articles incrementally, in a fixed
  shuffled order, with the engine and its in-memory index. Unrated article pairs that the engine joins count
  against precision, so it is a lower bound.
* Speed: featurize + index look-up + scoring per article, CPU time on one core, over every article of the
  file repeated with fresh ids onto one day (so each look-up sees a full day's index); index keys per article.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.events.engine import EventFeatures, MemoryIndex, best_verdict, compare, featurize, top_candidates
from shared.events.settings import EventSettings, get_event_settings
from shared.tagging.base import Document
from shared.tagging.settings import get_tagging_settings
from shared.tagging.taggers import Taggers
from shared.tagging.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "semeval2022_task8_dev" / "pairs.csv"
RESULTS = ROOT / "benchmarks" / "results" / "events.json"
SEED = 20260601
SAME_MAX, UNRELATED_MIN = 1.5, 3.5
NOW = datetime(2020, 6, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Text:
    id: str
    language: str
    title: str
    body: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    overall: float
    group: str

    @property
    def same(self) -> bool:
        return self.overall <= SAME_MAX


def split_title(text: str) -> tuple[str, str]:
    """The file joins title and body with two spaces; a text without them has no title."""
    text = text.strip()
    head, sep, rest = text.partition("  ")
    return (head, rest) if sep and len(head) <= 300 else ("", text)


def read_pairs(path: Path) -> tuple[dict[str, Text], list[Pair]]:
    texts: dict[str, Text] = {}
    pairs: list[Pair] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            overall = float(row["Overall"])
            if SAME_MAX < overall < UNRELATED_MIN:
                continue
            a, b = row["pair_id"].split("_")
            for id_, lang, raw in ((a, row["lang1"], row["text1"]), (b, row["lang2"], row["text2"])):
                title, body = split_title(raw)
                texts.setdefault(id_, Text(id_, lang, title, body))
            l1, l2 = row["lang1"], row["lang2"]
            group = "en" if l1 == l2 == "en" else ("same-language, not en" if l1 == l2 else "cross-language")
            pairs.append(Pair(a, b, overall, group))
    return texts, pairs


def tag_entities(texts: dict[str, Text], lead_words: int) -> dict[str, list[str]]:
    """``kind:value`` of the named entities and places our taggers find in each title and lead."""
    taggers = Taggers(get_tagging_settings(), only=("entities", "places"))
    docs = [
        Document(id=t.id, title=t.title, body=" ".join(t.body.split()[:lead_words]), language=t.language)
        for t in texts.values()
    ]
    out: dict[str, list[str]] = {}
    for doc, tags in zip(docs, taggers.tag(docs, []), strict=True):
        out[str(doc.id)] = sorted({f"{t.kind}:{t.value}" for t in tags if t.kind in vocabulary().entity_kinds})
    return out


def features(texts: dict[str, Text], entities: dict[str, list[str]], s: EventSettings) -> dict[str, EventFeatures]:
    return {
        t.id: featurize(
            title=t.title, body=t.body, language=t.language, entities=entities[t.id], published_at=NOW, settings=s
        )
        for t in texts.values()
    }


def rates(pairs: Sequence[Pair], feats: dict[str, EventFeatures], s: EventSettings) -> dict[str, Any]:
    together = {"same": 0, "unrelated": 0}
    total = {"same": 0, "unrelated": 0}
    for p in pairs:
        label = "same" if p.same else "unrelated"
        total[label] += 1
        together[label] += compare(feats[p.a], feats[p.b], p.b, s).rule is not None
    return {
        "same_event_together": round(together["same"] / total["same"], 4) if total["same"] else None,
        "unrelated_together": round(together["unrelated"] / total["unrelated"], 4) if total["unrelated"] else None,
        "same_event_pairs": total["same"],
        "unrelated_pairs": total["unrelated"],
    }


def tune(pairs: Sequence[Pair], feats: dict[str, EventFeatures], base: EventSettings) -> EventSettings:
    """The thresholds that keep unrelated pairs at or under 4% (a margin under the 5% target, for pairs we do
    not have) with the most same-event pairs together; among those within one point of the best, the highest
    strong-text threshold, so that a moderate text match needs a shared name to back it."""
    scored: list[tuple[float, float, EventSettings]] = []
    for text_t in [x / 100 for x in range(5, 61)]:
        for strong_t in [x / 100 for x in range(20, 91, 2)]:
            if strong_t < text_t:
                continue
            s = base.model_copy(update={"text_threshold": text_t, "strong_threshold": strong_t})
            r = rates(pairs, feats, s)
            if r["unrelated_together"] <= 0.04:
                scored.append((r["same_event_together"], r["unrelated_together"], s))
    top = max(same for same, _, _ in scored)
    near = [c for c in scored if c[0] >= top - 0.01]
    return max(near, key=lambda c: (c[2].strong_threshold, -c[1], c[0]))[2]


def group_incrementally(
    order: Sequence[str], feats: dict[str, EventFeatures], s: EventSettings
) -> tuple[dict[str, str], float, int]:
    """Each article joins its best verified candidate's event, or founds one: the worker's rule, in memory."""
    index = MemoryIndex(s)
    event: dict[str, str] = {}
    started = time.process_time()
    for item in order:
        f = feats[item]
        shared = index.query(f)
        candidates = [(c, feats[str(c)]) for c in top_candidates(shared, s.max_candidates)]
        verdict, _ = best_verdict(f, candidates, s)
        event[item] = event[str(verdict.candidate)] if verdict else item
        index.add(item, f)
    return event, time.process_time() - started, sum(len(r) for r in index.rows.values())


def bcubed(gold: dict[str, str], predicted: dict[str, str]) -> dict[str, float]:
    gold_members: dict[str, set[str]] = defaultdict(set)
    pred_members: dict[str, set[str]] = defaultdict(set)
    for item, g in gold.items():
        gold_members[g].add(item)
        pred_members[predicted[item]].add(item)
    precision = recall = 0.0
    for item in gold:
        g, p = gold_members[gold[item]], pred_members[predicted[item]]
        both = len(g & p)
        precision += both / len(p)
        recall += both / len(g)
    n = len(gold)
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "articles": n}


def components(items: set[str], pairs: Sequence[Pair]) -> dict[str, str]:
    parent = {i: i for i in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.same:
            ra, rb = find(p.a), find(p.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in items}


def speed(texts: dict[str, Text], entities: dict[str, list[str]], s: EventSettings, copies: int) -> dict[str, Any]:
    """CPU time per article for featurize + look-up + scoring, over ``copies`` passes of every text."""
    items = [(f"{c}:{t.id}", t) for c in range(copies) for t in texts.values()]
    index = MemoryIndex(s)
    feats: dict[str, EventFeatures] = {}
    started = time.process_time()
    for key, t in items:
        f = featurize(
            title=t.title, body=t.body, language=t.language, entities=entities[t.id], published_at=NOW, settings=s
        )
        feats[key] = f
        candidates = [(c, feats[str(c)]) for c in top_candidates(index.query(f), s.max_candidates)]
        best_verdict(f, candidates, s)
        index.add(key, f)
    elapsed = time.process_time() - started
    keys = sum(len(f.keys) for f in feats.values())
    return {
        "articles": len(items),
        "ms_per_article": round(1000 * elapsed / len(items), 3),
        "index_keys_per_article": round(keys / len(items), 2),
        "index_rows": len(index.rows),
        "postgres_rows_locked_per_article": round(keys * 2 / len(items), 1),
    }


def db_index(feats: list[EventFeatures], s: EventSettings, batch: int = 200) -> dict[str, Any]:
    """The PostgreSQL candidate index as the worker uses it: per batch, one upsert (write, lock, look-up)
    plus one read of the earlier days, one transaction per batch; then the table's size."""
    import os
    import uuid
    from contextlib import suppress

    from sqlalchemy import text

    from devtools import infra as infra_mod
    from devtools.processes import alembic_upgrade
    from shared.config import DatabaseSettings
    from shared.db.engine import make_engine, make_sessionmaker
    from shared.events.index import index_batch
    from shared.ids import uuid7

    infra = infra_mod.resolve(ROOT / ".data" / "bench")
    name = f"tidings_bench_events_{os.getpid()}"
    try:
        url = infra_mod.ensure_database(infra, name, fresh=True)
        alembic_upgrade({"DATABASE_URL": url}, ROOT)
        engine = make_engine(DatabaseSettings(**{"DATABASE_URL": url}), application_name="tidings-bench")
        sessions = make_sessionmaker(engine)
        ids: list[uuid.UUID] = [uuid7() for _ in feats]
        found = 0
        started = time.perf_counter()
        for start in range(0, len(feats), batch):
            chunk = range(start, min(start + batch, len(feats)))
            with sessions.begin() as session:
                rows = index_batch(
                    session,
                    [(feats[i].day, feats[i].keys, ids[i]) for i in chunk],
                    window_days=s.window_days,
                    cap=s.bucket_cap,
                )
            found += sum(len(v) for v in rows.values())
        elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            count, size = conn.execute(
                text("SELECT count(*), pg_total_relation_size('event_keys') FROM event_keys")
            ).one()
        engine.dispose()
        return {
            "articles": len(feats),
            "batch": batch,
            "ms_per_article": round(1000 * elapsed / len(feats), 3),
            "index_rows": count,
            "index_bytes_per_article": round(size / len(feats)),
            "note": "one upsert and one read per batch, one transaction each; the server on this shared machine",
        }
    except Exception as exc:  # the in-process figures stand without it
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    finally:
        with suppress(Exception):
            infra_mod.drop_database(infra, name)
        infra.stop()


def spread_over_days(texts: dict[str, Text], entities: dict[str, list[str]], s: EventSettings, copies: int):  # type: ignore[no-untyped-def]
    """Every text ``copies`` times, published over a week (so rows of several days meet in the window)."""
    out = []
    for c in range(copies):
        for n, t in enumerate(texts.values()):
            moment = NOW + timedelta(hours=(n * 7 + c * 13) % (24 * 7))
            out.append(
                featurize(
                    title=t.title,
                    body=t.body,
                    language=t.language,
                    entities=entities[t.id],
                    published_at=moment,
                    settings=s,
                )
            )
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=5, help="passes over the texts for the speed figure")
    args = parser.parse_args(argv)
    base = get_event_settings()
    texts, pairs = read_pairs(DATA)
    started = time.perf_counter()
    entities = tag_entities(texts, base.lead_words)
    tagging_s = time.perf_counter() - started
    feats = features(texts, entities, base)
    shuffled = sorted(pairs, key=lambda p: (p.a, p.b))
    random.Random(SEED).shuffle(shuffled)
    half = len(shuffled) // 2
    tune_half, test_half = shuffled[:half], shuffled[half:]
    # A lexical model cannot match across languages: the thresholds are tuned on same-language pairs only.
    tuned = tune([p for p in tune_half if p.group != "cross-language"], feats, base)
    groups = sorted({p.group for p in test_half})
    test_items = {i for p in test_half for i in (p.a, p.b)}
    order = sorted(test_items)
    random.Random(SEED).shuffle(order)
    predicted, group_s, _ = group_incrementally(order, feats, tuned)
    result = {
        "benchmark": "events",
        "data": "semeval2022_task8_dev/pairs.csv (Overall <= 1.5 same event, >= 3.5 unrelated)",
        "split": f"pairs shuffled with seed {SEED}; thresholds tuned on the first half, reported on the second",
        "dates": "the pairs carry no publication dates: all articles taken as published on one day",
        "tuned": {"text_threshold": tuned.text_threshold, "strong_threshold": tuned.strong_threshold},
        "defaults": {"text_threshold": base.text_threshold, "strong_threshold": base.strong_threshold},
        "tuned_on": "same-language pairs of the tune half (cross-language pairs are reported, not tuned on)",
        "tune_half": rates(tune_half, feats, tuned),
        "test_half_same_language": rates([p for p in test_half if p.group != "cross-language"], feats, tuned),
        "test_half": rates(test_half, feats, tuned),
        "test_half_with_defaults": rates(test_half, feats, base),
        "test_half_by_language": {g: rates([p for p in test_half if p.group == g], feats, tuned) for g in groups},
        "bcubed_test_half": bcubed(components(test_items, test_half), predicted),
        "gold_events_test_half": len(set(components(test_items, test_half).values())),
        "predicted_events_test_half": len(set(predicted.values())),
        "speed": speed(texts, entities, tuned, args.copies),
        "postgres_index": db_index(spread_over_days(texts, entities, tuned, args.copies), tuned),
        "tagging_s_for_entities": round(tagging_s, 1),
        "grouping_s_test_half": round(group_s, 3),
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
        "languages": dict(Counter(t.language for t in texts.values()).most_common()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
