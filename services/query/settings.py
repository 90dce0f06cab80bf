"""Settings of the query service (env prefix ``TIDINGS_QUERY_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter


class QuerySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_QUERY_", extra="ignore")

    # Facets count over at most this many matching articles (the most recent ones); beyond it the answer says
    # it is a sample. Exact counts over hundreds of thousands of rows would cost seconds.
    facet_sample_size: int = 1_000
    facet_scan_budget: int = 5_000  # newest rows of the filters' set a facet sample is drawn from
    max_facet_size: int = 100
    # sort=relevance ranks at most this many matches, the most recent: ranking reads each candidate's tsvector.
    relevance_window: int = 500
    # Newest rows tested against a full-text query or tag filter before asking the GIN and tag indexes for
    # every match (services/query/search.py explains why).
    scan_budget: int = 3_000
    max_timeseries_buckets: int = 5_000
    # Facets and time series of filter-only requests from the counts kept per hour (exact, and independent of
    # the number of matches); off, they are counted from the articles as a full-text search is.
    use_hour_counts: bool = True
    # Tag facets sum a cell per hour and value, and the long tail of entities puts ~4,500 cells in a day of a
    # 1M-article corpus: a month (135,000 cells, 1.6 s cold on the benchmark) costs more than sampling the
    # newest matches. Beyond this many days the sample is used.
    hour_counts_facet_max_days: int = 2
    # ts_headline parses the whole text it is given: cap it so one huge body cannot slow a page.
    snippet_max_chars: int = 20_000
    # Per-connection planner settings: JIT compilation costs more than it saves on these short queries, and
    # full-text selectivity differs so much between terms that a generic plan is never right.
    work_mem: str = "32MB"
    # Parallel workers help one query on an idle machine, but under concurrent requests every core is already
    # busy: the extra processes only add start-up and contention, and the parallel plans they invite (hashing
    # a whole tag's postings to join a month of articles) cost twice the serial ones. 0 keeps queries serial.
    max_parallel_workers_per_gather: int = 0
    statement_timeout_ms: int = 15_000
    export_chunk_rows: int = 1_000
    export_max_rows: int = 1_000_000
    stream_batch: int = 200
    stream_block_ms: int = 2_000  # below the Redis socket timeout
    similar_candidates_per_tag: int = 300
    # Request bodies (saved searches, sign-in forms) above this are refused with 413. The query service's own
    # limit: its bodies are small and need not follow the ingest service's article-sized one.
    max_body_bytes: int = 2 * 1024 * 1024


get_query_settings = settings_getter(QuerySettings)


def session_statements(settings: QuerySettings) -> tuple[str, ...]:
    """The ``SET`` statements run once on each of the service's database connections."""
    return (
        "SET jit = off",
        "SET plan_cache_mode = force_custom_plan",
        f"SET work_mem = '{settings.work_mem}'",
        f"SET max_parallel_workers_per_gather = {int(settings.max_parallel_workers_per_gather)}",
        f"SET statement_timeout = {int(settings.statement_timeout_ms)}",
    )
