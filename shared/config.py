"""Typed settings, one class per concern, read from the environment (prefix ``TIDINGS_``).

Each concern has one env prefix and one cached getter, made with :func:`settings_getter` next to its class
(``get_dedup_settings()`` in ``shared/dedup/settings.py``, ``get_query_settings()`` in
``services/query/settings.py``...). Code reads settings only through these getters, when it needs them, so
a process reads its environment once per concern and every part of it sees the same values; nothing builds
settings at import time or once per call. :class:`Settings` is the root the services start from: it
composes the platform-wide sections (database, Redis, ingest limits, pipeline, logging) from the same
getters. Getters rather than one object passed down every call chain: each area's settings stay beside
the code that documents them, and ``shared`` never has to import a service to know its settings. Tests
that change the environment call :func:`reset_settings`, the one way to make the next getter calls read it
again.

``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL`` are also honoured without the prefix, as the platform conventions expect.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

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


S = TypeVar("S", bound=BaseSettings)

_getters: list[Callable[[], BaseSettings]] = []


def settings_getter(cls: type[S]) -> Callable[[], S]:
    """A getter that builds ``cls`` from the environment on its first call and returns that instance after.

    Every getter made here is cleared by :func:`reset_settings`, so tests have one way to re-read them all.
    """

    @lru_cache(maxsize=1)
    def get() -> S:
        return cls()

    get.__doc__ = f"The process-wide {cls.__name__}, read from the environment once."
    _getters.append(get)
    return get


def reset_settings() -> None:
    """Forget every cached settings object, so the next getter calls read the environment again (tests)."""
    for get in _getters:
        get.cache_clear()  # type: ignore[attr-defined]


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


# Where each service answers by default (``make run``): one definition for the services' links, the UI and
# the Python client.
INGEST_URL = "http://127.0.0.1:8000"
QUERY_URL = "http://127.0.0.1:8001"


class IngestSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_INGEST_", extra="ignore")

    max_body_bytes: int = 2 * 1024 * 1024
    max_batch_items: int = 1000
    task_chunk_size: int = 200
    idempotency_key_ttl_hours: int = 24
    max_title_chars: int = 1_000
    max_field_chars: int = 2_000
    max_metadata_bytes: int = 64 * 1024
    # Where the query service answers, as producers and subscribers reach it: the status endpoint and the
    # saved-search deliveries link to the stored article.
    public_query_url: str = QUERY_URL
    # API processes `make run` and the image start: one per core the process may use.
    processes: int = Field(default_factory=lambda: len(os.sched_getaffinity(0)), ge=1)
    # Group commit: single articles arriving within this window share one INSERT, one commit and one
    # enqueue (0 turns it off); a group holds at most `group_commit_max` requests.
    group_commit_window_ms: float = Field(default=2.0, ge=0)
    group_commit_max: int = Field(default=64, ge=1)

    def query_article_url(self, article_id: object) -> str:
        """The query service's public URL of a processed article."""
        return f"{self.public_query_url.rstrip('/')}/v1/articles/{article_id}"


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
    """Logging: ``TIDINGS_LOG_LEVEL`` and ``TIDINGS_LOG_JSON``."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_LOG_", extra="ignore", populate_by_name=True)

    log_level: str = Field(default="INFO", validation_alias=AliasChoices("TIDINGS_LOG_LEVEL"))
    # None: JSON when not attached to a terminal.
    log_json: bool | None = Field(default=None, validation_alias=AliasChoices("TIDINGS_LOG_JSON"))


get_database_settings = settings_getter(DatabaseSettings)
get_redis_settings = settings_getter(RedisSettings)
get_broker_settings = settings_getter(BrokerSettings)
get_ingest_settings = settings_getter(IngestSettings)
get_pipeline_settings = settings_getter(PipelineSettings)
get_observability_settings = settings_getter(ObservabilitySettings)


class Settings(_Base):
    """The root: the environment and secret, and the platform-wide sections (the very objects their getters
    return, so ``get_settings().ingest is get_ingest_settings()``)."""

    env: Environment = Environment.development
    service_name: str = "tidings"
    secret_key: SecretStr = SecretStr("change-me")
    database: DatabaseSettings = Field(default_factory=get_database_settings)
    redis: RedisSettings = Field(default_factory=get_redis_settings)
    broker: BrokerSettings = Field(default_factory=get_broker_settings)
    ingest: IngestSettings = Field(default_factory=get_ingest_settings)
    pipeline: PipelineSettings = Field(default_factory=get_pipeline_settings)
    observability: ObservabilitySettings = Field(default_factory=get_observability_settings)

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.env is Environment.production and self.secret_key.get_secret_value() == "change-me":
            raise ValueError("TIDINGS_SECRET_KEY must be set in production")
        return self


get_settings = settings_getter(Settings)
