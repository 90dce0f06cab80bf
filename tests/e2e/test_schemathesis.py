"""Schema fuzzing: schemathesis drives both services from their OpenAPI schemas. No 5xx, and every
response matches its documented status, content type and schema.

The schemas come from the apps themselves (the same documents the services serve at /openapi.json), so
the tests are generated at collection; the calls go to the running services.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.ingest.main import app as ingest_app
from services.query.main import app as query_app
from tests.e2e.test_fuzz_api import names_the_field

pytestmark = pytest.mark.e2e

# No server error, every answer as documented, and every 400/422 naming the field. (Schemathesis' other
# checks judge how precisely request schemas describe validation, e.g. that a string may not hold NUL.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    names_the_field,
]

# No health check suppressed: the strategies of every operation pass them (tests/e2e/test_fuzz_api.py holds
# the stateful sequences and the edge-date and cursor strategies).
SETTINGS = hypothesis.settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same cases in every CI run; a found failure stays found
    database=None,
)

ingest_schema = schemathesis.openapi.from_dict(ingest_app.openapi())
# The live stream never ends; it has its own tests.
query_schema = schemathesis.openapi.from_dict(query_app.openapi()).exclude(path="/v1/stream")


@ingest_schema.parametrize()
@SETTINGS
def test_ingest_api(case: Case, platform: dict[str, str], api_key_headers: dict[str, str]) -> None:
    case.call_and_validate(base_url=platform["ingest"], headers=api_key_headers, checks=CHECKS, timeout=30)


@query_schema.parametrize()
@SETTINGS
def test_query_api(case: Case, platform: dict[str, str], api_key_headers: dict[str, str]) -> None:
    case.call_and_validate(base_url=platform["query"], headers=api_key_headers, checks=CHECKS, timeout=30)
