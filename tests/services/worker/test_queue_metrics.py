"""Queue depth and the oldest task's age, measured on real Redis lists filled by a real Celery producer."""

from __future__ import annotations

import time
import uuid

import redis
from celery import Celery

from services.worker.metrics import measure_queues
from shared.config import get_settings
from shared.tasks import celery_config


def test_depth_and_oldest_age_of_each_queue(redis_client: redis.Redis) -> None:
    busy, idle = f"test-busy-{uuid.uuid4().hex[:8]}", f"test-idle-{uuid.uuid4().hex[:8]}"
    producer = Celery("tidings-test-producer")
    producer.conf.update(celery_config(get_settings()))
    try:
        before = time.time()
        for _ in range(3):  # no worker reads these queues: the tasks wait
            producer.send_task("tidings.test.nothing", queue=busy)
        after = time.time()
        measured = measure_queues(redis_client, [busy, idle], now=after + 5)
    finally:
        producer.close()
        redis_client.delete(busy)
    depth, age = measured[busy]
    assert depth == 3
    assert 5 <= age <= after - before + 5  # since the oldest task was sent
    assert measured[idle] == (0, 0.0)
