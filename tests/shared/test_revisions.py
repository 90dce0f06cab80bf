"""Which revision is current, and what an arrival does: the pure functions under the ingest store's lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.revisions import (
    Held,
    Incoming,
    Order,
    Outcome,
    RevisionConflict,
    check_new,
    content_digest,
    decide,
    supersedes,
    version_number,
)

T0 = datetime(2024, 4, 12, 6, 0, tzinfo=UTC)
PAYLOAD = {"title": "Fire at harbour", "body": "Two workers died.", "source": "wire", "external_id": "fire-1"}


def _held(payload: dict[str, object] = PAYLOAD, *, version: int | None = None, at: datetime | None = None) -> Held:
    return Held(revision=1, order=Order(version, at, 1), latest=1, digests={content_digest(payload): 1})


def test_the_senders_version_decides_first() -> None:
    assert supersedes(Order(3, T0, 1), Order(2, T0 + timedelta(hours=1), 2))
    assert not supersedes(Order(2, T0 + timedelta(hours=1), 3), Order(3, T0, 1))


def test_then_the_modification_time_then_arrival() -> None:
    assert supersedes(Order(None, T0 + timedelta(minutes=5), 1), Order(None, T0, 2))
    assert not supersedes(Order(None, T0, 3), Order(None, T0 + timedelta(minutes=5), 2))
    assert supersedes(Order(None, None, 3), Order(None, None, 2))
    assert supersedes(Order(2, T0, 3), Order(2, T0, 2)), "an equal version and time fall back to arrival"
    assert supersedes(Order(2, None, 3), Order(None, T0, 1)), "nothing comparable: arrival"


def test_identical_content_is_a_replay_whatever_its_ordering_fields() -> None:
    held = _held(version=1)
    again = {**PAYLOAD, "version": 2, "version_created": "2024-04-12T07:00:00Z", "metadata": {"version": "2"}}
    decision = decide(held, Incoming(digest=content_digest(again), version=2))
    assert decision == (decision.__class__(Outcome.replayed, 1))
    assert held.latest == 1


def test_new_content_is_the_next_revision_and_current_when_newer() -> None:
    held = _held(version=1)
    revised = {**PAYLOAD, "title": "CORRECTED: Fire at harbour", "body": "Three workers died."}
    decision = decide(held, Incoming(digest=content_digest(revised), version=2))
    assert (decision.outcome, decision.revision) == (Outcome.revised, 2)
    assert (held.revision, held.latest) == (2, 2)
    # The first text again (a late redelivery) is still a replay, not a third revision.
    assert decide(held, Incoming(digest=content_digest(PAYLOAD), version=1)).outcome is Outcome.replayed


def test_an_older_revision_arriving_late_is_kept_but_never_current() -> None:
    held = _held({**PAYLOAD, "body": "v3"}, version=3)
    late = decide(held, Incoming(digest=content_digest({**PAYLOAD, "body": "v2"}), version=2))
    assert (late.outcome, late.revision) == (Outcome.kept_older, 2)
    assert held.revision == 1 and held.latest == 2


def test_a_kill_withdraws_once() -> None:
    held = _held()
    assert decide(held, Incoming(digest=b"kill", withdraw=True)).outcome is Outcome.withdrawn
    assert held.withdrawn
    assert decide(held, Incoming(digest=b"kill", withdraw=True)).outcome is Outcome.replayed


def test_preconditions() -> None:
    other = content_digest({**PAYLOAD, "body": "changed"})
    with pytest.raises(RevisionConflict) as stale:
        decide(_held(), Incoming(digest=other, if_match=2))
    assert (stale.value.status, stale.value.current, stale.value.field) == (412, 1, "If-Match")
    assert decide(_held(), Incoming(digest=other, if_match=1)).outcome is Outcome.revised
    with pytest.raises(RevisionConflict) as taken:
        decide(_held(), Incoming(digest=other, revision=3))
    assert (taken.value.status, taken.value.current, taken.value.field) == (409, 1, "revision")
    assert decide(_held(), Incoming(digest=other, revision=2)).revision == 2
    # A retry of a revision that was stored (its answer lost) is a replay, not a conflict.
    held = _held()
    decide(held, Incoming(digest=other, revision=2))
    assert decide(held, Incoming(digest=other, revision=2)).outcome is Outcome.replayed
    with pytest.raises(RevisionConflict):
        check_new(Incoming(digest=other, if_match=1))
    with pytest.raises(RevisionConflict):
        check_new(Incoming(digest=other, revision=2))
    check_new(Incoming(digest=other, revision=1))


def test_version_numbers() -> None:
    assert [version_number(v) for v in ("3", 3, " 12 ", "4.0", "v2", "", None, True, -1, "1.5")] == [
        3, 3, 12, 4, None, None, None, None, None, None,
    ]  # fmt: skip


@given(st.permutations(list(range(1, 7))))
def test_whatever_the_arrival_order_the_highest_version_is_current_and_all_are_kept(order: list[int]) -> None:
    texts = {v: {**PAYLOAD, "body": f"version {v}"} for v in order}
    first = order[0]
    held = _held(texts[first], version=first)
    outcomes = [decide(held, Incoming(digest=content_digest(texts[v]), version=v)).outcome for v in order[1:]]
    assert held.latest == len(order)
    assert held.order.version == max(order)
    assert len(held.digests) == len(order)
    assert outcomes.count(Outcome.revised) == sum(1 for i, v in enumerate(order[1:], 1) if v > max(order[:i]))
