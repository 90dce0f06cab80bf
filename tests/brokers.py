"""The Celery broker a test session uses: Redis by default, RabbitMQ when ``TIDINGS_TEST_BROKER=rabbitmq``.

RabbitMQ runs the same suite on its own virtual host per session (made with ``rabbitmqctl``, removed at the
end), so parallel sessions and leftovers of a killed one never share a queue. Redis stays the store of
locks, rate limits and the event stream either way.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from urllib.parse import quote

RABBITMQ_URL = os.environ.get("TIDINGS_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")
RABBITMQ_USER = os.environ.get("TIDINGS_TEST_RABBITMQ_USER", "guest")


def wants_rabbitmq() -> bool:
    return os.environ.get("TIDINGS_TEST_BROKER", "redis").lower() == "rabbitmq"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@dataclass
class RabbitVhost:
    """A RabbitMQ virtual host of one test session (or one chaos run)."""

    name: str

    @property
    def url(self) -> str:
        return f"{RABBITMQ_URL}/{quote(self.name, safe='')}"

    def create(self) -> RabbitVhost:
        _rabbitmqctl("add_vhost", self.name)
        _rabbitmqctl("set_permissions", "-p", self.name, RABBITMQ_USER, ".*", ".*", ".*")
        return self

    def delete(self) -> None:
        _rabbitmqctl("delete_vhost", self.name)


def broker_env(vhost: RabbitVhost | None) -> dict[str, str]:
    """The environment that points every process at the session's broker (nothing: Redis, the default)."""
    return {"TIDINGS_BROKER_URL": vhost.url} if vhost is not None else {}


def session_vhost(tag: str) -> RabbitVhost | None:
    """A fresh vhost when the session runs on RabbitMQ, else None."""
    return RabbitVhost(f"tidings-{tag}-{os.getpid()}").create() if wants_rabbitmq() else None
