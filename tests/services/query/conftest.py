"""Fixtures of the query tests: one real corpus per test module, read by every test in it.

The corpus is loaded once per module (ingest, worker, then known tags and clusters) and the module's tests
only read it, so they use these module-scoped clients rather than the per-test ``db``/``query`` fixtures,
which empty the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from tests.services.query.corpus import Corpus, load
from tests.support import empty_tables


@pytest.fixture(scope="module")
def corpus(platform: dict[str, str], engine: Engine, api_key_headers: dict[str, str]) -> Corpus:
    empty_tables(engine)
    with httpx.Client(base_url=platform["ingest"], timeout=60, headers=api_key_headers) as ingest:
        return load(ingest, engine)


@pytest.fixture(scope="module")
def qc(platform: dict[str, str], corpus: Corpus, api_key_headers: dict[str, str]) -> Iterator[httpx.Client]:
    """A query-service client over the loaded corpus."""
    with httpx.Client(base_url=platform["query"], timeout=60, headers=api_key_headers) as client:
        yield client
