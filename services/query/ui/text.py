"""Article text made safe to show: search snippets that mark only the match, and tag mentions highlighted.

Everything an article holds is text, never markup. A snippet arrives from PostgreSQL as HTML in which the
article's own ``&``, ``<`` and ``>`` were escaped and the matches wrapped in ``<mark>``; it is taken apart
here and rebuilt with ``markupsafe``, so the only elements that can reach a page are the ``<mark>`` pairs
this code writes, whatever the snippet held.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def safe_snippet(snippet: str | None) -> Markup:
    """The snippet with its matches in ``<mark>`` and everything else escaped text."""
    if not snippet:
        return Markup("")
    out: list[str] = []
    position = 0
    for match in _MARK.finditer(snippet):
        out.append(str(escape(html.unescape(snippet[position : match.start()]))))
        out.append(f"<mark>{escape(html.unescape(match.group(1)))}</mark>")
        position = match.end()
    out.append(str(escape(html.unescape(snippet[position:]))))
    return Markup("".join(out))


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    name: str


def mention_spans(tags: Mapping[str, Iterable[Any]], field: str, text: str) -> list[Span]:
    """The spans of ``text`` that tags mention in ``field``, non-overlapping, in order.

    A tag may carry ``mentions``: ``[{text, start, end, field}]`` (in the tag itself or in its ``attrs``);
    older tags carry only a count, and then nothing is highlighted. A mention whose offsets do not hold its
    text in this field (the text was revised, or offsets count differently) is looked for nearby by its text,
    else left out: a wrong highlight is worse than none.
    """
    spans: list[Span] = []
    for kind, kind_tags in tags.items():
        for tag in kind_tags:
            for m in _mentions_of(tag):
                if m.get("field", "body") != field:
                    continue
                span = _locate(text, m)
                if span is not None:
                    spans.append(Span(span[0], span[1], kind, str(_get(tag, "name") or m.get("text") or "")))
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[Span] = []
    for s in spans:
        if not kept or s.start >= kept[-1].end:
            kept.append(s)
    return kept


def highlight(text: str | None, spans: list[Span]) -> Markup:
    """``text`` escaped, with each span wrapped in ``<mark class="mention">`` naming its tag."""
    if not text:
        return Markup("")
    out: list[str] = []
    position = 0
    for s in spans:
        out.append(str(escape(text[position : s.start])))
        label = f"{s.kind}: {s.name}"
        out.append(
            f'<mark class="mention kind-{escape(s.kind)}" title="{escape(label)}">{escape(text[s.start : s.end])}</mark>'
        )
        position = s.end
    out.append(str(escape(text[position:])))
    return Markup("".join(out))


def _get(tag: Any, name: str) -> Any:
    return tag.get(name) if isinstance(tag, Mapping) else getattr(tag, name, None)


def _mentions_of(tag: Any) -> list[Mapping[str, Any]]:
    for candidate in (_get(tag, "mentions"), (_get(tag, "attrs") or {}).get("mentions")):
        if isinstance(candidate, list):
            return [m for m in candidate if isinstance(m, Mapping)]
    return []


def _locate(text: str, mention: Mapping[str, Any]) -> tuple[int, int] | None:
    surface = mention.get("text")
    start, end = mention.get("start"), mention.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):  # noqa: SIM102
        if not isinstance(surface, str) or text[start:end] == surface:
            return start, end
    if isinstance(surface, str) and surface:
        near = text.find(surface, max(0, (start if isinstance(start, int) else 0) - 50))
        if near < 0:
            near = text.find(surface)
        if near >= 0:
            return near, near + len(surface)
    return None
