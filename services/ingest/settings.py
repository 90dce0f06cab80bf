"""Settings the ingest service alone reads."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_INGEST_", extra="ignore")

    public_query_url: str = "http://localhost:8001"
