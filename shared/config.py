"""Typed settings, one class per concern, read from the environment (prefix ``TIDINGS_``).

``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL`` are also honoured without the prefix, as the platform
conventions expect.
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


class BrokerSettings(_Base):
    """Where Celery tasks travel. Unset: the Redis of ``RedisSettings``. ``amqp://`` selects RabbitMQ; Redis then
    still holds everything else (rate limits, feed politeness slots, the event stream)."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_BROKER_", extra="ignore")

    url: str | None = Field(default=None, validation_alias=AliasChoices("TIDINGS_BROKER_URL", "CELERY_BROKER_URL"))

    @field_validator("url")
    @classmethod
    def _unset_when_empty(cls, v: str | None) -> str | None:
        return v or None  # compose passes an unset variable as ""

    @property
    def is_amqp(self) -> bool:
        return self.url is not None and self.url.startswith(("amqp://", "amqps://", "pyamqp://"))


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
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.env is Environment.production and self.secret_key.get_secret_value() == "change-me":
            raise ValueError("TIDINGS_SECRET_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
