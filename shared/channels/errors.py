"""Errors the channel parsers raise; the services turn them into 4xx answers that name the field."""

from __future__ import annotations


class ChannelError(ValueError):
    """The payload cannot be mapped to articles; ``field`` names where it went wrong. A well-formed document
    that lacks what an article needs is a 422."""

    code = "invalid_payload"
    status = 422

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class MalformedError(ChannelError):
    """The bytes are not a well-formed document of the claimed kind (broken XML or JSON): a 400."""

    code = "malformed_payload"
    status = 400


class UnsafeXmlError(MalformedError):
    """The XML declares entities or reaches for external resources: refused before anything is expanded."""

    code = "unsafe_xml"
