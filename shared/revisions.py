"""Revisions and withdrawals of an article: which text is current, and what a new arrival does to it.

An article is identified by ``(source, external_id)`` (for wire formats the guid or uri). When that identity
arrives again, :func:`decide` says what happens, from what is held and what came:

- the same content as any revision held: a replay, a no-op answered as the first time;
- a kill (``withdrawn``): the article is marked withdrawn, its text kept;
- other content: a new revision, numbered by arrival; it becomes current only when it supersedes the current
  one by the sender's own ordering (:func:`supersedes`), else it is kept in the history only (an older
  revision that arrived late never overwrites a newer one).

A client may state what it expects, and is refused when another writer got there first: ``if_match`` (the
current revision it read; ``412``) or ``revision`` (the number its text should get; ``409``).

Pure functions: the ingest store calls them under the ingestion row's lock, so two revisions arriving at the
same moment are decided one after the other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Payload fields that order or withdraw revisions: not part of the content a replay is recognised by.
ORDER_FIELDS = frozenset({"version", "version_created", "withdrawn", "withdrawal_reason"})
# The same, as the wire readers also keep them in ``metadata``.
METADATA_ORDER_FIELDS = frozenset({"version", "version_created", "pubstatus"})

EVENT_REVISED = "article.revised"
EVENT_WITHDRAWN = "article.withdrawn"


def content_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without its ordering fields: what two deliveries must share to be the same revision."""
    out = {k: v for k, v in payload.items() if k not in ORDER_FIELDS}
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        out["metadata"] = {k: v for k, v in metadata.items() if k not in METADATA_ORDER_FIELDS}
        if not out["metadata"]:
            del out["metadata"]
    return out


def content_digest(payload: dict[str, Any]) -> bytes:
    """SHA-256 of the content in a canonical JSON form (sorted keys), stable across deliveries."""
    canonical = json.dumps(content_of(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()


@dataclass(frozen=True)
class Order:
    """Where a revision stands: the sender's version number, else its modification time, else arrival."""

    version: int | None
    version_created: datetime | None
    arrival: int


def supersedes(new: Order, old: Order) -> bool:
    """True when ``new`` is a later revision than ``old``.

    The sender's own version decides when both carry one and they differ; else their modification times
    when both carry one and they differ; else the order of arrival."""
    if new.version is not None and old.version is not None and new.version != old.version:
        return new.version > old.version
    if (
        new.version_created is not None
        and old.version_created is not None
        and new.version_created != old.version_created
    ):
        return new.version_created > old.version_created
    return new.arrival > old.arrival


class Outcome(StrEnum):
    created = "created"
    replayed = "replayed"
    revised = "revised"
    kept_older = "kept_older"  # a revision older than the current one: in the history only
    withdrawn = "withdrawn"


@dataclass
class Held:
    """What is stored for an article: the current revision, the highest number given, and the revision
    each content digest is."""

    revision: int
    order: Order
    latest: int
    digests: dict[bytes, int] = field(default_factory=dict)
    withdrawn: bool = False


@dataclass(frozen=True)
class Incoming:
    digest: bytes
    version: int | None = None
    version_created: datetime | None = None
    withdraw: bool = False
    if_match: int | None = None  # the current revision the client read
    revision: int | None = None  # the number the client says its text gets


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    revision: int  # the revision the content is (a new number for revised and kept_older)


class RevisionConflict(Exception):
    """The client's precondition does not hold: another revision got there first (or none exists)."""

    def __init__(self, status: int, message: str, *, field: str, current: int | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.current = current


def check_new(incoming: Incoming) -> None:
    """The precondition of an article not stored yet: only ``revision`` 1 (or none) may create it."""
    if incoming.if_match is not None:
        raise RevisionConflict(
            412, "If-Match names a revision, but no such article exists", field="If-Match", current=None
        )
    if incoming.revision not in (None, 1):
        raise RevisionConflict(
            409, f"revision {incoming.revision} was sent, but no such article exists", field="revision", current=None
        )


def decide(held: Held, incoming: Incoming) -> Decision:
    """What ``incoming`` does to ``held``; updates ``held`` to the result (so a batch holding the same article
    twice decides the second against the first). Raises :class:`RevisionConflict`."""
    if incoming.digest in held.digests and not (incoming.withdraw and not held.withdrawn):
        return Decision(Outcome.replayed, held.digests[incoming.digest])
    if incoming.withdraw and held.withdrawn:
        return Decision(Outcome.replayed, held.revision)
    if incoming.if_match is not None and incoming.if_match != held.revision:
        raise RevisionConflict(
            412,
            f"If-Match is revision {incoming.if_match}, but the current revision is {held.revision}",
            field="If-Match",
            current=held.revision,
        )
    if incoming.withdraw:
        held.withdrawn = True
        return Decision(Outcome.withdrawn, held.revision)
    number = held.latest + 1
    if incoming.revision is not None and incoming.revision != number:
        raise RevisionConflict(
            409,
            f"revision {incoming.revision} was sent, but the next revision is {number}",
            field="revision",
            current=held.revision,
        )
    held.latest = number
    held.digests[incoming.digest] = number
    order = Order(incoming.version, incoming.version_created, number)
    if supersedes(order, held.order):
        held.revision, held.order = number, order
        return Decision(Outcome.revised, number)
    return Decision(Outcome.kept_older, number)


def version_number(value: Any) -> int | None:
    """A sender's version as an integer (``"3"``, ``3``, ``"3.0"``); None when it is no whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**63 else None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(".0"):
            text = text[:-2]
        if text.isdigit() and len(text) < 19:
            return int(text)
    return None
