"""Settings of the search's background upkeep (env prefix ``TIDINGS_SEARCH_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_SEARCH_", extra="ignore")

    tag_stats_refresh_s: float = 300.0  # how stale /v1/tags counts may get
    tag_stats_timeout_s: int = 600


get_search_settings = settings_getter(SearchSettings)
