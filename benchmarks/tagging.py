"""Tagging benchmark (``make bench-tagging``): entities, topics, untagged articles, the seed article, speed.

Every figure names its split, and what tuned or trained on what:
* Entities: CoNLL-2003 ``train.txt`` (946 documents) is the unseen split: the recogniser's rules were narrowed
  against ``valid.txt``, the tuning split (scored too with ``--tuning-split``). (The copy in ``../shared/data`` has no
  ``test.txt``.) Document-level F1 (the set of (type, text) per document, as a user sees tags) and
  mention-level F1 (exact span and type, as seqeval counts), for raw spaCy (``tok2vec`` + ``ner``, labels
  mapped to PER/ORG/LOC/MISC) and for our recogniser (``ner`` alone, the gazetteer's corrections, one class
  per name), on the same texts in the same run.
* Topics: the model was trained on SIB-200 ``eng_14`` train and project-written text, tuned and calibrated on
  SIB-200 dev and held-out project text. Reported: BBC News (2,225 articles, never trained or tuned on),
  BBC short items (headline + first sentence, four desks), SIB-200 ``eng_14`` test, with confusions.
* Reuters-21578: the share of articles left with no tags, no language, no topic (language and topics over all
  articles with a body, the whole stage over a seeded sample), and how briefs fare.
* The seed article's expectations (places with coordinates, people, organisations, topics, no person
  "Alawite").
* Speed: CPU time per article on one core for each tagger (best of rounds) and the whole stage (median of
  rounds, with and without the topics tagger, alternately; ratios are medians of per-round ratios with their
  range); the memory and load time of a worker process's taggers.

The JSON's ``summary`` has one row per target, with the split each was measured on.

The corpora are read from ``../shared/data`` and never copied.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.data import DATA, require
from services.worker.stages.language import SourceLanguages
from shared.tagging.base import Document, Tag
from shared.tagging.entities import EntityTagger
from shared.tagging.keywords import KeywordTagger
from shared.tagging.language import LanguageTagger, decide_language, settle_language
from shared.tagging.ner import LABELS, EntityRecognizer, load_model
from shared.tagging.places import PlaceTagger
from shared.tagging.rules import Rule, RuleTagger
from shared.tagging.settings import get_tagging_settings
from shared.tagging.taggers import Taggers
from shared.tagging.tone import ToneTagger
from shared.tagging.topics import TopicTagger, most_probable, subject_probabilities_of
from shared.tagging.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "tagging.json"
BBC = {
    "business": "04000000",
    "entertainment": "01000000",
    "politics": "11000000",
    "sport": "15000000",
    "tech": "13000000",
}
TYPES = ("PER", "ORG", "LOC", "MISC")
SECTIONS = ("entities", "topics", "reuters", "seed_article", "memory", "speed")

Span = tuple[int, int, int, str]  # document, first token, end token, type


# --- CoNLL-2003 -------------------------------------------------------------------------------------------
def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """Documents as (tokens, IOB2 tags)."""
    docs: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            if tokens:
                docs.append((tokens, tags))
            tokens, tags = [], []
            continue
        if line.strip():
            parts = line.split()
            tokens.append(parts[0])
            tags.append(parts[-1])
    if tokens:
        docs.append((tokens, tags))
    return docs


def gold_spans(docs: list[tuple[list[str], list[str]]]) -> set[Span]:
    spans: set[Span] = set()
    for d, (_, tags) in enumerate(docs):
        start, kind = None, None
        for i, tag in enumerate([*tags, "O"]):
            if start is not None and (tag == "O" or tag.startswith("B-") or tag[2:] != kind):
                spans.add((d, start, i, str(kind)))
                start, kind = None, None
            if tag.startswith("B-") or (tag.startswith("I-") and start is None):
                start, kind = i, tag[2:]
    return spans


def score(gold: set[Any], predicted: set[Any]) -> dict[str, Any]:
    """Precision, recall and F1 per type and overall; items are tuples whose fourth field is the type."""
    out: dict[str, Any] = {}
    for kind in (*TYPES, "ALL"):
        g = {s for s in gold if kind == "ALL" or s[3] == kind}
        p = {s for s in predicted if kind == "ALL" or s[3] == kind}
        tp = len(g & p)
        precision = tp / len(p) if p else 0.0
        recall = tp / len(g) if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[kind] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "gold": len(g)}
    return out


def document_level(docs: list[tuple[list[str], list[str]]], spans: set[Span]) -> set[tuple[int, str, str]]:
    """(document, type, text) for each distinct entity a document has: what a document's tags would list."""
    return {(d, kind, " ".join(docs[d][0][a:b])) for d, a, b, kind in spans}


def conll_benchmark(split: str) -> dict[str, Any]:
    from spacy.tokens import Doc

    docs = read_conll(DATA / "conll2003" / split)
    gold = gold_spans(docs)
    raw_nlp = load_model(("tok2vec", "ner"))
    ours = EntityRecognizer(use_gazetteer=True)
    plain = EntityRecognizer(use_gazetteer=False)

    def spacy_docs(nlp: Any) -> list[Any]:
        return [Doc(nlp.vocab, words=tokens) for tokens, _ in docs]

    raw: set[Span] = set()
    for d, parsed in enumerate(raw_nlp.pipe(spacy_docs(raw_nlp), batch_size=32)):
        raw |= {(d, e.start, e.end, LABELS[e.label_]) for e in parsed.ents if e.label_ in LABELS}

    def token_spans(mentions_per_doc: Sequence[Sequence[Any]], built: list[Any]) -> set[Span]:
        spans: set[Span] = set()
        for d, (mentions, doc) in enumerate(zip(mentions_per_doc, built, strict=True)):
            for m in mentions:
                span = doc.char_span(m.start, m.end)
                spans.add((d, span.start, span.end, m.label))
        return spans

    built = spacy_docs(ours.nlp)
    without_tok2vec = token_spans(list(plain.pipe(spacy_docs(plain.nlp))), built)
    pipeline = token_spans(list(ours.pipe(spacy_docs(ours.nlp))), built)
    corrected = Counter((s[3], t[3]) for s in raw for t in pipeline if s[:3] == t[:3] and s[3] != t[3])
    gold_docs = document_level(docs, gold)

    def doc_score(spans: set[Span]) -> dict[str, Any]:
        found = document_level(docs, spans)
        return score({(d, 0, 0, k, t) for d, k, t in gold_docs}, {(d, 0, 0, k, t) for d, k, t in found})

    return {
        "data": f"CoNLL-2003 {split} ({len(docs)} documents)",
        "label_mapping": {**LABELS, "DATE/TIME/PERCENT/MONEY/QUANTITY/ORDINAL/CARDINAL": None},
        "document_level": {"raw_spacy": doc_score(raw), "pipeline": doc_score(pipeline)},
        "raw_spacy": score(gold, raw),
        "pipeline": score(gold, pipeline),
        "ner_without_tok2vec_identical_to_raw": without_tok2vec == raw,
        "relabelled_by_pipeline": {f"{a}->{b}": n for (a, b), n in corrected.most_common()},
    }


# --- BBC topics ---------------------------------------------------------------------------------------------
def bbc_documents() -> list[tuple[str, Document]]:
    out = []
    for category in BBC:
        for path in sorted((DATA / "bbc" / category).glob("*.txt")):
            title, _, body = path.read_bytes().decode("utf-8", errors="replace").strip().partition("\n")
            out.append((category, Document(id=path.name, title=title.strip(), body=body.strip())))
    return out


def classification(pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> dict[str, Any]:
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    per_class = {}
    for label in labels:
        tp = sum(g == p == label for g, p in pairs)
        fp = sum(p == label != g for g, p in pairs)
        fn = sum(g == label != p for g, p in pairs)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_class[label] = round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4)
    return {
        "accuracy": round(accuracy, 4),
        "macro_f1": round(sum(per_class.values()) / len(per_class), 4),
        "f1_per_class": per_class,
    }


def confusion(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Gold → predicted → count (every cell that occurs)."""
    out: dict[str, dict[str, int]] = {}
    for (g, p), n in sorted(Counter(pairs).items()):
        out.setdefault(g, {})[p] = n
    return out


def probabilities(docs: Sequence[Document], *, embedding: bool = True) -> list[dict[str, float]]:
    """The topic model's subject probabilities per document, in batches of a worker's size (without
    ``embedding``: the n-gram model alone, as the fast profile tags)."""
    return [p for i in range(0, len(docs), 64) for p in subject_probabilities_of(docs[i : i + 64], embedding=embedding)]


def bbc_benchmark(docs: list[tuple[str, Document]]) -> dict[str, Any]:
    all17, among5 = [], []
    for (category, _), probs in zip(docs, probabilities([doc for _, doc in docs]), strict=True):
        gold = BBC[category]
        all17.append((gold, most_probable(probs)))
        among5.append((gold, most_probable(probs, list(BBC.values()))))
    ngram = [
        (BBC[category], most_probable(probs))
        for (category, _), probs in zip(docs, probabilities([doc for _, doc in docs], embedding=False), strict=True)
    ]
    return {
        "data": f"BBC News 2004-05, {len(docs)} articles: never trained or tuned on",
        "mapping": BBC,
        "best_of_17_subjects": classification(all17, list(BBC.values())),
        "best_of_the_5_bbc_subjects": classification(among5, list(BBC.values())),
        "confusion_best_of_17": confusion(all17),
        "fast_profile_ngram_model_alone": {"best_of_17_subjects": classification(ngram, list(BBC.values()))},
    }


# Four news desks, as short wire services file them. A subject's desk: economy and labour → business; sport →
# sport; science and technology → scitech; arts and lifestyle → none (always wrong here); all else → world.
DESK_OF_BBC = {"politics": "world", "business": "business", "sport": "sport", "tech": "scitech"}
DESK_OF_SUBJECT = {"04000000": "business", "09000000": "business", "15000000": "sport", "13000000": "scitech",
                   "01000000": "none", "10000000": "none"}  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“])")


def short_items(docs: list[tuple[str, Document]]) -> list[tuple[str, Document]]:
    """BBC headline + first sentence of the body, for the four categories a desk maps to."""
    out = []
    for category, doc in docs:
        if category in DESK_OF_BBC:
            first = _SENTENCE_END.split(doc.body.strip(), maxsplit=1)[0]
            out.append((DESK_OF_BBC[category], Document(id=doc.id, title=doc.title, body=first, language="en")))
    return out


def short_item_benchmark(docs: list[tuple[str, Document]]) -> dict[str, Any]:
    items = short_items(docs)
    found = probabilities([doc for _, doc in items])
    pairs = [(desk, DESK_OF_SUBJECT.get(most_probable(p), "world")) for (desk, _), p in zip(items, found, strict=True)]
    alone = probabilities([doc for _, doc in items], embedding=False)
    ngram = [(desk, DESK_OF_SUBJECT.get(most_probable(p), "world")) for (desk, _), p in zip(items, alone, strict=True)]
    words = sum(len(d.text.split()) for _, d in items) / len(items)
    return {
        "data": f"BBC News headline + first sentence, {len(items)} items (mean {words:.0f} words), 4 desks: "
        "politics → world, business, sport, tech → scitech (entertainment left out); never trained or tuned on",
        "desk_of_subject": {**DESK_OF_SUBJECT, "other subjects": "world"},
        "top_subject_desk": classification(pairs, sorted(set(DESK_OF_BBC.values()))),
        "confusion": confusion(pairs),
        "fast_profile_ngram_model_alone": {
            "top_subject_desk": classification(ngram, sorted(set(DESK_OF_BBC.values())))
        },
    }


def sib_benchmark() -> dict[str, Any]:
    from devtools.train_topics import SIB_TO_IPTC

    path = DATA / "sib200" / "eng_14" / "test.tsv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["category"] in SIB_TO_IPTC]
    found = probabilities([Document(id=i, title="", body=r["text"], language="en") for i, r in enumerate(rows)])
    pairs = [(SIB_TO_IPTC[r["category"]], most_probable(p)) for r, p in zip(rows, found, strict=True)]
    return {
        "data": f"SIB-200 eng_14 test.tsv, {len(rows)} sentences (geography has no IPTC subject and is left out); "
        "the model trained on train.tsv and was tuned on dev.tsv",
        "mapping": SIB_TO_IPTC,
        "top_subject": classification(pairs, sorted(set(SIB_TO_IPTC.values()))),
        "confusion": confusion(pairs),
    }


# --- Reuters: articles left untagged ------------------------------------------------------------------------
_REUTERS = re.compile(r"<REUTERS.*?</REUTERS>", re.DOTALL)
_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.DOTALL) for name in ("TITLE", "BODY")}


def reuters_documents() -> list[Document]:
    out = []
    for path in sorted((DATA / "reuters21578").glob("reut2-*.sgm")):
        for i, block in enumerate(_REUTERS.findall(path.read_text(encoding="latin-1"))):
            found = {k: (m.group(1) if (m := r.search(block)) else "") for k, r in _FIELD.items()}
            body = html.unescape(found["BODY"]).replace("\x03", "").strip()
            body = re.sub(r"\s*Reuter\s*$", "", body)
            if body:
                out.append(Document(id=f"{path.stem}:{i}", title=html.unescape(found["TITLE"]).strip(), body=body))
    return out


def detect(doc: Document, sources: SourceLanguages | None = None, source: str = "reuters") -> None:
    """The language as the language stage settles it (title and body together, with its fallbacks); with
    ``sources``, the source's language is learnt from its confident articles in filing order, as a worker does."""
    decision = decide_language(
        title=doc.title, summary=None, body=doc.body, source_language=sources.known(source) if sources else None
    )
    if sources is not None and decision.guess.method == "model":
        sources.learn(source, decision.guess.code, decision.guess.score)
    doc.language, doc.language_score = decision.code, decision.score


def reuters_benchmark(sample: int) -> dict[str, Any]:
    docs = reuters_documents()
    briefs = [i for i, d in enumerate(docs) if len(d.body) < 400]
    for doc in docs:
        detect(doc)  # from the text alone: no source known
    text_only = sum(docs[i].language is not None for i in briefs)
    sources = SourceLanguages()
    for doc in docs:
        detect(doc, sources)  # as the worker's language stage: one source, Reuters
    topics = TopicTagger().tag(docs)
    english = [i for i, d in enumerate(docs) if d.language == "en"]
    no_topic = [i for i in english if not topics[i]]
    top_topic = Counter(topics[i][0].value for i in english if topics[i])

    rng = random.Random(7)
    chosen = sorted(rng.sample(range(len(docs)), min(sample, len(docs))))
    stage = Taggers(get_tagging_settings())
    tagged = stage.tag([fresh([docs[i]], language=docs[i].language)[0] for i in chosen])
    kinds = [Counter(t.kind for t in tags) for tags in tagged]
    sample_briefs = [k for i, k in zip(chosen, kinds, strict=True) if len(docs[i].body) < 400]

    def share(n: int, of: int) -> float:
        return round(n / of, 4) if of else 0.0

    return {
        "data": f"Reuters-21578, {len(docs)} articles with a body (all 22 files); the stage over a seeded sample "
        f"of {len(chosen)}; languages decided as the worker does, the source's language learnt from its confident "
        "articles in filing order",
        "all_articles": {
            "no_language": share(sum(d.language is None for d in docs), len(docs)),
            "language_by_fallback": share(
                sum(d.language is not None and d.language_score < 0.5 for d in docs), len(docs)
            ),
            "english": len(english),
            "english_with_no_topic": share(len(no_topic), len(english)),
            "english_top_topic_share": {c: share(n, len(english)) for c, n in top_topic.most_common(6)},
            "briefs_under_400_chars": len(briefs),
            "briefs_with_language": share(sum(docs[i].language is not None for i in briefs), len(briefs)),
            "briefs_with_language_from_text_alone": share(text_only, len(briefs)),
            "briefs_with_topic": share(sum(bool(topics[i]) for i in briefs), len(briefs)),
            "english_briefs_with_topic": share(
                sum(bool(topics[i]) for i in briefs if docs[i].language == "en"),
                sum(docs[i].language == "en" for i in briefs),
            ),
        },
        "sample_through_the_stage": {
            "articles": len(chosen),
            "no_tags_at_all": share(sum(not k for k in kinds), len(kinds)),
            "english_with_no_tags": share(
                sum(not k for i, k in zip(chosen, kinds, strict=True) if docs[i].language == "en"),
                sum(docs[i].language == "en" for i in chosen),
            ),
            "english_with_no_topic": share(
                sum(not k["topic"] for i, k in zip(chosen, kinds, strict=True) if docs[i].language == "en"),
                sum(docs[i].language == "en" for i in chosen),
            ),
            "with_organisation": share(sum(k["organisation"] > 0 for k in kinds), len(kinds)),
            "with_place": share(sum(k["place"] > 0 for k in kinds), len(kinds)),
            "briefs": len(sample_briefs),
            "briefs_with_language_topic_organisation": share(
                sum(bool(k["language"] and k["topic"] and k["organisation"]) for k in sample_briefs),
                len(sample_briefs),
            ),
        },
    }


# --- the seed article ---------------------------------------------------------------------------------------
SEED_PLACES = ("Damascus", "Aleppo", "Hejeira", "Sbeineh", "Iraq", "Lebanon", "Iran", "Turkey", "Syria")
SEED_ORGS = ("Hezbollah", "Iranian Revolutionary Guards")


def seed_benchmark() -> dict[str, Any]:
    title, _, body = (DATA / "seed-article.txt").read_text(encoding="utf-8").partition("\n")
    doc = Document(id="seed", title=title.strip(), body=body.strip())
    settle_language([doc])
    tags = Taggers(get_tagging_settings()).tag([doc])[0]
    by_kind: dict[str, dict[str, Any]] = {}
    for t in tags:
        by_kind.setdefault(t.kind, {})[t.value] = t
    places = by_kind.get("place", {})
    orgs = by_kind.get("organisation", {})
    checks = {
        **{f"place {p} with coordinates": p in places and places[p].attrs.get("lat") is not None for p in SEED_PLACES},
        "person Bashar al-Assad": "Bashar al-Assad" in by_kind.get("person", {}),
        **{f"organisation {o}": o in orgs for o in SEED_ORGS},
        "organisation UN (or United Nations)": "UN" in orgs or "United Nations" in orgs,
        "topic conflict, war and peace": "16000000" in by_kind.get("topic", {}),
        "topic politics": "11000000" in by_kind.get("topic", {}),
        "no person Alawite": "Alawite" not in by_kind.get("person", {}),
    }
    return {"passed": sum(checks.values()), "of": len(checks), "checks": checks}


# --- memory -------------------------------------------------------------------------------------------------
_MEASURE = """
import json, os, time
def rss():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
base = rss(); started = time.perf_counter()
from shared.tagging.taggers import Taggers
from shared.tagging.settings import get_tagging_settings
Taggers(get_tagging_settings())
print(json.dumps({"load_s": round(time.perf_counter() - started, 2), "rss_mb": rss(), "python_mb": base}))
"""


def memory_benchmark() -> dict[str, Any]:
    """A fresh process building every tagger, as the worker's main process does before it forks its pool."""
    done = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {"method": "VmRSS of a fresh process after building the Taggers", **figures}


# --- speed --------------------------------------------------------------------------------------------------
def cpu_seconds(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


class _DecidedLanguage:
    """The language decision (the worker's language stage) and the language tagger that reports it, timed
    together: the cost of an article's language."""

    def tag(self, docs: list[Document]) -> list[list[Tag]]:
        return LanguageTagger().tag(_settled(docs))


def _settled(docs: list[Document]) -> list[Document]:
    settle_language(docs)
    return docs


def fresh(docs: Sequence[Document], *, language: str | None = "en") -> list[Document]:
    return [
        Document(id=d.id, title=d.title, body=d.body, summary=d.summary, caption=d.caption, language=language)
        for d in docs
    ]


SAMPLE_RULES = [
    Rule(str(i), f"rule {i}", f"tag-{i}", expr, 1)
    for i, expr in enumerate(
        [
            "title:(election OR vote*) AND NOT sport",
            '"prime minister" OR chancellor',
            "(oil OR gas) AND price*",
            "football AND (injur* OR transfer)",
            '"world cup" OR olympic*',
            "film AND (award* OR oscar*)",
            "broadband OR mobile* OR internet",
            "microsoft OR google OR apple",
            '(bank OR banks) AND "interest rates"',
            "NOT (sport OR football OR rugby) AND (strike OR union*)",
        ]
        * 5
    )
]


def speed_benchmark(
    bbc: list[tuple[str, Document]], *, ner_articles: int, light_articles: int, rounds: int
) -> dict[str, Any]:
    rng = random.Random(4)
    sample = [d for _, d in rng.sample(bbc, len(bbc))][:light_articles]
    small = sample[:ner_articles]
    settings = get_tagging_settings()
    words = sum(len(d.text.split()) for d in small)

    raw_nlp = load_model(("tok2vec", "ner"))
    recognizer = EntityRecognizer(batch_size=settings.ner_batch_size, max_chars=settings.ner_max_chars)
    texts = [d.text[: settings.ner_max_chars] for d in small]
    ner_only = recognizer.nlp
    raw_s = raw_ner_s = ours_s = float("inf")
    for _ in range(rounds):  # alternate, so all see the same machine load
        raw_s = min(raw_s, cpu_seconds(lambda: list(raw_nlp.pipe(texts, batch_size=settings.ner_batch_size)), 1))
        raw_ner_s = min(
            raw_ner_s, cpu_seconds(lambda: list(ner_only.pipe(texts, batch_size=settings.ner_batch_size)), 1)
        )
        ours_s = min(ours_s, cpu_seconds(lambda: recognizer.annotate(fresh(small)), 1))

    sample = fresh(sample)  # English, as the language stage would have said
    with_mentions = fresh(small)
    recognizer.annotate(with_mentions)
    taggers: dict[str, tuple[Any, list[Document]]] = {
        "language (detection included)": (_DecidedLanguage(), fresh(sample, language=None)),
        "entities (given the NER's mentions)": (EntityTagger(), with_mentions),
        "places (given the NER's mentions)": (PlaceTagger(), with_mentions),
        "topics": (TopicTagger(), sample),
        "keywords": (KeywordTagger(limit=settings.keywords_per_article), sample),
        "tone": (ToneTagger(), sample),
        f"rules ({len(SAMPLE_RULES)} rules)": (RuleTagger(SAMPLE_RULES), sample),
    }
    per_tagger: dict[str, Any] = {}
    non_ner_ms = 0.0
    for name, (tagger, docs) in taggers.items():
        if docs is with_mentions:  # mentions stay: the tagger reads them, the NER is timed above
            seconds = cpu_seconds(lambda t=tagger, d=docs: t.tag(d), rounds)
        else:  # fresh documents each round, so no cached tokenisation flatters the figure
            seconds = cpu_seconds(lambda t=tagger, d=docs: t.tag(fresh(d, language=d[0].language)), rounds)
        ms = 1000 * seconds / len(docs)
        non_ner_ms += ms
        per_tagger[name] = {"articles_per_s_per_core": round(len(docs) / seconds, 1), "ms_per_article": round(ms, 3)}

    # In the stage the language stage has already detected the language: the tagger only reports it.
    given = cpu_seconds(lambda: LanguageTagger().tag(fresh(sample)), rounds)
    detect_ms = per_tagger["language (detection included)"]["ms_per_article"]
    stage_non_ner_ms = non_ner_ms - detect_ms + 1000 * given / len(sample)
    stage = Taggers(settings)
    enabled = settings.enabled if settings.enabled is not None else tuple(vocabulary().taggers)
    without_topics = Taggers(settings, only=[n for n in enabled if n != "topics"])
    stage_rounds, without_rounds, topic_rounds = [], [], []
    topic_tagger = TopicTagger()
    for _ in range(rounds):  # alternate, so both see the same machine load; each pair gives one ratio
        stage_rounds.append(cpu_seconds(lambda: stage.tag(_settled(fresh(small, language=None)), SAMPLE_RULES), 1))
        without_rounds.append(
            cpu_seconds(lambda: without_topics.tag(_settled(fresh(small, language=None)), SAMPLE_RULES), 1)
        )
        topic_rounds.append(cpu_seconds(lambda: topic_tagger.tag(fresh(small)), 1))
    stage_s, without_s = statistics.median(stage_rounds), statistics.median(without_rounds)
    added = [a / b - 1 for a, b in zip(stage_rounds, without_rounds, strict=True)]
    share = [t / a for t, a in zip(topic_rounds, stage_rounds, strict=True)]  # the same articles, same round
    return {
        "corpus": f"BBC News articles (seeded sample): {len(sample)} for the light taggers, {len(small)} ({words} words) "
        "for NER and the whole stage",
        "cpu": platform.processor() or platform.machine(),
        "method": "CPU seconds of one process pinned to one core, best of rounds",
        "ner": {
            "raw_nlp_pipe_tok2vec_ner": {
                "articles_per_s_per_core": round(len(small) / raw_s, 2),
                "words_per_s": round(words / raw_s),
            },
            "pipeline_recognizer": {
                "articles_per_s_per_core": round(len(small) / ours_s, 2),
                "words_per_s": round(words / ours_s),
            },
            "raw_nlp_pipe_ner_only": {
                "articles_per_s_per_core": round(len(small) / raw_ner_s, 2),
                "words_per_s": round(words / raw_ner_s),
            },
            "pipeline_vs_raw_speed": round(raw_s / ours_s, 3),
            "pipeline_vs_raw_ner_only_speed": round(raw_ner_s / ours_s, 3),
        },
        "taggers": per_tagger,
        "all_taggers_except_ner_ms_per_article": round(non_ner_ms, 3),
        "all_taggers_except_ner_ms_per_article_language_given": round(stage_non_ner_ms, 3),
        "whole_stage": {
            "articles_per_s_per_core": round(len(small) / stage_s, 2),
            "ms_per_article": round(1000 * stage_s / len(small), 2),
            "includes": "language detection, NER, all taggers, 50 rules (no database writes)",
        },
        "whole_stage_without_topics": {
            "articles_per_s_per_core": round(len(small) / without_s, 2),
            "ms_per_article": round(1000 * without_s / len(small), 2),
            "includes": "the same stage with the topics tagger disabled, timed alternately with it",
        },
        "stage_rounds": rounds,
        "stage_figures": "median of the rounds; a ratio is the median of the per-round ratios, with its range",
        "topics_share_of_stage": round(statistics.median(share), 4),
        "topics_share_of_stage_range": [round(min(share), 4), round(max(share), 4)],
        "topics_added_to_stage": round(statistics.median(added), 4),
        "topics_added_to_stage_range": [round(min(added), 4), round(max(added), 4)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ner-articles", type=int, default=60, help="articles for the NER and stage speed runs")
    parser.add_argument("--light-articles", type=int, default=600, help="articles for the light taggers' runs")
    parser.add_argument(
        "--rounds", type=int, default=5, help="repetitions (a tagger: best; the stage and ratios: median)"
    )
    parser.add_argument("--reuters-sample", type=int, default=400, help="Reuters articles through the stage")
    parser.add_argument(
        "--tuning-split", action="store_true", help="also score CoNLL valid.txt, the split the rules were tuned on"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="run these sections only; the others are kept from the existing results file, with its run time",
    )
    args = parser.parse_args(argv)
    require("bench-tagging", "conll2003/valid.txt", "bbc")

    # One core: every figure is per core, whatever threads BLAS starts.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    started, cpu_started = time.perf_counter(), time.process_time()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    sections: dict[str, Callable[[], Any]] = {
        "entities": lambda: {
            "unseen_split": conll_benchmark("train.txt"),
            **({"tuning_split": conll_benchmark("valid.txt")} if args.tuning_split else {}),
        },
        "topics": lambda: {
            "model": "one-vs-rest logistic regressions over hashed features and over sentence embeddings, "
            "probabilities averaged (shared/tagging/topic_model/MODEL_CARD.md)",
            "trained_on": "SIB-200 eng_14 train.tsv, project-written text, the IPTC Media Topics vocabulary; tuned "
            "and calibrated on SIB-200 dev.tsv + held-out project text",
            "bbc": bbc_benchmark(bbc_documents()),
            "bbc_short_items": short_item_benchmark(bbc_documents()),
            "sib200_test": sib_benchmark(),
        },
        "reuters": lambda: reuters_benchmark(args.reuters_sample),
        "seed_article": seed_benchmark,
        "memory": memory_benchmark,
        "speed": lambda: speed_benchmark(
            bbc_documents(), ner_articles=args.ner_articles, light_articles=args.light_articles, rounds=args.rounds
        ),
    }
    previous = json.loads(args.output.read_text()) if args.only and args.output.exists() else {}
    run_at = dict.fromkeys(SECTIONS, previous.get("run_at")) | previous.get("section_run_at", {})
    result: dict[str, Any] = {"benchmark": "tagging", "run_at": now}
    seconds_by_section = dict(previous.get("seconds_by_section", {}))
    for name, run in sections.items():
        if args.only and name not in args.only and name in previous:
            result[name] = previous[name]
        else:
            section_started = time.perf_counter()
            result[name] = run()
            seconds_by_section[name] = round(time.perf_counter() - section_started, 1)
            run_at[name] = now
    result["seconds_by_section"] = seconds_by_section
    if args.only:
        result["section_run_at"] = run_at
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["cpu_seconds"] = round(time.process_time() - cpu_started, 1)
    result["load_average"] = [round(v, 2) for v in os.getloadavg()]
    result["summary"] = summary(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    print(f"written to {args.output}")
    return 0


def _row(
    measure: str,
    value: float | str,
    unit: str,
    target: str | None,
    met: bool | None,
    split: str | None,
    limited_by: str | None = None,
) -> dict[str, Any]:
    return {"measure": measure, "value": value, "unit": unit, "target": target, "met": met, "split": split,
            "limited_by": None if met else limited_by}  # fmt: skip


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target of the tagging issue, for ``make bench``'s table."""
    topics, speed, reuters = result["topics"], result["speed"], result["reuters"]
    bbc = topics["bbc"]["best_of_17_subjects"]["accuracy"]
    short = topics["bbc_short_items"]["top_subject_desk"]["accuracy"]
    confusion = topics["bbc_short_items"]["confusion"]
    worst = max(((g, p, n) for g, row in confusion.items() for p, n in row.items() if g != p), key=lambda c: c[2])
    unseen = result["entities"]["unseen_split"]
    ours_f1 = unseen["document_level"]["pipeline"]["ALL"]["f1"]
    raw_f1 = unseen["document_level"]["raw_spacy"]["ALL"]["f1"]
    stage = reuters["sample_through_the_stage"]
    everything = reuters["all_articles"]
    share, added = speed["topics_share_of_stage"], speed["topics_added_to_stage"]
    seed = result["seed_article"]
    failing = [k for k, ok in seed["checks"].items() if not ok]
    return [
        _row(
            "BBC top subject accuracy (best of 17)",
            bbc,
            "fraction",
            ">= 0.85",
            bbc >= 0.85,
            topics["bbc"]["data"],
            "topic model",
        ),
        _row(
            "BBC short items top-subject desk accuracy",
            short,
            "fraction",
            ">= 0.80",
            short >= 0.80,
            topics["bbc_short_items"]["data"],
            f"topic model on few words: most confused {worst[0]} -> {worst[1]} ({worst[2]} items)",
        ),
        _row(
            "BBC top subject accuracy / short items desk accuracy, fast profile (n-gram model alone)",
            f"{topics['bbc']['fast_profile_ngram_model_alone']['best_of_17_subjects']['accuracy']:.4f} / "
            f"{topics['bbc_short_items']['fast_profile_ngram_model_alone']['top_subject_desk']['accuracy']:.4f}",
            "fraction",
            None,
            None,
            f"{topics['bbc']['data']}; {topics['bbc_short_items']['data']}",
        ),
        _row(
            "SIB-200 eng_14 test top subject accuracy",
            topics["sib200_test"]["top_subject"]["accuracy"],
            "fraction",
            None,
            None,
            topics["sib200_test"]["data"],
        ),
        _row(
            "entity document-level F1, pipeline (raw spaCy beside it)",
            f"{ours_f1:.4f} (raw {raw_f1:.4f})",
            "F1",
            ">= raw spaCy on the same documents",
            ours_f1 >= raw_f1,
            unseen["data"] + ", never tuned on",
            "entity rules",
        ),
        _row(
            "English Reuters articles with no tags (stage sample)",
            stage["english_with_no_tags"],
            "fraction",
            "0",
            stage["english_with_no_tags"] == 0,
            reuters["data"],
            "language fallback",
        ),
        _row(
            "English Reuters articles with no topic (all)",
            everything["english_with_no_topic"],
            "fraction",
            "0",
            everything["english_with_no_topic"] == 0,
            reuters["data"],
            "topic evidence threshold",
        ),
        _row(
            "English Reuters briefs with a topic (all)",
            everything["english_briefs_with_topic"],
            "fraction",
            "every English brief",
            everything["english_briefs_with_topic"] == 1,
            reuters["data"],
            "topic evidence threshold",
        ),
        _row(
            "Reuters briefs with a language / a topic (all)",
            f"{everything['briefs_with_language']} / {everything['briefs_with_topic']}",
            "fraction",
            "every brief",
            everything["briefs_with_language"] == 1 and everything["briefs_with_topic"] == 1,
            reuters["data"],
            "tables with no words: only the source's language tells (from the text alone "
            f"{everything.get('briefs_with_language_from_text_alone')})",
        ),
        _row(
            "topics tagger share of the tagging stage's time",
            share,
            f"fraction (median of rounds, range {speed['topics_share_of_stage_range']})",
            "<= 0.10",
            share <= 0.10,
            speed["corpus"],
            "topic model",
        ),
        _row(
            "time the topics tagger adds to the stage",
            added,
            f"fraction (median of paired rounds, range {speed['topics_added_to_stage_range']})",
            "<= 0.10",
            added <= 0.10,
            speed["corpus"],
            "topic model",
        ),
        _row(
            "whole tagging stage, CPU per article on one core",
            speed["whole_stage"]["ms_per_article"],
            "ms",
            None,
            None,
            speed["corpus"],
        ),
        _row("worker taggers' memory", result["memory"]["rss_mb"], "MB RSS", None, None, None),
        _row("worker taggers' load time", result["memory"]["load_s"], "s", None, None, None),
        _row(
            "seed article checks",
            f"{seed['passed']} of {seed['of']}",
            "checks",
            "all",
            not failing,
            "seed-article.txt",
            "; ".join(failing)
            + (
                ": no coordinates in any GeoNames data a package ships (cities500)"
                if failing and all(k.endswith("with coordinates") for k in failing)
                else ""
            ),
        ),
    ]


def report(result: dict[str, Any]) -> None:
    for split, ent in result["entities"].items():
        print(f"entity F1, {ent['data']} ({split}), raw spaCy → pipeline:")
        doc_raw, doc_ours = ent["document_level"]["raw_spacy"]["ALL"], ent["document_level"]["pipeline"]["ALL"]
        print(f"  document-level ALL {doc_raw['f1']:.4f} → {doc_ours['f1']:.4f}")
        for kind in (*TYPES, "ALL"):
            print(f"  mention-level {kind:5} {ent['raw_spacy'][kind]['f1']:.4f} → {ent['pipeline'][kind]['f1']:.4f}")
    top = result["topics"]
    for key in ("best_of_17_subjects", "best_of_the_5_bbc_subjects"):
        figures = top["bbc"][key]
        print(f"BBC topics, {key}: accuracy {figures['accuracy']:.4f}, macro-F1 {figures['macro_f1']:.4f}")
    short = top["bbc_short_items"]["top_subject_desk"]
    print(f"BBC short items (4 desks): accuracy {short['accuracy']:.4f}, macro-F1 {short['macro_f1']:.4f}")
    sib = top["sib200_test"]["top_subject"]
    print(f"SIB-200 eng_14 test: accuracy {sib['accuracy']:.4f}, macro-F1 {sib['macro_f1']:.4f}")
    reuters = result["reuters"]
    print(f"Reuters: {json.dumps(reuters['all_articles'])}")
    print(f"Reuters sample through the stage: {json.dumps(reuters['sample_through_the_stage'])}")
    seed = result["seed_article"]
    print(f"seed article: {seed['passed']}/{seed['of']} checks; failing: "
          f"{[k for k, ok in seed['checks'].items() if not ok]}")  # fmt: skip
    print(f"worker taggers: {result['memory']['rss_mb']} MB RSS, {result['memory']['load_s']} s to load")
    speed = result["speed"]
    for name, figures in speed["taggers"].items():
        print(f"  {name}: {figures['articles_per_s_per_core']} articles/s/core ({figures['ms_per_article']} ms)")
    print(
        f"whole stage: {speed['whole_stage']['articles_per_s_per_core']} articles/s/core "
        f"({speed['whole_stage']['ms_per_article']} ms); topics {100 * speed['topics_share_of_stage']:.1f}% of it"
    )
    if "topics_added_to_stage" in speed:
        print(
            f"whole stage without topics: {speed['whole_stage_without_topics']['ms_per_article']} ms per article; "
            f"topics add {100 * speed['topics_added_to_stage']:.1f}%"
        )


if __name__ == "__main__":
    raise SystemExit(main())
