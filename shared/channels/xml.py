"""Parse untrusted XML safely: entity declarations (billion laughs, quadratic blow-up) and external entities
or DTDs are refused before anything is expanded or fetched (defusedxml), and element names are read without
their namespace, since senders disagree on namespace versions."""

from __future__ import annotations

import io
import re
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from shared.channels.errors import MalformedError, UnsafeXmlError

_ENTITIES_REFUSED = "XML entity declarations are refused (entity expansion and external entities)"
_EXTERNAL_REFUSED = "XML external references are refused"
# An internal DTD subset is where entities are declared; in a document too broken for the strict parser to
# reach it, it is refused outright (lenient parsers such as feedparser's would otherwise read it).
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)


def refuse_unsafe_xml(raw: bytes) -> None:
    """Raise :class:`UnsafeXmlError` when the document declares entities or references external ones.

    Only the prolog is read: the strict parser stops at the root element's start, by which point any DTD has
    been seen. A document that is not well-formed passes unless it carries an internal DTD subset.
    """
    try:
        for _ in SafeET.iterparse(
            io.BytesIO(raw), events=("start",), forbid_dtd=False, forbid_entities=True, forbid_external=True
        ):
            return
    except defusedxml.EntitiesForbidden as exc:
        raise UnsafeXmlError(_ENTITIES_REFUSED) from exc
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise UnsafeXmlError(_EXTERNAL_REFUSED) from exc
    except ParseError:
        if _INTERNAL_SUBSET.search(raw):
            raise UnsafeXmlError(_ENTITIES_REFUSED) from None


def parse_xml(raw: bytes) -> Element:
    """The root element of a well-formed document, or :class:`ChannelError` / :class:`UnsafeXmlError`."""
    try:
        return SafeET.fromstring(raw, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.EntitiesForbidden as exc:
        raise UnsafeXmlError(_ENTITIES_REFUSED) from exc
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise UnsafeXmlError(_EXTERNAL_REFUSED) from exc
    except ParseError as exc:
        raise MalformedError(f"invalid XML: {exc}") from exc


def root_name(raw: bytes) -> str | None:
    """The local name of the root element, read safely from the prolog; None when the XML cannot be read."""
    refuse_unsafe_xml(raw)
    try:
        for _, element in SafeET.iterparse(
            io.BytesIO(raw), events=("start",), forbid_dtd=False, forbid_entities=True, forbid_external=True
        ):
            return local(element.tag)
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
