"""Read the plain newsroom format (``Content-Type: text/plain``).

The format, as newsrooms send it::

    Headline                           first paragraph
                                       (blank line)
    Standfirst                         second paragraph, when more than one paragraph follows
    Photo caption [Credit]             optional: a paragraph ending in a bracketed credit
    Body paragraphs, sub-headings kept as paragraphs
    Source: Credit                     optional trailing line(s): the source credit

Paragraphs are separated by blank lines. A one-paragraph text after the headline is all body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.text.normalise import credit_name, normalise_body, paragraphs

_CAPTION = re.compile(r".{10,600}\[[^\[\]]{2,60}\]$")


class PlainTextError(ValueError):
    """The text cannot be read as an article; ``field`` names what is missing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PlainArticle:
    title: str
    summary: str | None
    caption: str | None
    body: str
    credit: str | None


def parse_plain_article(text: str) -> PlainArticle:
    paras = paragraphs(text)
    if not paras:
        raise PlainTextError("title", "the text is empty: expected a headline, a blank line and the body")
    title, rest = paras[0], paras[1:]
    if not rest:
        raise PlainTextError("body", "no body after the headline: separate the headline from the body by a blank line")
    summary = rest.pop(0) if len(rest) > 1 else None
    caption = rest.pop(0) if len(rest) > 1 and _CAPTION.match(rest[0]) else None
    normalised = normalise_body("\n\n".join(rest))
    if not normalised.body:
        raise PlainTextError("body", "the body is empty")
    credit = "; ".join(credit_name(c) for c in normalised.credits) or None
    return PlainArticle(title=title, summary=summary, caption=caption, body=normalised.body, credit=credit)
