"""Where the benchmarks find the research corpora, and a clear stop when they are absent.

The corpora (Reuters-21578, BBC News, CoNLL-2003, the seed article; licences in their README) are not part
of the repository: they sit in ``shared/data`` beside the clone (``../shared/data`` from the repository's
root), or wherever ``TIDINGS_BENCH_DATA`` points. The tests never read them; only the benchmarks do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("TIDINGS_BENCH_DATA") or ROOT.parent / "shared" / "data")
MISSING_EXIT = 2


def require(benchmark: str, *names: str) -> Path:
    """The data folder, once every ``names`` (relative to it) is there; else say what is missing and exit 2."""
    missing = [name for name in names if not (DATA / name).exists()]
    if missing:
        print(
            f"{benchmark}: needs the research corpora {', '.join(missing)} in {DATA}\n"
            "  (not shipped with the repository; put them in shared/data beside the clone, "
            "or set TIDINGS_BENCH_DATA to their folder)",
            file=sys.stderr,
        )
        raise SystemExit(MISSING_EXIT)
    return DATA
