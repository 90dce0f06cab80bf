"""Parse untrusted XML safely. Every XML road (webhooks, the feed poller, the bulk CLI) goes through
:func:`guard_xml` before any parser sees the bytes:

- the encoding is settled once, here (byte-order mark, UTF-16/UTF-32 byte pattern, else the declaration,
  else UTF-8); an unknown or non-text encoding is refused (400), and every parser is then handed the same text
  re-encoded as UTF-8 with its declaration saying so, so no parser can read the bytes differently from this check;
- any ``<!ENTITY`` and any ``<!DOCTYPE`` with an internal subset is refused, wherever it appears (after junk,
  whitespace or comments, with ``>`` inside a quoted SYSTEM or PUBLIC literal), since entities are declared
  there and lenient parsers such as feedparser's would expand them; a DOCTYPE that only names an external DTD
  is allowed (NITF names its DTD by URL) and the DTD is never fetched;
- documents nested deeper than :data:`MAX_DEPTH` elements are refused while parsing.

Parsing itself is defusedxml's (entity declarations and external references refused again), element names
are read without their namespace, since senders disagree on namespace versions, and :func:`check_expansion`
bounds the text read out of a document by its size, whatever a parser did.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from shared.channels.errors import MalformedError, UnsafeXmlError

_ENTITIES_REFUSED = "XML entity declarations are refused (entity expansion and external entities)"
_SUBSET_REFUSED = "an XML DOCTYPE with an internal subset is refused (entity declarations live there)"
_EXTERNAL_REFUSED = "XML external references are refused"
# Deeper than any real news document (NewsML-G2 with inline XHTML stays under 30), shallow enough that no
# reader's recursion comes near Python's limit.
MAX_DEPTH = 256
# Characters of article text (title, body, summary) a document may yield per byte of itself, plus a little
# for short documents. Without entity expansion text is never longer than its markup.
MAX_TEXT_PER_BYTE = 2
_TEXT_SLACK = 4096

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# "<?" (or "<" and anything) in the wide encodings, without a byte-order mark (XML 1.0, appendix F).
_WIDE_PATTERNS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']{1,64})["']""", re.IGNORECASE)
_ENCODING_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")  # XML 1.0's EncName
_DECLARATION_ENCODING = re.compile(r"""(<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""", re.IGNORECASE)
_MARKUP_DECLARATION = re.compile(r"<!\s*(ENTITY|DOCTYPE)\b", re.IGNORECASE)


class CheckedXml(bytes):
    """UTF-8 XML that :func:`guard_xml` has let through; readers given it do not check it again."""


def _encoding(raw: bytes) -> tuple[str, int]:
    """The document's encoding and the length of its byte-order mark."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name, len(bom)
    for pattern, name in _WIDE_PATTERNS:
        if raw.startswith(pattern):
            return name, 0
    declared = _DECLARED.match(raw[:1024])
    if declared is None:
        return "utf-8", 0
    name = declared.group(1).decode("ascii", "replace").strip()
    try:
        if not _ENCODING_NAME.match(name):
            raise LookupError(name)
        info = codecs.lookup(name)
    except LookupError:
        raise MalformedError(f"unknown XML encoding {name!r}", field="encoding") from None
    if info.name.startswith(("utf-16", "utf-32")):
        raise MalformedError(
            f"the XML declares {name!r} but is not encoded in it (no byte-order mark)", field="encoding"
        )
    return info.name, 0


def decode_xml(raw: bytes) -> str:
    """The document's text; :class:`MalformedError` (400) for an encoding that is unknown or not a text one."""
    name, skip = _encoding(raw)
    declared = skip == 0 and _DECLARED.match(raw[:1024]) is not None
    try:
        # Broken bytes become U+FFFD rather than a refusal: feeds in the wild carry the odd stray byte, and
        # what matters here is that every parser reads the same text.
        text = raw[skip:].decode(name, errors="replace")
    except LookupError:  # a codec that exists but is not a text encoding (rot13, zlib, base64, ...)
        raise MalformedError(f"{name!r} is not a text encoding", field="encoding") from None
    except UnicodeError as exc:  # codecs that refuse even with errors="replace" (undefined, punycode, idna)
        raise MalformedError(f"the XML cannot be read as {name!r}: {exc}", field="encoding") from None
    if declared and not text.lstrip().startswith(
        "<?xml"
    ):  # punycode, utf-7 and the like do not even read their own declaration
        raise MalformedError(f"the XML cannot be read as {name!r}", field="encoding")
    return text


def refuse_declarations(text: str) -> None:
    """Raise :class:`UnsafeXmlError` for any ENTITY declaration or DOCTYPE internal subset in ``text``."""
    pos = 0
    while (found := _MARKUP_DECLARATION.search(text, pos)) is not None:
        if found.group(1).upper() == "ENTITY":
            raise UnsafeXmlError(_ENTITIES_REFUSED)
        pos = _doctype_end(text, found.end())


def _doctype_end(text: str, pos: int) -> int:
    """Where the DOCTYPE starting before ``pos`` ends; refuses an internal subset or a DOCTYPE left open.
    Quoted literals are skipped whole: a ``>`` or ``[`` inside ``SYSTEM "a>b"`` is not markup."""
    quote = ""
    for index in range(pos, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            raise UnsafeXmlError(_SUBSET_REFUSED)
        elif char == ">":
            return index + 1
    raise UnsafeXmlError("an XML DOCTYPE that never ends is refused")


def guard_xml(raw: bytes) -> CheckedXml:
    """The one gate in front of every XML reader: ``raw`` as checked UTF-8 (see the module docstring).

    Raises :class:`MalformedError` for an unusable encoding and :class:`UnsafeXmlError` for declarations.
    """
    if isinstance(raw, CheckedXml):
        return raw
    text = decode_xml(raw)
    refuse_declarations(text)
    return CheckedXml(_DECLARATION_ENCODING.sub(r"\1\2utf-8\2", text).encode("utf-8"))


def refuse_unsafe_xml(raw: bytes) -> None:
    """Raise :class:`UnsafeXmlError` (or :class:`MalformedError` for the encoding) unless ``raw`` passes
    :func:`guard_xml`."""
    guard_xml(raw)


def check_expansion(texts: Iterable[str | None], *, document_bytes: int) -> None:
    """Refuse a document whose article text outgrows it (:data:`MAX_TEXT_PER_BYTE`): the backstop should any
    parser expand something the guard did not see."""
    limit = MAX_TEXT_PER_BYTE * document_bytes + _TEXT_SLACK
    total = 0
    for text in texts:
        total += len(text or "")
        if total > limit:
            raise UnsafeXmlError(f"the document yields more text than {MAX_TEXT_PER_BYTE} characters per byte")


def _safe_parse(data: bytes) -> Element:
    """Parse checked bytes with defusedxml, refusing documents nested deeper than :data:`MAX_DEPTH`."""
    events = SafeET.iterparse(
        io.BytesIO(data), events=("start", "end"), forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    depth = 0
    for event, _ in events:
        if event == "start":
            depth += 1
            if depth > MAX_DEPTH:
                raise MalformedError(f"the XML is nested deeper than {MAX_DEPTH} elements")
        else:
            depth -= 1
    root: Element = events.root  # type: ignore[attr-defined]
    return root


def parse_xml(raw: bytes) -> Element:
    """The root element of a well-formed document, or :class:`ChannelError` / :class:`UnsafeXmlError`."""
    data = guard_xml(raw)
    try:
        return _safe_parse(data)
    except defusedxml.EntitiesForbidden as exc:
        raise UnsafeXmlError(_ENTITIES_REFUSED) from exc
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise UnsafeXmlError(_EXTERNAL_REFUSED) from exc
    except ParseError as exc:
        raise MalformedError(f"invalid XML: {exc}") from exc


def root_name(raw: bytes) -> str | None:
    """The local name of the root element, read safely from the prolog; None when the XML cannot be read."""
    data = guard_xml(raw)
    try:
        for _, element in SafeET.iterparse(
            io.BytesIO(data), events=("start",), forbid_dtd=False, forbid_entities=True, forbid_external=True
        ):
            return local(element.tag)
    except defusedxml.EntitiesForbidden as exc:
        raise UnsafeXmlError(_ENTITIES_REFUSED) from exc
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise UnsafeXmlError(_EXTERNAL_REFUSED) from exc
    except ParseError:
        return None
    return None


def local(tag: object) -> str:
    """``{http://iptc.org/std/nar/2006-10-01/}headline`` → ``headline``."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


def children(element: Element, name: str) -> list[Element]:
    """The direct children with this local name."""
    return [child for child in element if local(child.tag) == name]


def child(element: Element | None, *path: str) -> Element | None:
    """Follow a path of local names from ``element``; the first match at each step."""
    node = element
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if local(c.tag) == name), None)
    return node


def descendants(element: Element, name: str) -> list[Element]:
    """``element`` and everything below it with this local name, in document order."""
    return [e for e in element.iter() if local(e.tag) == name]


def text_of(element: Element | None) -> str | None:
    """All the text inside ``element``, whitespace collapsed; None when there is none."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def attr(element: Element | None, name: str) -> str | None:
    """An attribute by local name (``xml:lang`` is found as ``lang``)."""
    if element is None:
        return None
    for key, value in element.attrib.items():
        if local(key) == name:
            return value.strip() or None
    return None
