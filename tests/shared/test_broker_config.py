"""Which broker Celery is given: Redis by default, RabbitMQ when TIDINGS_BROKER_URL or CELERY_BROKER_URL names it."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.tasks import celery_config

AMQP = "amqp://tidings:secret@rabbitmq.internal:5672/tidings"


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in ("TIDINGS_BROKER_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6379/3")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_without_a_broker_url_the_tasks_go_through_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    config = celery_config(_settings(monkeypatch))
    assert config["broker_url"] == "redis://redis.internal:6379/3"
    assert config["broker_transport_options"]["visibility_timeout"] > 0


def test_an_empty_broker_url_means_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    # docker-compose.yml passes an unset variable through as an empty string.
    config = celery_config(_settings(monkeypatch, TIDINGS_BROKER_URL=""))
    assert config["broker_url"] == "redis://redis.internal:6379/3"


@pytest.mark.parametrize("variable", ["TIDINGS_BROKER_URL", "CELERY_BROKER_URL"])
def test_an_amqp_url_selects_rabbitmq_with_publisher_confirms(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    settings = _settings(monkeypatch, **{variable: AMQP})
    config = celery_config(settings)
    assert config["broker_url"] == AMQP
    assert config["broker_transport_options"] == {"confirm_publish": True}
    assert settings.redis.url == "redis://redis.internal:6379/3"  # still the store of everything else
