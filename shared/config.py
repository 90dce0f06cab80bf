"""Typed settings, one class per concern, read from the environment (prefix ``TIDINGS_``).

``DATABASE_URL`` and ``REDIS_URL`` are also honoured without the prefix, as the platform conventions expect.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


def _sqlalchemy_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at the psycopg 3 driver, which both sync and async engines use."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class _Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_", extra="ignore", env_file=None)


class DatabaseSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_DB_", extra="ignore")

    url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/tidings",
        validation_alias=AliasChoices("TIDINGS_DATABASE_URL", "DATABASE_URL"),
    )
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout_s: float = 5.0
    statement_timeout_ms: int = 30_000
    connect_timeout_s: int = 5

    @field_validator("url")
    @classmethod
    def _driver(cls, v: str) -> str:
        return _sqlalchemy_url(v)


class RedisSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_REDIS_", extra="ignore")

    url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("TIDINGS_REDIS_URL", "REDIS_URL"),
    )
    socket_timeout_s: float = 5.0

    @property
    def broker_url(self) -> str:
        """Celery spells a unix socket as ``redis+socket://``; redis-py as ``unix://``."""
        if self.url.startswith("unix://"):
            return "redis+socket://" + self.url[len("unix://") :]
        return self.url


class IngestSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_INGEST_", extra="ignore")

    max_body_bytes: int = 2 * 1024 * 1024
    max_batch_items: int = 1000
    task_chunk_size: int = 200
    idempotency_key_ttl_hours: int = 24
    max_title_chars: int = 1_000
    max_field_chars: int = 2_000
    max_metadata_bytes: int = 64 * 1024


class PipelineSettings(_Base):
    """Worker behaviour. The visibility timeout must exceed the longest task, or Redis redelivers it."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_PIPELINE_", extra="ignore")

    task_soft_time_limit_s: int = 240
    task_time_limit_s: int = 300
    visibility_timeout_s: int = 3600
    max_retries: int = 5
    retry_backoff_max_s: int = 300
    stalled_after_s: int = 60
    sweep_interval_s: float = 15.0
    sweep_batch: int = 2_000
    worker_concurrency: int = 2


# Where each service answers by default (``make run``); one definition for the services' links, the UI and
# the Python client.
INGEST_URL = "http://127.0.0.1:8000"
QUERY_URL = "http://127.0.0.1:8001"


class ServiceUrls(_Base):
    """The services' addresses as their users reach them, for the links one service writes to another."""

    public_query_url: str = Field(
        default=QUERY_URL, validation_alias=AliasChoices("TIDINGS_PUBLIC_QUERY_URL", "TIDINGS_INGEST_PUBLIC_QUERY_URL")
    )

    def query_article(self, article_id: object) -> str:
        """The query service's URL of a processed article."""
        return f"{self.public_query_url.rstrip('/')}/v1/articles/{article_id}"


class ObservabilitySettings(_Base):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_", extra="ignore")

    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON when not attached to a terminal


class Settings(_Base):
    env: Environment = Environment.development
    service_name: str = "tidings"
    secret_key: SecretStr = SecretStr("change-me")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    urls: ServiceUrls = Field(default_factory=ServiceUrls)

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.env is Environment.production and self.secret_key.get_secret_value() == "change-me":
            raise ValueError("TIDINGS_SECRET_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
