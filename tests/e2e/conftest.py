"""Fixtures of the end-to-end tests: two extra worker processes that become the only consumers of the pipeline
queue, for the tests that race two workers on one index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from celery import Celery

from devtools.processes import Platform, worker_argv
from shared.config import get_settings
from shared.tasks import QueueName, make_celery
from tests import conftest
from tests.support import ROOT, wait_for


@pytest.fixture
def control() -> Iterator[Celery]:
    app = make_celery(get_settings(), "tidings-test-race")
    yield app
    app.close()


@pytest.fixture
def two_workers(platform: dict[str, str], test_infra: conftest.TestInfra, control: Celery) -> Iterator[list[str]]:
    """Two extra single-process workers become the only consumers of the pipeline queue."""
    names = [f"race-{tag}-{uuid.uuid4().hex[:6]}@localhost" for tag in ("a", "b")]
    plat = Platform()
    paused: list[str] = []
    try:
        for name in names:
            argv = worker_argv(1, hostname=name, queues=(QueueName.PIPELINE,))
            plat.start(name, argv, test_infra.env, ROOT, log=conftest.LOG_DIR / f"{name.split('@')[0]}.log")

        def both_up() -> list[str] | None:
            replies = control.control.ping(timeout=0.5) or []
            up = {n for reply in replies for n in reply}
            return sorted(up) if set(names) <= up else None

        everyone = wait_for(both_up, timeout=60, what="the two race workers to answer a ping")
        paused = [n for n in everyone if n not in names]
        if paused:
            control.control.cancel_consumer(QueueName.PIPELINE, destination=paused, reply=True)
        yield names
    finally:
        if paused:
            control.control.add_consumer(QueueName.PIPELINE, destination=paused, reply=True)
        plat.stop()
