"""Settings of the ingestion channels (env prefix ``TIDINGS_CHANNELS_``), read by the ingest service and the
feed poller alike."""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.channels.netguard import parse_networks
from shared.config import settings_getter


class ChannelSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_CHANNELS_", extra="ignore")

    # Webhooks (Standard Webhooks): how far a delivery's timestamp may be from our clock.
    webhook_tolerance_s: int = 300
    # After a rotation the previous secret keeps working this long, so partners can switch without a gap.
    secret_grace_s: int = 24 * 3600

    # Feeds: the adaptive polling interval stays within these bounds.
    feed_min_interval_s: int = 300
    feed_max_interval_s: int = 24 * 3600
    feed_initial_interval_s: int = 3600
    # How often beat looks for due feeds, and how many it hands out per look.
    feed_schedule_s: float = 30.0
    feed_due_batch: int = 500
    # Politeness: at least this long between two requests to the same host.
    feed_host_delay_s: float = 2.0
    feed_timeout_s: float = 20.0
    feed_max_bytes: int = 5 * 1024 * 1024
    feed_max_redirects: int = 5
    # A feed that keeps failing is given up (set inactive) after this many consecutive failures.
    feed_dead_after_failures: int = 10
    # A feed that answers but has brought nothing new for this long has "gone quiet".
    feed_quiet_after_s: int = 3 * 24 * 3600
    feed_user_agent: str = "Tidings/0.1 feed poller (+https://github.com/tidings)"
    # Networks feed URLs may point into although they are not public (comma-separated CIDRs, each with optional
    # ports): 10.1.2.0/24 admits ports 80 and 443 only, 10.1.2.0/24:8080, 127.0.0.2/32:8000-8099 or
    # 127.0.0.0/8:* (tests) say which, [fd00::/8]:8443 for IPv6. Everything non-public is refused otherwise.
    feed_allowed_networks: Annotated[list[str], NoDecode] = []
    # How long poll records are kept for the health figures.
    feed_poll_history_days: int = 14

    @field_validator("feed_allowed_networks", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            v = [part.strip() for part in v.split(",") if part.strip()]
        if isinstance(v, list):
            parse_networks(v)  # a bad entry stops the process at start, not each poll
        return v


get_channel_settings = settings_getter(ChannelSettings)
