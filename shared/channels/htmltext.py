"""Plain text from HTML fragments (feed entries, ninjs ``body_html``, NewsML-G2 inline XHTML, NITF bodies):
block elements become paragraphs separated by blank lines, scripts and styles are dropped."""

from __future__ import annotations

import html
import re
from typing import Any

import lxml.html
from lxml import etree

from shared.channels.xml import local, refuse_declarations
from shared.text.normalise import paragraphs

_BLOCKS = frozenset(
    {
        "address", "article", "aside", "block", "blockquote", "body.content", "bq", "caption", "dd", "div", "dl",
        "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hl1", "hl2",
        "hr", "li", "main", "nav", "note", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "object", "svg", "math"})

# huge_tree stays off: libxml2 keeps its limits on text node size and nesting depth (255 for HTML).
_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, no_network=True, default_doctype=False, huge_tree=False
)


# A character reference written out in full (``&amp;``, ``&#8217;``, ``&#x24;``): the semicolon is required, so
# "AT&T" or "R&D &notes" in plain text are left alone.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Something that reads as an HTML tag: a plain-text field that holds one was written as HTML.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def decode_references(text: str) -> str:
    """``Q&amp;A: what&#8217;s next`` → ``Q&A: what’s next``: HTML character references in text that holds no
    markup. Feeds and agencies escape their text once more than the format asks (entities inside CDATA, in
    ninjs ``body_text``); only complete references are decoded, once."""
    return _REFERENCE.sub(lambda m: html.unescape(m.group(0)), text) if "&" in text else text


def looks_like_html(text: str) -> bool:
    """Whether ``text`` holds HTML tags (a field labelled plain text that is in fact HTML)."""
    return _TAG.search(text) is not None


def _walk(root: Any, out: list[str], skipped: frozenset[str] = frozenset()) -> None:
    """Depth-first, with an explicit stack: a document nested thousands deep must not exhaust the recursion."""
    # Each entry is an element to open, or a string to emit once its subtree is done (its closing paragraph
    # break, then its tail).
    stack: list[Any] = [root]
    while stack:
        element = stack.pop()
        if isinstance(element, str):
            out.append(element)
            continue
        name = local(element.tag).lower()
        if name in _SKIPPED or name in skipped:
            continue
        block = name in _BLOCKS
        if block:
            out.append("\n\n")
        elif name == "br":
            out.append("\n")
        if element.text and isinstance(element.tag, str):
            out.append(element.text)
        after: list[Any] = []
        for child in element:
            after.append(child)
            if child.tail:
                after.append(child.tail)
        if block:
            after.append("\n\n")
        stack.extend(reversed(after))


def text_from_element(element: Any, *, skip: frozenset[str] = frozenset()) -> str:
    """Paragraph text of an element tree (lxml or ElementTree), paragraphs separated by a blank line; elements
    named in ``skip`` (lower-case local names) are left out with everything inside them."""
    out: list[str] = []
    _walk(element, out, skip)
    return "\n\n".join(paragraphs("".join(out)))


def text_from_html(fragment: str) -> str:
    """Paragraph text of an HTML fragment or page; empty when there is no text. An ENTITY declaration or a
    DOCTYPE internal subset is refused (:class:`UnsafeXmlError`) before lxml reads anything."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return "\n\n".join(paragraphs(decode_references(fragment)))
    refuse_declarations(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div", parser=_PARSER)
    except (etree.ParserError, ValueError, AssertionError):
        # lxml.html asserts on some broken fragments ("too many bodies", a DOCTYPE before <script><p>).
        return ""
    return text_from_element(root)
