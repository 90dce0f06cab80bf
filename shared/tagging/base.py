"""The tagger interface: a document in, tags out, over a whole batch at a time.

A tagger has a ``name`` and a ``version`` (recorded on every tag it writes, so a backfill can re-tag exactly
what a change touched), says which languages it applies to, and tags a batch of documents at once, so the
expensive ones (spaCy) can stream the batch through their model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

_WORD = re.compile(r"\w+", re.UNICODE)
FIELD_SEPARATOR = "\n\n"
MAX_MENTIONS = 25  # mentions kept per tag: enough to show and highlight, bounded for the row's size


@dataclass(frozen=True)
class Tag:
    """One tag on one article, as the ``article_tags`` contract table stores it."""

    kind: str
    value: str
    name: str
    tagger: str
    tagger_version: str
    score: float = 1.0
    mentions: int = 1
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """The part of the primary key an article's tags must not repeat."""
        return (self.kind, self.value, self.tagger)


@dataclass(frozen=True)
class Mention:
    """A named-entity mention: its text, CoNLL-style class (PER/ORG/LOC/MISC) and the model's own label."""

    text: str
    label: str
    model_label: str
    start: int
    end: int


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching: ``Zürich`` and ``ZURICH`` both give ``zurich``."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The word tokens of ``text``, in order, as they appear (case kept)."""
    return _WORD.findall(text)


@dataclass
class Document:
    """What the taggers see of an article. ``mentions`` is filled by the entity recogniser when it runs."""

    id: Any
    title: str
    body: str
    summary: str | None = None
    caption: str | None = None
    source: str = ""
    section: str | None = None
    language: str | None = None
    language_score: float | None = None
    mentions: list[Mention] | None = None

    @cached_property
    def fields(self) -> list[tuple[str, str]]:
        """(field name, text) of the non-empty fields, in the order :attr:`text` joins them."""
        parts = (("title", self.title), ("summary", self.summary), ("body", self.body), ("caption", self.caption))
        return [(name, part) for name, part in parts if part]

    @cached_property
    def text(self) -> str:
        """Title, standfirst, body and caption as one text, paragraphs apart (the NER and lexicon input)."""
        return FIELD_SEPARATOR.join(part for _, part in self.fields)

    def locate(self, start: int, end: int) -> dict[str, Any]:
        """A span of :attr:`text` as a mention in its article field: ``{text, start, end, field}``, the offsets
        counted in that field as stored."""
        offset = 0
        for name, part in self.fields:
            if start < offset + len(part):
                local = start - offset
                stop = min(end - offset, len(part))
                return {"text": part[local:stop], "start": local, "end": stop, "field": name}
            offset += len(part) + len(FIELD_SEPARATOR)
        raise ValueError(f"span {start}-{end} lies outside the document")

    @cached_property
    def tokens(self) -> list[str]:
        """Word tokens of :attr:`text` with their case (taggers share this one tokenisation)."""
        return words(self.text)

    @cached_property
    def folded_tokens(self) -> list[str]:
        """:attr:`tokens` case- and accent-folded."""
        return [fold(t) for t in self.tokens]

    @cached_property
    def title_tokens(self) -> list[str]:
        return [fold(t) for t in words(self.title)]


@runtime_checkable
class Tagger(Protocol):
    """A tagger over batches. ``languages`` is None when it applies to any language."""

    name: str
    version: str
    languages: frozenset[str] | None
    needs_mentions: bool

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        """Tags for each document, in the order given; documents it does not apply to get ``[]``."""
        ...


def applies(tagger: Tagger, doc: Document) -> bool:
    """Whether ``tagger`` handles ``doc``'s language (unknown language: only language-neutral taggers)."""
    return tagger.languages is None or (doc.language is not None and doc.language in tagger.languages)
