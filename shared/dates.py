"""The window of dates the platform accepts, and the type every road that takes a date from a client uses.

PostgreSQL stores ``timestamptz`` from 4713 BC to 294276 AD, Python's ``datetime`` only years 1 to 9999, and
an offset moves a date across those edges (``9999-12-31T23:59:59-14:00`` is 10000-01-01 in UTC). A date
PostgreSQL holds but Python cannot read breaks every read that meets it, so a date is accepted only when its
UTC value falls inside a window well within both ranges (years 1000 to 2999 by default, env prefix
``TIDINGS_DATES_``). The database enforces the widest window any setting may give (``STORABLE_FROM`` to
``STORABLE_UNTIL``, a CHECK constraint), and the services read a value outside it, should one ever get in,
as the nearest edge (``shared.db.safe_dates``) rather than fail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter

# The widest window a setting may open: a day inside Python's range on each side, so that converting any
# stored value to any time zone (offsets reach ±14 hours) stays readable.
STORABLE_FROM = datetime(1, 1, 2, tzinfo=UTC)
STORABLE_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)


def storable_sql(column: str) -> str:
    """The CHECK constraint's condition: ``column`` inside the storable window."""
    return f"{column} BETWEEN '{STORABLE_FROM.isoformat()}' AND '{STORABLE_UNTIL.isoformat()}'"


class DateWindowSettings(BaseSettings):
    """Accepted years, inclusive, of a date's UTC value."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_DATES_", extra="ignore")

    min_year: int = 1000
    max_year: int = 2999

    @model_validator(mode="after")
    def _within_storable(self) -> DateWindowSettings:
        if not STORABLE_FROM.year < self.min_year <= self.max_year < STORABLE_UNTIL.year:
            raise ValueError(
                f"TIDINGS_DATES_MIN_YEAR..MAX_YEAR must lie within {STORABLE_FROM.year + 1}..{STORABLE_UNTIL.year - 1}"
            )
        return self

    # Computed once per settings object: every client date of every request is checked against them.
    @cached_property
    def start(self) -> datetime:
        return datetime(self.min_year, 1, 1, tzinfo=UTC)

    @cached_property
    def end(self) -> datetime:
        """The first moment after the window."""
        return datetime(self.max_year + 1, 1, 1, tzinfo=UTC)


get_date_settings = settings_getter(DateWindowSettings)


def in_window(value: datetime) -> datetime:
    """``value`` (UTC when naive), or a ValueError saying which window it misses."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    window = get_date_settings()
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # its UTC value lies outside Python's years 1..9999
        utc = None
    if utc is None or not window.start <= utc < window.end:
        raise ValueError(f"must fall within the years {window.min_year} to {window.max_year} (UTC)")
    return value


STORED = {"stored": True}


def _validate(value: datetime, info: ValidationInfo) -> datetime:
    # A definition stored before the window was narrowed (a saved search's filters) is read back as it was
    # accepted: validated with ``context=STORED``, its dates are only made aware.
    if isinstance(info.context, dict) and info.context.get("stored"):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return in_window(value)


# A client's date: parsed by pydantic as ISO 8601, made UTC-aware when naive, then checked against the window.
WindowedDatetime = Annotated[datetime, AfterValidator(_validate)]
