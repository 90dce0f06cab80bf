"""Every query endpoint is documented: its success answer and its errors in the one envelope."""

from __future__ import annotations

from services.query.main import create_app


def test_every_endpoint_documents_its_answers_and_the_error_envelope() -> None:
    spec = create_app().openapi()
    paths = {path: ops for path, ops in spec["paths"].items() if path.startswith("/v1/")}
    assert {
        "/v1/articles", "/v1/articles/{article_id}", "/v1/articles/{article_id}/duplicates",
        "/v1/articles/{article_id}/similar", "/v1/articles/{article_id}/reuse", "/v1/facets", "/v1/timeseries",
        "/v1/clusters",
        "/v1/clusters/{cluster_id}", "/v1/tags", "/v1/stream", "/v1/export", "/v1/saved-searches",
        "/v1/saved-searches/{saved_search_id}/deliveries",
    } <= set(paths)  # fmt: skip
    for path, ops in paths.items():
        for method, op in ops.items():
            responses = op["responses"]
            success = next(code for code in responses if code.startswith("2"))
            assert responses[success].get("content") or success == "204", f"{method} {path}"
            assert responses["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }, f"{method} {path}"
            if "{" in path:
                assert "404" in responses, f"{method} {path}"
    assert "text/event-stream" in paths["/v1/stream"]["get"]["responses"]["200"]["content"]
    assert set(paths["/v1/export"]["get"]["responses"]["200"]["content"]) == {"text/csv", "application/jsonl"}
    params = {p["name"] for p in paths["/v1/articles"]["get"]["parameters"]}
    assert params >= {"q", "source", "language", "from", "to", "tag", "entity", "place", "topic", "cluster",
                      "include_duplicates", "sort", "cursor", "limit"}  # fmt: skip
