"""Partial-reuse benchmark (``make bench-reuse``): local rewrites of wire stories, distinct briefs, speed.

Copies are built from real articles with a fixed seed, the way a local outlet rewrites a wire story: the lead
paragraph replaced by a paragraph of another article, 30-85% of the remaining paragraphs kept in order (the
50-80% of the issue inside that range, with the 30-60% band for the link rate), one or two paragraphs of
other articles inserted, house-style word edits ("per cent", "US", "million", "says", a dropped word now and
then). The ground truth is the share of the original's words the copy keeps, before the edits.

* Recall: copies keeping ≥ 60% of the original must join its cluster (target ≥ 0.95); the link rate of copies
  keeping 30-60% (linked or joined).
* False merges among distinct articles: the originals are streamed through the engine in order, and a join
  by the ``reuse`` rule between two originals that are not copies of each other is counted. Copies of each
  other are the near-duplicate groups of ``benchmarks.dedup`` and the agency's own re-sends, which those
  miss: a title marked ``CORRECTED``/``REPEAT`` of the other, or the same title telling the same figures, or
  the same names and figures; and pairs that brute force shows are the same text (``same_text``: 60% of one
  kept verbatim in the other, the copy line). The rest count as false, an upper bound. Any merge between
  Reuters earnings briefs of different companies (same boilerplate, different numbers; a company known by its
  name or its ticker) is counted too.
* Speed per copy (features + candidates + decision, in process), index entries per article, and the
  PostgreSQL index path (featurize + one upsert per table per batch) with and without passage fingerprints,
  alternating, median of 5 rounds with the range.

Tuning used the Reuters TRAIN split only (``LEWISSPLIT="TRAIN"``); the figures reported are the Reuters TEST
split and BBC News. Figures go to ``benchmarks/results/reuse.json``.
"""

from __future__ import annotations

import difflib
import html
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from typing import Any

import numpy as np

from benchmarks.dedup import DATA, ROOT, _groups, load_bbc
from shared.dedup.engine import Candidate, Features, MemoryIndex, Method, decide, featurize
from shared.dedup.settings import DedupSettings, engine_version, get_dedup_settings
from shared.text.normalise import normalise_body, words

RESULTS = ROOT / "benchmarks" / "results" / "reuse.json"
SEED = 20_261_201
COPIES = 800  # per corpus
ROUNDS = 5
TARGETS = {"recall_60": 0.95, "false_merges": 0}

_HOUSE_STYLE = [
    (r"\bpct\b", "per cent"), (r"\bper cent\b", "percent"), (r"\bU\.S\.", "US"), (r"\bmln\b", "million"),
    (r"\bdlrs\b", "dollars"), (r"\bbillion\b", "bn"), (r"\bsaid\b", "says"), (r"\bMr\.? ", ""),
    (r"\bcompany\b", "firm"), (r"\bgovernment\b", "administration"),
]  # fmt: skip


def load_reuters(split: str) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of the Reuters stories of one Lewis split (``TRAIN`` or ``TEST``)."""
    docs = []
    for path in sorted((DATA / "reuters21578").glob("reut2-*.sgm")):
        raw = path.read_text(encoding="latin-1")
        for attrs, story in re.findall(r"<REUTERS([^>]*)>(.*?)</REUTERS>", raw, re.S):
            body = re.search(r"<BODY>(.*?)</BODY>", story, re.S)
            if not body or f'LEWISSPLIT="{split}"' not in attrs:
                continue
            title = re.search(r"<TITLE>(.*?)</TITLE>", story, re.S)
            text = re.sub(r"\s*Reuter\s*$", "", html.unescape(body.group(1)).replace("\x03", "").strip())
            paras = [" ".join(p.split()) for p in re.split(r"\n {2,}", text) if p.strip()]
            docs.append((html.unescape(title.group(1)) if title else "", paras))
    return docs


def bbc_docs() -> list[tuple[str, list[str]]]:
    return [(t, [p for p in b.split("\n\n") if p.strip()]) for t, b in load_bbc()]


def house_style(paragraph: str, rng: random.Random) -> str:
    for pattern, repl in _HOUSE_STYLE:
        if rng.random() < 0.7:
            paragraph = re.sub(pattern, repl, paragraph)
    toks = paragraph.split(" ")
    # A dropped or doubled word every ~40 words: the subeditor's hand.
    kept = [t for t in toks if rng.random() > 1 / 40]
    return " ".join(kept)


def make_copy(i: int, docs: list[tuple[str, list[str]]], rng: random.Random) -> tuple[str, str, float]:
    """(title, body, share of the original's words kept) of a local rewrite of ``docs[i]``."""
    title, paras = docs[i]
    n = len(paras)
    keep = rng.uniform(0.3, 0.85)
    rest = list(range(1, n))
    chosen = sorted(rng.sample(rest, max(1, round(keep * len(rest)))))
    body = [house_style(paras[j], rng) for j in chosen]
    for _ in range(rng.choice((1, 2))):
        other = docs[rng.randrange(len(docs))][1]
        body.insert(rng.randrange(len(body) + 1), other[rng.randrange(len(other))])
    lead_from = docs[rng.randrange(len(docs))][1]
    body.insert(0, "LOCAL DESK - " + lead_from[0])
    total = sum(len(words(p)) for p in paras)
    share = sum(len(words(paras[j])) for j in chosen) / total
    return f"Local: {title}", "\n\n".join(body), share


_RESEND = re.compile(r"^\W*(?:CORRECTED|CORRECTION|REPEAT|RPT|REFILED)\W*", re.I)


SAME_SLOTS = 0.9  # share of one story's names and figures the other tells, for "the same story, re-sent"


def resent(title_a: str, title_b: str, a: Features, b: Features) -> bool:
    """The agency sent one story twice: a title marked as a correction or repeat of the other, or the same
    title with the same figures (a template filled in anew, such as a daily market report, keeps its title
    but tells other figures)."""
    ta, tb = _RESEND.sub("", title_a).strip().upper(), _RESEND.sub("", title_b).strip().upper()
    if (ta != title_a.strip().upper() or tb != title_b.strip().upper()) and (ta in tb or tb in ta):
        return True
    union = a.numbers | b.numbers
    return ta == tb and (not union or len(a.numbers & b.numbers) >= 0.8 * len(union))


def same_slots(a: Features, b: Features) -> bool:
    """The same story rewritten (a re-send under a new title, or a second agency's version of one release):
    at least ``SAME_SLOTS`` of the distinct names and figures (capitalised words, numbers) of the one that has
    fewer occur in the other's whole text. A template filled in anew (another issuer, another lead manager,
    other amounts) fails it; the engine's rule looks at the gaps between reused passages only, so this label
    is not the engine's own test."""
    slots_a, slots_b = set(a.units[a.slot_units].tolist()), set(b.units[b.slot_units].tolist())
    fewer, other = (slots_a, b) if len(slots_a) <= len(slots_b) else (slots_b, a)
    return bool(fewer) and len(fewer & set(other.units.tolist())) >= SAME_SLOTS * len(fewer)


SAME_TEXT = 0.6  # the copy line: a rewrite keeping this share of the original must join it
SAME_TEXT_RUN = 8  # words in a row both texts carry verbatim, for "the same text"


def same_text(body_a: str, body_b: str) -> bool:
    """Brute force, independent of the engine's grams and fingerprints: one text keeps at least ``SAME_TEXT`` of
    the other's words in passages of ``SAME_TEXT_RUN`` or more words that both carry verbatim, in order
    (difflib's alignment of the two word sequences). That is the benchmark's own line for a copy that must
    join (a rewrite keeping 60% of the wire), so joining such a pair is right whatever the titles say: a story
    re-sent under a rewritten title, or an update that keeps most of the first version. A template filled in
    anew breaks its verbatim runs at every name and figure it changes."""
    wa, wb = words(body_a), words(body_b)
    if not wa or not wb:
        return False
    blocks = difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_matching_blocks()
    shared = sum(m.size for m in blocks if m.size >= SAME_TEXT_RUN)
    return shared >= SAME_TEXT * min(len(wa), len(wb))


class Index:
    """The in-process stand-in for the shared index: LSH bands and passage fingerprints, with features."""

    def __init__(self) -> None:
        self.bands, self.passages = MemoryIndex(), MemoryIndex()
        self.features: dict[int, Features] = {}

    def candidates(self, f: Features, s: DedupSettings) -> list[Candidate]:
        by_band = self.bands.query(f.bands)
        by_passage = Counter[int]()  # as the stage counts: fingerprints that many articles carry do not count
        for k in f.passages.tolist():
            ids = self.passages.buckets.get(k, ())
            if len(ids) < s.reuse_common_ids:
                by_passage.update(ids)
        wanted = {i for i, _ in by_band.most_common(s.max_candidates)}
        wanted |= {i for i, n in by_passage.most_common(s.reuse_candidates) if n >= s.reuse_min_shared}
        return [
            Candidate(
                id=i, rank=(i,), shared_bands=by_band.get(i, 0), shared_passages=by_passage.get(i, 0),
                features=self.features[i],
            )
            for i in wanted
        ]  # fmt: skip

    def add(self, i: int, f: Features) -> None:
        self.bands.add(i, f.bands)
        self.passages.add(i, f.passages)
        self.features[i] = f


def corpus_run(name: str, docs: list[tuple[str, list[str]]], s: DedupSettings) -> dict[str, Any]:
    rng = random.Random(f"{SEED}:{name}")
    bodies = [normalise_body("\n\n".join(p)).body for _, p in docs]
    titles = [t for t, _ in docs]
    feats = featurize(bodies, titles, s)
    groups = _groups(feats, s)
    index = Index()
    reuse_joins = Counter[str]()
    examples: list[dict[str, Any]] = []
    for i, f in enumerate(feats):  # the originals in order: false merges among them by the reuse rule
        d = decide(f, index.candidates(f, s), s)
        if d.match is not None and d.match.method is Method.reuse:
            j = int(d.match.matched)
            if groups[i] == groups[j]:
                kind = "same_story"
            elif resent(titles[i], titles[j], f, feats[j]):
                kind = "resend"
            elif same_slots(f, feats[j]):
                kind = "same_names_and_figures"
            elif same_text(bodies[i], bodies[j]):
                kind = "same_text"
            else:
                kind = "distinct"
            reuse_joins[kind] += 1
            if kind == "distinct" and len(examples) < 10:
                examples.append({"article": titles[i], "joined": titles[j], "share": round(d.match.similarity, 3)})
        index.add(i, f)
    eligible = [i for i, (_, p) in enumerate(docs) if len(p) >= 5 and sum(len(words(x)) for x in p) >= 120]
    picked = rng.sample(eligible, min(COPIES, len(eligible)))
    copies = [make_copy(i, docs, rng) for i in picked]
    started = time.perf_counter()
    cfeats = featurize([normalise_body(b).body for _, b, _ in copies], [t for t, _, _ in copies], s)
    outcomes = []
    for i, f in zip(picked, cfeats, strict=True):
        d = decide(f, index.candidates(f, s), s)
        found = d.match is not None and groups[int(d.match.matched)] == groups[i]
        related = any(groups[int(r.other)] == groups[i] for r in d.reuses)
        outcomes.append((found, related, d.match.method.value if d.match else None))
    per_copy_ms = (time.perf_counter() - started) / len(copies) * 1000
    shares = np.array([c[2] for c in copies])
    joined = np.array([o[0] for o in outcomes])
    linked = np.array([o[0] or o[1] for o in outcomes])
    high, mid = shares >= 0.6, (shares >= 0.3) & (shares < 0.6)
    methods = Counter(o[2] for o, h in zip(outcomes, high, strict=True) if h and o[0])
    return {
        "originals": len(docs),
        "copies": len(copies),
        "copies_reusing_60_or_more": int(high.sum()),
        "recall_60": round(float(joined[high].mean()), 4),
        "copies_reusing_30_to_60": int(mid.sum()),
        "link_rate_30_60": round(float(linked[mid].mean()), 4),
        "joined_30_60": round(float(joined[mid].mean()), 4),
        "deciding_methods_60": dict(methods),
        "reuse_joins_among_originals": dict(reuse_joins),
        "distinct_reuse_join_examples": examples,
        "ms_per_copy": round(per_copy_ms, 3),
        "index_entries_per_article": {
            "bands": round(float(np.mean([f.bands.size for f in feats])), 1),
            "passage_fingerprints": round(float(np.mean([f.passages.size for f in feats])), 1),
        },
    }


_BRIEF = re.compile(r"^(.*?)\s*(?:<([^>]*)>\s*)?(?:1ST|2ND|3RD|4TH) QTR (?:NET|LOSS|OPER)", re.I)
_LEGAL_FORM = re.compile(r"\b(?:INC|CORP|CORPORATION|CO|LTD|PLC|LP)\b\.?", re.I)


def company(title: str) -> tuple[str, str] | None:
    """(name, ticker) of an earnings brief's company, or None for another story. The name drops a re-send's
    marker and the legal form ("CORRECTED - MANHATTAN NATIONAL" is "MANHATTAN NATIONAL CORP"), the ticker its
    exchange suffix ("IRDV.O" is "IRDV"): two briefs are of one company when either agrees, since the desk
    spells the same company several ways."""
    m = _BRIEF.match(_RESEND.sub("", title))
    if not m or not m.group(1).strip():
        return None
    name = " ".join(_LEGAL_FORM.sub(" ", m.group(1).upper()).replace(",", " ").split())
    return name, (m.group(2) or "").split(".")[0].strip().upper()


def same_company(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0] == b[0] or (bool(a[1]) and a[1] == b[1])


def earnings_briefs(s: DedupSettings) -> dict[str, Any]:
    """Reuters earnings briefs of different companies (same tables, same boilerplate): any merge is false."""
    docs = [(t, p) for split in ("TRAIN", "TEST") for t, p in load_reuters(split)]
    briefs = [(c, t, p) for t, p in docs if (c := company(t)) is not None]
    feats = featurize([normalise_body("\n\n".join(p)).body for _, _, p in briefs], [t for _, t, _ in briefs], s)
    index = Index()
    merges = Counter[str]()
    links = 0
    for i, f in enumerate(feats):
        d = decide(f, index.candidates(f, s), s)
        if d.match is not None and not same_company(briefs[int(d.match.matched)][0], briefs[i][0]):
            merges[d.match.method.value] += 1
        links += sum(not same_company(briefs[int(r.other)][0], briefs[i][0]) for r in d.reuses)
        index.add(i, f)
    return {
        "briefs": len(briefs),
        "companies": len({c for c, _, _ in briefs}),
        "company": "the same name (without a re-send marker or legal form) or the same ticker (without exchange)",
        "merges_of_different_companies": dict(merges),
        "reuse_merges_of_different_companies": merges.get(Method.reuse.value, 0),
        "links_between_different_companies": int(links),
    }


def db_throughput(batch: int = 200, stories: int = 6_000) -> dict[str, Any]:
    """The PostgreSQL side of the dedup stage (featurize, one upsert per table per batch with the passage
    fingerprints in the bucket upsert), without reuse (``reuse_window=0``) and with it, alternating on fresh
    databases (which goes first alternates too), ``ROUNDS`` rounds each."""
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import text

    from benchmarks.dedup import with_suppress_drop
    from devtools import infra as infra_mod
    from devtools.processes import alembic_upgrade
    from shared.config import DatabaseSettings
    from shared.db.engine import make_engine, make_sessionmaker
    from shared.dedup.index import index_batch
    from shared.dedup.keys import exact_keys, uuid7_floor
    from shared.text.normalise import content_hash

    docs = load_reuters("TEST") + load_reuters("TRAIN")
    titles = [t for t, _ in docs][:stories]
    bodies = [normalise_body("\n\n".join(p)).body for _, p in docs][:stories]
    infra = infra_mod.resolve(ROOT / ".data" / "bench")
    name = f"tidings_bench_reuse_{os.getpid()}"
    runs: dict[str, list[float]] = {"before": [], "after": []}
    rows: dict[str, tuple[int, int]] = {}
    try:
        for round_ in range(ROUNDS):
            pair = [("before", DedupSettings(reuse_window=0)), ("after", get_dedup_settings())]
            # Which goes first alternates: a fresh database, autovacuum or a neighbour's load favours neither.
            for label, s in pair if round_ % 2 == 0 else pair[::-1]:
                url = infra_mod.ensure_database(infra, name, fresh=True)
                alembic_upgrade({"DATABASE_URL": url}, ROOT)
                engine = make_engine(DatabaseSettings(**{"DATABASE_URL": url}), application_name="tidings-bench")
                sessions = make_sessionmaker(engine)
                base = uuid7_floor(datetime.now(UTC)).int
                ids = [uuid.UUID(int=base | (0x7 << 76) | (1 << 63) | n) for n in range(len(bodies))]
                started = time.perf_counter()
                for start in range(0, len(bodies), batch):
                    chunk = range(start, min(start + batch, len(bodies)))
                    feats = featurize([bodies[i] for i in chunk], [titles[i] for i in chunk], s)
                    band_rows = [
                        (b, h, ids[i])
                        for i, f in zip(chunk, feats, strict=True)
                        for b, h in enumerate(f.bands.tolist())
                    ] + [
                        (s.passage_band, h, ids[i])
                        for i, f in zip(chunk, feats, strict=True)
                        for h in f.passages.tolist()
                    ]
                    key_rows = [
                        (kind.value, key, ids[i])
                        for i, f in zip(chunk, feats, strict=True)
                        for kind, key in exact_keys(
                            content_hash=content_hash(bodies[i]), body=bodies[i], title=titles[i], canonical_url=None,
                            source="reuters", external_id=None, title_hash=content_hash(titles[i]), thin=f.thin,
                            min_title_words=s.min_title_words,
                        ).items()
                    ]  # fmt: skip
                    with sessions.begin() as session:
                        index_batch(
                            session, bands=band_rows, keys=key_rows, now=datetime.now(UTC),
                            window_days=s.window_days, cap=s.bucket_cap,
                        )  # fmt: skip
                runs[label].append(len(bodies) / (time.perf_counter() - started))
                with engine.connect() as conn:
                    counted = conn.execute(
                        text("SELECT (SELECT count(*) FROM lsh_buckets), pg_total_relation_size('lsh_buckets')")
                    ).one()
                    rows[label] = (int(counted[0]), int(counted[1]))
                engine.dispose()
        return {
            "stories": len(bodies),
            "batch": batch,
            "rounds": ROUNDS,
            **{
                label: {
                    "docs_per_s_median": round(statistics.median(v)),
                    "docs_per_s_range": [round(min(v)), round(max(v))],
                    "bucket_rows": rows[label][0],
                    "lsh_buckets_bytes": rows[label][1],
                }
                for label, v in runs.items()
            },
            # Each round runs both on one machine state: the ratio within a round is the figure that load spares.
            "on_over_off_per_round": spread_of([a / b for a, b in zip(runs["after"], runs["before"], strict=True)]),
            "note": "featurize + one upsert per table per batch, one transaction each, rounds alternating",
        }
    except Exception as exc:  # the in-process figures stand without it
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    finally:
        with_suppress_drop(infra, name)
        infra.stop()


def spread_of(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def _row(measure: str, value: Any, unit: str, target: str | None = None, met: bool | None = None,
         split: str | None = None, limited_by: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"measure": measure, "value": value, "unit": unit, "target": target, "met": met, "split": split,
            "limited_by": limited_by}  # fmt: skip


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows ``make bench`` prints (see the benchmark results format)."""
    r, b, e, db = result["reuters_test"], result["bbc"], result["earnings_briefs"], result["postgresql_index"]
    splits = (("Reuters-21578 TEST", r), ("BBC News", b))
    rows = [
        _row("reuse: recall of copies keeping >= 60% of the wire text", c["recall_60"], "share", ">= 0.95",
             c["recall_60"] >= TARGETS["recall_60"], split,
             None if c["recall_60"] >= TARGETS["recall_60"] else "copies sharing fewer than reuse_min_shared "
             "fingerprints with the original are never verified; figures or slots checks stop some")
        for split, c in splits
    ]  # fmt: skip
    false = sum(c["reuse_joins_among_originals"].get("distinct", 0) for _, c in splits)
    false += e["reuse_merges_of_different_companies"]
    rows.append(
        _row("reuse: joins between distinct originals (upper bound) + earnings briefs of different companies",
             false, "joins", "0", false == 0, "Reuters-21578 TEST + BBC News + Reuters earnings briefs",
             None if false == 0 else "follow-ups that wrap a new lead around 60-70% of the day before's story "
             "measure as rewrites keeping that share do")
    )  # fmt: skip
    rows += [
        _row("reuse: copies keeping 30-60% linked or joined", c["link_rate_30_60"], "share", None, None, split)
        for split, c in splits
    ]
    rows += [
        _row("reuse: decision per copy, in process", c["ms_per_copy"], "ms", None, None, split) for split, c in splits
    ]
    if "before" in db:
        on, off = db["after"], db["before"]
        ok = on["docs_per_s_median"] >= off["docs_per_s_median"]
        rows += [
            _row("dedup index throughput, reuse off (median of 5, range in JSON)", off["docs_per_s_median"],
                 "stories/s", None, None, "Reuters-21578, 6,000 stories"),
            _row("dedup index throughput, reuse on (median of 5, range in JSON)", on["docs_per_s_median"],
                 "stories/s", ">= reuse off", ok, "Reuters-21578, 6,000 stories",
                 None if ok else f"PostgreSQL bucket upsert: {on['bucket_rows'] / off['bucket_rows'] - 1:.0%} more rows; "
                 f"on/off per round {db['on_over_off_per_round']['median']} (range {db['on_over_off_per_round']['min']}-"
                 f"{db['on_over_off_per_round']['max']})"),
        ]  # fmt: skip
    return rows


def main(argv: list[str]) -> int:
    if not (DATA / "reuters21578").is_dir() or not (DATA / "bbc").is_dir():
        print(f"the corpora are not in {DATA}", file=sys.stderr)
        return 1
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    s = get_dedup_settings()
    if "--tune" in argv:  # the split the thresholds were chosen on
        print(json.dumps(corpus_run("reuters-train", load_reuters("TRAIN"), s), indent=2))
        return 0
    started = time.perf_counter()
    result: dict[str, Any] = {
        "engine_version": engine_version(s),
        "settings": s.model_dump(mode="json", include={k for k in DedupSettings.model_fields if k.startswith("reuse")}),
        "seed": SEED,
        "tuned_on": "Reuters-21578 LEWISSPLIT=TRAIN (python -m benchmarks.reuse --tune)",
        "reported_on": ["Reuters-21578 LEWISSPLIT=TEST", "BBC News"],
        "reuters_test": corpus_run("reuters-test", load_reuters("TEST"), s),
        "bbc": corpus_run("bbc", bbc_docs(), s),
        "earnings_briefs": earnings_briefs(s),
        "postgresql_index": db_throughput(),
    }
    result["summary"] = summary(result)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    missed = [row["measure"] for row in result["summary"] if row["met"] is False]
    print(f"targets missed: {missed}" if missed else "all targets met", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
