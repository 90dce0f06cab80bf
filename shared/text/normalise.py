"""Normalise article text so that equal stories compare equal, whatever the sender's encoding habits.

Unicode NFC, control characters removed, whitespace collapsed within paragraphs, paragraphs separated by one
blank line; trailing credit lines (``Source: ...``, ``Reporting by ...``, copyright notices) are lifted out of
the body into their own field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# C0/C1 controls and the Unicode format characters that senders leak (zero-width space, BOM, soft hyphen),
# but not tab and newline, which carry structure.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n+")
_LINE_BREAK = re.compile(r"\s*\n\s*")

_CREDIT_LINE = re.compile(
    r"""^(?:
        source:\s*\S.*
      | sources:\s*\S.*
      | \(?(?:reporting|additional\ reporting|writing|editing)\ by\ .+\)?
      | (?:©|\(c\)|copyright)\s*\d{0,4}.*
      | all\ rights\ reserved\.?
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_CREDIT_CHARS = 300

_WORD = re.compile(r"\w+", re.UNICODE)


def clean_inline(text: str) -> str:
    """NFC, no control characters, single spaces, no line breaks: for titles and other one-line fields."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    return _INLINE_SPACE.sub(" ", text.replace("\n", " ").replace("\r", " ")).strip()


def paragraphs(text: str) -> list[str]:
    """Split normalised-or-not text into clean paragraphs (blank lines separate paragraphs)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text.replace("\t", " "))
    out = []
    for block in _PARAGRAPH_BREAK.split(text):
        block = _INLINE_SPACE.sub(" ", _LINE_BREAK.sub(" ", block)).strip()
        if block:
            out.append(block)
    return out


@dataclass(frozen=True)
class NormalisedBody:
    body: str
    credits: list[str]


def normalise_body(text: str) -> NormalisedBody:
    """Clean the body and lift trailing credit lines out of it (kept in order, as a separate field)."""
    paras = paragraphs(text)
    credits: list[str] = []
    while len(paras) > 1 and len(paras[-1]) <= _MAX_CREDIT_CHARS and _CREDIT_LINE.match(paras[-1]):
        credits.insert(0, paras.pop())
    return NormalisedBody(body="\n\n".join(paras), credits=credits)


def credit_name(line: str) -> str:
    """``Source: News Agencies`` → ``News Agencies``; other credit lines are kept whole."""
    m = re.match(r"^sources?:\s*(.+)$", line.strip(), re.IGNORECASE)
    return (m.group(1) if m else line).strip()


def words(text: str) -> list[str]:
    """Case-folded word tokens: the unit of the content hash and of dedup shingles."""
    return _WORD.findall(text.casefold())


def content_hash(text: str) -> bytes:
    """SHA-256 of the words alone, so whitespace, punctuation and case changes hash alike."""
    return hashlib.sha256(" ".join(words(text)).encode()).digest()


def title_hash(title: str) -> bytes:
    return content_hash(title)
