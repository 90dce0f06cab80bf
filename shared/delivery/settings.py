"""Settings of outbound delivery (env prefix ``TIDINGS_DELIVERY_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_DELIVERY_", extra="ignore")

    match_interval_s: float = 5.0  # how often beat runs the matcher over the processed-articles stream
    match_batch: int = 1_000  # stream entries per matcher run
    consumer_group: str = "saved-search-delivery"
    claim_idle_s: int = 120  # entries a dead matcher read but never acknowledged are taken over after this
    max_articles_per_delivery: int = 100
    max_attempts: int = 8
    backoff_base_s: float = 2.0  # attempt n waits about base * 4^(n-1), jittered, capped
    backoff_max_s: float = 3_600.0
    timeout_s: float = 10.0
    stale_pending_s: int = 300  # a pending delivery untouched this long lost its task: enqueue it again
    match_retention_days: int = 30
    max_response_log_chars: int = 500
    # Subscriber URLs may point at private or loopback addresses (a laptop, a test, an internal network).
    # None: allowed except in production, where such targets are refused to keep the worker from being used
    # to reach internal services (SSRF).
    allow_private_targets: bool | None = None


get_delivery_settings = settings_getter(DeliverySettings)
