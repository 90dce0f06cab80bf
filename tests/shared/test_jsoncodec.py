"""The driver's JSON codec reads and writes the values the standard library would, integers past 64 bits too."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.db import jsoncodec

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


@given(_values)
def test_reads_what_the_standard_library_reads(value: Any) -> None:
    text = json.dumps(value)
    assert jsoncodec.loads(text.encode()) == json.loads(text)
    assert jsoncodec.loads(text) == json.loads(text)


@given(_values)
def test_writes_what_reads_back_the_same(value: Any) -> None:
    assert json.loads(jsoncodec.dumps(value)) == value


def test_an_integer_past_64_bits_stays_an_integer() -> None:
    big = 123456789012345678901234567890
    assert jsoncodec.loads(b'{"n": 123456789012345678901234567890}') == {"n": big}
    assert jsoncodec.loads(b'{"n": -9223372036854775809}') == {"n": -9223372036854775809}
    assert json.loads(jsoncodec.dumps({"n": big})) == {"n": big}


def test_a_number_past_a_double_reads_as_the_standard_library_reads_it() -> None:
    assert math.isinf(jsoncodec.loads(b"[1e400]")[0])


def test_ids_and_times_in_their_iso_forms_and_other_types_by_default() -> None:
    when = datetime(2026, 12, 4, 21, 0, 5, 250, tzinfo=UTC)
    out = json.loads(jsoncodec.dumps({"id": uuid.UUID(int=7), "at": when, "raw": b"\x01"}, default=lambda b: b.hex()))
    assert out == {"id": str(uuid.UUID(int=7)), "at": when.isoformat(), "raw": "01"}
