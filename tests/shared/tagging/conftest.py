"""Shared fixtures for the tagging engines: the pipeline (spaCy, gazetteer) is built once per session."""

from __future__ import annotations

import pytest

from shared.tagging.base import Document
from shared.tagging.language import settle_language
from shared.tagging.settings import TaggingSettings
from shared.tagging.taggers import Taggers
from shared.text.plaintext import parse_plain_article
from tests.support import NEWSROOM_ARTICLE


@pytest.fixture(scope="session")
def tagging() -> Taggers:
    return Taggers(TaggingSettings())


def seed_document() -> Document:
    """The newsroom article (``tests/fixtures/plain/``) split as the ingest service splits the plain format,
    its language decided as the worker decides it."""
    article = parse_plain_article(NEWSROOM_ARTICLE.read_text(encoding="utf-8"))
    doc = Document(id="seed", title=article.title, summary=article.summary, caption=article.caption, body=article.body)
    settle_language([doc])
    return doc


@pytest.fixture
def seed() -> Document:
    return seed_document()
