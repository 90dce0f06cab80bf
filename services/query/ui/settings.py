"""Settings of the web interface (env prefix ``TIDINGS_UI_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import INGEST_URL, settings_getter


class UISettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_UI_", extra="ignore")

    # The ingest API as this server reaches it: the operations pages read feeds and dead letters there and
    # ask it to replay, with the signed-in user's own key, so the ingest service keeps deciding who may.
    ingest_url: str = INGEST_URL
    ingest_timeout_s: float = 10.0
    page_size: int = 20
    # How long the sign-in cookie lasts; the key itself may expire or be revoked sooner (checked on every page).
    session_max_age_s: int = 12 * 3600
    stories_window_days: int = 30


get_ui_settings = settings_getter(UISettings)
