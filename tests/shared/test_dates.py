"""The date window: what it accepts at its edges, its setting, and how a stored date outside Python's range
is read (as the nearest edge, never an error)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Engine, text

from shared.dates import STORABLE_FROM, STORABLE_UNTIL, DateWindowSettings, get_date_settings, in_window
from shared.schemas.articles import ArticleIn

# Offsets at the extremes PostgreSQL and ISO 8601 allow, and the ones that move a date across a year.
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",  # 10000-01-01 in UTC
        "0001-01-01T00:00:00+14:00",  # 1 BC in UTC
        "9999-12-31T00:00:00Z",
        "0999-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:00:00-01:00",  # 3000-01-01 in UTC
    ],
)
def test_dates_outside_the_window_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ArticleIn.model_validate(
            {"title": "Ferry service resumes", "body": "The ferry sails again.", "published_at": value}
        )
    [error] = caught.value.errors()
    assert error["loc"] == ("published_at",)
    assert "1000 to 2999" in error["msg"]


@pytest.mark.parametrize(
    "value", ["1000-01-01T00:00:00Z", "2999-12-31T23:59:59.999999Z", "1000-01-01T09:00:00+09:00", "2026-03-05T10:00"]
)
def test_dates_inside_the_window_are_kept_with_their_offset(value: str) -> None:
    article = ArticleIn.model_validate(
        {"title": "Ferry service resumes", "body": "The ferry sails.", "published_at": value}
    )
    parsed = datetime.fromisoformat(value)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    assert article.published_at == parsed
    assert article.published_at is not None and article.published_at.utcoffset() == parsed.utcoffset()


@settings(max_examples=300, deadline=None, database=None)
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    offset=OFFSETS,
)
def test_the_window_is_decided_on_the_utc_value_and_never_raises_anything_else(
    moment: datetime, offset: timezone
) -> None:
    aware = moment.replace(tzinfo=offset)
    window = get_date_settings()
    try:
        utc = aware.astimezone(UTC)
    except OverflowError:
        utc = None
    expected = utc is not None and window.start <= utc < window.end
    try:
        in_window(aware)
    except ValueError:
        assert not expected
    else:
        assert expected


def test_the_window_is_a_setting_bounded_by_what_can_be_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_DATES_MIN_YEAR", "1900")
    monkeypatch.setenv("TIDINGS_DATES_MAX_YEAR", "2100")
    narrow = DateWindowSettings()
    assert (narrow.start, narrow.end) == (datetime(1900, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))
    for low, high in (("1", "2100"), ("1900", "9999"), ("2100", "1900")):
        monkeypatch.setenv("TIDINGS_DATES_MIN_YEAR", low)
        monkeypatch.setenv("TIDINGS_DATES_MAX_YEAR", high)
        with pytest.raises(ValidationError, match="TIDINGS_DATES_MIN_YEAR"):
            DateWindowSettings()


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'10000-01-01 00:00:00+00'::timestamptz", STORABLE_UNTIL),
        ("'0001-01-01 00:00:00+00 BC'::timestamptz", STORABLE_FROM),
        ("'infinity'::timestamptz", STORABLE_UNTIL),
        ("'-infinity'::timestamptz", STORABLE_FROM),
        ("'10000-01-01'::timestamp", STORABLE_UNTIL.replace(tzinfo=None)),
        ("'0044-03-15 BC'::date", STORABLE_FROM.date()),
        ("'2026-03-05 10:00:00+02'::timestamptz", datetime(2026, 3, 5, 8, tzinfo=UTC)),
        ("'2026-03-05'::date", date(2026, 3, 5)),
    ],
)
def test_a_stored_date_python_cannot_hold_reads_as_the_nearest_edge(
    engine: Engine, literal: str, expected: object
) -> None:
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT {literal}")).scalar_one() == expected
        # The binary protocol too (a server-side or binary cursor).
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor(binary=True) as cur:
            cur.execute(f"SELECT {literal}")
            row = cur.fetchone()
            assert row is not None and row[0] == expected


def test_the_database_refuses_an_article_date_outside_the_storable_window(engine: Engine) -> None:
    with engine.connect() as conn:
        check = conn.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'ck_articles_published_at_storable' AND convalidated"
            )
        ).scalar_one()
    assert "published_at" in check
