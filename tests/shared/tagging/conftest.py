"""Shared fixtures for the tagging engines: the pipeline (spaCy, gazetteer) is built once per session."""

from __future__ import annotations

import pytest

from shared.tagging.base import Document
from shared.tagging.pipeline import TaggingPipeline
from shared.tagging.settings import TaggingSettings
from tests.support import SEED_ARTICLE


@pytest.fixture(scope="session")
def tagging() -> TaggingPipeline:
    return TaggingPipeline(TaggingSettings())


def seed_document() -> Document:
    """The seed article split as the ingest service splits the newsroom format."""
    title, summary, caption, *body, _credit = SEED_ARTICLE.read_text().strip().split("\n\n")
    return Document(id="seed", title=title, summary=summary, caption=caption, body="\n\n".join(body))


@pytest.fixture
def seed() -> Document:
    return seed_document()
