"""Reader check (``make bench-readers``): the CLI's Reuters-21578 reader over the whole research corpus.

The tests read a small file in the same format written for the project (``tests/fixtures/wire/``); this check
reads the real 22 files, needs ``reuters21578/`` (see ``benchmarks/data.py``) and fails (exit 1) unless every
document is read, each is a valid article, and the corpus' known first story comes out as the tests expect of
the format: title, paragraphs, the "Reuter" sign-off as the credit, the dateline and the topic lists.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter

from benchmarks.data import ROOT, require
from benchmarks.table import row
from services.cli.reuters import count_documents, read_reuters
from shared.schemas.articles import ArticleIn

DOCUMENTS = 21_578  # the corpus' name
RESULTS = ROOT / "benchmarks" / "results" / "readers.json"


def main() -> int:
    files = sorted((require("bench-readers", "reuters21578") / "reuters21578").glob("reut2-*.sgm"))
    started = time.perf_counter()
    docs = [doc for path in files for doc in read_reuters(path)]
    elapsed = time.perf_counter() - started
    invalid = 0
    for doc in docs:
        try:
            ArticleIn.model_validate(doc)
        except ValueError:
            invalid += 1
    first = docs[0] if docs else {}
    checks = {
        "every document read": len(docs) == sum(count_documents(p) for p in files) == DOCUMENTS,
        "every document a valid article": invalid == 0,
        "first story's title": first.get("title") == "BAHIA COCOA REVIEW",
        "first story's paragraphs": "\n\nThe dry period means the temporao will be late this year.\n\n"
        in first.get("body", ""),
        "sign-off as credit": first.get("credit") == "Reuters" and not first.get("body", "").endswith("Reuter"),
        "dateline": first.get("metadata", {}).get("dateline") == "SALVADOR, Feb 26",
        "kinds": {d["metadata"]["type"] for d in docs} == {"norm", "brief", "unproc"},
    }
    split = f"Reuters-21578, all {len(files)} files"
    failed = [name for name, ok in checks.items() if not ok]
    report = {
        "files": len(files),
        "documents": len(docs),
        "kinds": dict(Counter(d["metadata"]["type"] for d in docs)),
        "invalid": invalid,
        "seconds": round(elapsed, 2),
        "checks": checks,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "summary": [
            row(
                "documents read",
                len(docs),
                "docs",
                target=f"= {DOCUMENTS:,}",
                met=checks["every document read"],
                split=split,
            ),
            row("invalid articles", invalid, "docs", target="0", met=invalid == 0, split=split),
            row(
                "format checks passed",
                f"{len(checks) - len(failed)} of {len(checks)}",
                "",
                target="all",
                met=not failed,
                split=split,
                limited_by=", ".join(failed) or None,
            ),
            row("read rate", round(len(docs) / elapsed) if elapsed else 0, "docs/s", split=split),
        ],
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
