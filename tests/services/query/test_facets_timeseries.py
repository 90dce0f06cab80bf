"""``/v1/facets`` and ``/v1/timeseries`` over a real corpus: counts agree with the corpus, zero-filled buckets
in a time zone across a daylight-saving change, and 400s naming the parameter."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.query.timeseries import bin_width
from tests.services.query.corpus import Corpus, Doc

pytestmark = pytest.mark.e2e


def _counts(buckets: list[dict]) -> dict[str, int]:
    return {b["value"]: b["count"] for b in buckets}


def test_facets_count_sources_languages_and_tags_of_the_matches(qc: httpx.Client, corpus: Corpus) -> None:
    r = qc.get("/v1/facets", params={"topic": "11000000", "size": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    matches = [d for d in corpus.canonical() if d.has("topic", "11000000")]
    assert body["considered"] == len(matches) and body["sampled"] is False
    facets = body["facets"]
    assert list(facets) == ["source", "language", "topic", "entity", "place"]
    assert _counts(facets["source"]) == Counter(d.source for d in matches)
    assert _counts(facets["language"]) == Counter(d.language for d in matches)
    assert _counts(facets["topic"]) == Counter(v for d in matches for v in d.tag_values("topic"))
    assert _counts(facets["place"]) == Counter(v for d in matches for v in d.tag_values("place"))
    entities = Counter(v for d in matches for k in ("person", "organisation", "misc") for v in d.tag_values(k))
    assert _counts(facets["entity"]) == entities
    marsh = next(b for b in facets["entity"] if b["value"] == "Helen Marsh")
    assert marsh["kind"] == "person"
    topic = next(b for b in facets["topic"] if b["value"] == "11000000")
    assert topic["name"] == "politics"
    counts = [b["count"] for b in facets["place"]]
    assert counts == sorted(counts, reverse=True)


def test_facets_follow_the_full_text_query_and_the_size(qc: httpx.Client, corpus: Corpus) -> None:
    body = qc.get("/v1/facets", params={"q": "Omdurman OR Alliance", "facet": ["place", "person"], "size": 2}).json()
    assert list(body["facets"]) == ["place", "person"]
    assert all(len(v) <= 2 for v in body["facets"].values())
    assert body["considered"] >= 2
    top_place = body["facets"]["place"][0]
    assert top_place["count"] >= 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"facet": "colour"}, "facet.0"), ({"size": "0"}, "size"), ({"size": "1000"}, "size"), ({"to": "soon"}, "to")],
)
def test_facet_errors_name_the_parameter(qc: httpx.Client, corpus: Corpus, params: dict, field: str) -> None:
    r = qc.get("/v1/facets", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == field


def _local_day(d: Doc, zone: ZoneInfo) -> str:
    return d.published_at.astimezone(zone).date().isoformat()


def test_daily_series_in_paris_is_zero_filled_across_the_dst_change(qc: httpx.Client, corpus: Corpus) -> None:
    zone = ZoneInfo("Europe/Paris")
    params = {"from": "2025-03-01T00:00:00+01:00", "to": "2025-04-01T00:00:00+02:00", "interval": "day"}
    r = qc.get("/v1/timeseries", params={**params, "tz": "Europe/Paris"})
    assert r.status_code == 200, r.text
    series = r.json()
    assert len(series["buckets"]) == 31
    starts = [datetime.fromisoformat(b["start"]) for b in series["buckets"]]
    assert all(s.astimezone(zone).hour == 0 for s in starts)
    assert starts[29].utcoffset() == timedelta(hours=1) and starts[30].utcoffset() == timedelta(hours=2)
    assert starts[30] - starts[29] == timedelta(hours=23), "30 March 2025 lasts 23 hours in Paris"
    expected = Counter(_local_day(d, zone) for d in corpus.canonical())
    got = {s.astimezone(zone).date().isoformat(): b["count"] for s, b in zip(starts, series["buckets"], strict=True)}
    assert got == {day: expected.get(day, 0) for day in got}
    assert 0 in got.values(), "some days have no article: zero-filled"
    assert series["total"] == len(corpus.canonical())

    # The seed (00:30 UTC on 30 March) is on the 30th in Paris, and the 29th in New York.
    utc_series = qc.get("/v1/timeseries", params={**params, "tz": "America/New_York", "q": "Omdurman"}).json()
    nonzero = [b for b in utc_series["buckets"] if b["count"]]
    assert [datetime.fromisoformat(b["start"]).date().isoformat() for b in nonzero] == ["2025-03-29"]


@pytest.mark.parametrize("tz", ["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
def test_daily_series_in_zones_a_fraction_of_an_hour_from_utc(qc: httpx.Client, corpus: Corpus, tz: str) -> None:
    """Local midnight in India (+5:30), Nepal (+5:45) or Newfoundland (-3:30) is not on a UTC hour."""
    zone = ZoneInfo(tz)
    r = qc.get("/v1/timeseries", params={"interval": "day", "tz": tz})
    assert r.status_code == 200, r.text
    buckets = r.json()["buckets"]
    got = {datetime.fromisoformat(b["start"]).astimezone(zone).date().isoformat(): b["count"] for b in buckets}
    expected = Counter(_local_day(d, zone) for d in corpus.canonical())
    assert {day: n for day, n in got.items() if n} == dict(expected)
    assert all(datetime.fromisoformat(b["start"]).astimezone(zone).time() == time(0) for b in buckets)


def test_bins_are_quarter_hours_only_where_the_zone_needs_them() -> None:
    moments: list[datetime | None] = [datetime(2025, 1, 15, tzinfo=UTC), datetime(2025, 7, 15, tzinfo=UTC), None]
    assert bin_width(ZoneInfo("Europe/Paris"), moments) == timedelta(hours=1)  # +1 and +2 (summer time)
    assert bin_width(ZoneInfo("America/New_York"), moments) == timedelta(hours=1)
    assert bin_width(ZoneInfo("Asia/Kolkata"), moments) == timedelta(minutes=15)
    assert bin_width(ZoneInfo("Australia/Lord_Howe"), moments) == timedelta(minutes=15)  # +10:30, +11 in summer


def test_weekly_and_hourly_series_with_filters(qc: httpx.Client, corpus: Corpus) -> None:
    weekly = qc.get("/v1/timeseries", params={"interval": "week", "place": "Glasgow"}).json()
    glasgow = [d for d in corpus.canonical() if d.has("place", "Glasgow")]
    assert weekly["total"] == len(glasgow)
    starts = [datetime.fromisoformat(b["start"]) for b in weekly["buckets"]]
    assert all(s.weekday() == 0 for s in starts) and starts == sorted(starts)
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(starts))
    first = min(d.published_at for d in glasgow)
    assert starts[0] <= first < starts[0] + timedelta(weeks=1)

    hourly = qc.get(
        "/v1/timeseries",
        params={"interval": "hour", "from": "2025-03-30T00:00:00Z", "to": "2025-03-30T06:00:00Z", "q": "Omdurman"},
    ).json()
    assert [b["count"] for b in hourly["buckets"]] == [1, 0, 0, 0, 0, 0]
    assert datetime.fromisoformat(hourly["buckets"][0]["start"]) == datetime(2025, 3, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"interval": "fortnight"}, "interval"),
        ({"interval": "hour", "from": "2000-01-01", "to": "2025-01-01"}, "interval"),
        ({"from": "2025-02-30"}, "from"),
    ],
)
def test_time_series_errors_name_the_parameter(qc: httpx.Client, corpus: Corpus, params: dict, field: str) -> None:
    r = qc.get("/v1/timeseries", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == field
