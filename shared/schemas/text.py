"""Text PostgreSQL can store: the one check every schema applies to a client's strings.

PostgreSQL refuses a NUL in ``text`` and ``jsonb`` and an unpaired surrogate (from a ``"\\ud800"`` JSON escape)
cannot be encoded at all; either would reach the database as a bare ``DataError`` that names no field. Checked
in the schema, the refusal is a 4xx naming the field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def storable(value: str) -> str:
    """``value``, or a ValueError saying why PostgreSQL could not store it."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if value.isascii():  # a constant-time flag of the string: no surrogate, no encoding to try
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from exc
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


StorableText = Annotated[str, AfterValidator(storable)]
RequiredStorableText = Annotated[str, AfterValidator(storable), AfterValidator(not_blank)]
