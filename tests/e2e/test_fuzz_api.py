"""Fuzzing the APIs where hostile input was found to hurt: stateful sequences through both schemas (create,
then read, change and delete what was created), and hypothesis strategies for dates at the edges of what
Python and PostgreSQL hold, and for forged cursors. No 5xx; every 4xx is the envelope naming the field.

Each run is bounded (examples and steps), derandomised so CI sees the same cases every time.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from services.ingest.main import app as ingest_app
from services.query.main import app as query_app

pytestmark = pytest.mark.e2e

BOUNDED = hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.filter_too_much],
)
STATEFUL = hypothesis.settings(BOUNDED, max_examples=6, stateful_step_count=4)


def names_the_field(ctx: object, response: object, case: Case) -> bool | None:
    """A 400 or 422 carries the envelope with at least one detail naming a field (a schemathesis check)."""
    status = getattr(response, "status_code", 0)
    if status not in (400, 422):
        return None
    body = json.loads(getattr(response, "content", b"") or b"{}")
    details = body.get("error", {}).get("details")
    if isinstance(details, dict) and "rejected" in details:  # a batch with no valid item: each item's error
        details = [d for item in details["rejected"] for d in item["error"]["details"] or [{}]]
    # A field is named by its path; an unknown key that is the empty string is named as it is ("").
    assert details and all(isinstance(d, dict) and isinstance(d.get("field"), str) for d in details), (
        f"{status} without a field: {body}"
    )
    assert all(d["field"] or d["message"] == "unknown field ''" for d in details), body
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def _machine(app: object):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_dict(app.openapi()).exclude(path="/v1/stream")  # type: ignore[attr-defined]
    return schema.as_state_machine()


@pytest.mark.parametrize("service", ["ingest", "query"])
def test_stateful_sequences_never_fail_the_server(
    service: str, platform: dict[str, str], api_key_headers: dict[str, str]
) -> None:
    base = _machine(ingest_app if service == "ingest" else query_app)

    class Machine(base):  # type: ignore[valid-type,misc]
        def get_call_kwargs(self, case: Case) -> dict[str, object]:
            return {"base_url": platform[service], "headers": api_key_headers, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            case.validate_response(response, checks=CHECKS, additional_checks=additional_checks)
            field_check = names_the_field(None, response, case)
            assert field_check in (None, True)

    Machine.run(settings=STATEFUL)


# Dates at the edges: around Python's limits, the window's, and with the widest offsets.
EDGE_DAYS = [datetime(1, 1, 1), datetime(999, 12, 31), datetime(1000, 1, 1), datetime(2999, 12, 31),
             datetime(3000, 1, 1), datetime(9999, 12, 30), datetime(9999, 12, 31, 23, 59, 59)]  # fmt: skip
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@st.composite
def edge_dates(draw: st.DrawFn) -> str:
    day = draw(st.sampled_from(EDGE_DAYS))
    try:
        moment = day + timedelta(minutes=draw(st.integers(min_value=-1440, max_value=1440)))
    except OverflowError:
        moment = day
    if draw(st.booleans()):
        return moment.isoformat()  # naive: UTC
    return moment.replace(tzinfo=draw(OFFSETS)).isoformat()


DATE_ENDPOINTS = ["/v1/articles", "/v1/clusters", "/v1/events", "/v1/timeseries", "/v1/facets", "/v1/export"]


@hypothesis.settings(BOUNDED, max_examples=40)
@hypothesis.given(
    path=st.sampled_from(DATE_ENDPOINTS),
    date_from=st.one_of(st.none(), edge_dates()),
    date_to=st.one_of(st.none(), edge_dates()),
    tz=st.sampled_from(["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu"]),
)
def test_dates_at_the_edges_are_answered_or_refused_naming_the_parameter(
    platform: dict[str, str],
    api_key_headers: dict[str, str],
    path: str,
    date_from: str | None,
    date_to: str | None,
    tz: str,
) -> None:
    params = {k: v for k, v in (("from", date_from), ("to", date_to)) if v is not None}
    if path == "/v1/timeseries":
        params["tz"] = tz
    r = httpx.get(f"{platform['query']}{path}", params=params, headers=api_key_headers, timeout=30)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        fields = {d["field"] for d in r.json()["error"]["details"]}
        assert fields & {"from", "to", "interval"}, r.text


def _encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
    st.sampled_from(["2026-03-02T07:30:00+00:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]),
)  # fmt: skip
CURSOR_KEYS = st.lists(JSON_SCALARS, max_size=4)


@hypothesis.settings(BOUNDED, max_examples=40)
@hypothesis.given(
    kind=st.sampled_from(["articles", "clusters", "events"]),
    key=st.one_of(CURSOR_KEYS, JSON_SCALARS),
    raw=st.one_of(st.none(), st.text(max_size=60)),
)
def test_forged_cursors_are_refused_naming_the_cursor(
    platform: dict[str, str], api_key_headers: dict[str, str], kind: str, key: object, raw: str | None
) -> None:
    from shared.search.filters import SearchFilters

    if kind == "articles":
        path, params = "/v1/articles", {"sort": "published"}
        state = {"s": "published", "f": SearchFilters().fingerprint(), "k": key}
    else:
        window = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
        path = f"/v1/{kind}"
        params = {"from": window[0].isoformat(), "to": window[1].isoformat()}
        # The events listing's window names its order too; "largest" reads a size from the cursor's key.
        suffix = "/1/largest" if kind == "events" else "/1"
        if kind == "events":
            params["sort"] = "largest"
        state = {"w": f"{window[0].isoformat()}/{window[1].isoformat()}{suffix}", "k": key}
    params["cursor"] = raw if raw is not None else _encoded(state)
    r = httpx.get(f"{platform['query']}{path}", params=params, headers=api_key_headers, timeout=30)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert {d["field"] for d in r.json()["error"]["details"]} == {"cursor"}, r.text
