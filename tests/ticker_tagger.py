"""A tagger kept outside the package, registered as the recipe in docs/architecture.md says: a module with
its tagger class and a ``TAGGERS`` tuple of entries, named in ``TIDINGS_TAGGING_PLUGINS`` (tests/conftest.py
names it for every process of the test session: the worker that tags, the query service that searches).

It tags stock tickers written the way business copy writes them, "(NYSE: ACME)", under a kind of its own
that the built-in vocabulary does not have, and records the language it was given, so a test can see that
a tagger reads the language decided for the article instead of deciding one itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shared.tagging.base import Document, Tag
from shared.tagging.vocabulary import Kind, TaggerEntry

TICKER = Kind("ticker", facets=("ticker",))
_TICKER = re.compile(r"\((NYSE|NASDAQ|LSE):\s*([A-Z][A-Z.]{0,5})\)")


class TickerTagger:
    name = "tickers"
    version = "1"
    languages: frozenset[str] | None = None
    needs_mentions = False

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        out = []
        for doc in docs:
            found = {f"{m[1]}:{m[2]}": m[2] for m in _TICKER.finditer(doc.text)}
            out.append(
                [
                    Tag(TICKER.name, value, symbol, self.name, self.version, attrs={"language": doc.language})
                    for value, symbol in found.items()
                ]
            )
        return out


TAGGERS = (TaggerEntry("tickers", (TICKER,), "tests.ticker_tagger:TickerTagger"),)
