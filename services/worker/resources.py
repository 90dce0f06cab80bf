"""Per-process resources of a worker: made once in each process (after the fork), never shared across it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from services.worker.pipeline import build_stages
from services.worker.stages import Stage
from shared.config import Settings, get_settings
from shared.db.engine import make_engine, make_sessionmaker


@dataclass
class Resources:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        # The pid tells operators (and the chaos suite) which worker process holds a connection.
        return make_engine(self.settings.database, application_name=f"tidings-worker:{os.getpid()}")

    @cached_property
    def sessions(self) -> sessionmaker:
        return make_sessionmaker(self.engine)

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(
            self.settings.redis.url,
            socket_timeout=self.settings.redis.socket_timeout_s,
            socket_connect_timeout=self.settings.redis.socket_timeout_s,
        )

    @cached_property
    def stages(self) -> list[Stage]:
        return build_stages(self.settings)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


_current: Resources | None = None


def resources() -> Resources:
    global _current
    if _current is None:
        _current = Resources(get_settings())
    return _current


def reset() -> None:
    """Drop what the parent process made; called in each child after the fork."""
    global _current
    _current = None
