"""Fault injection: ingest N articles (duplicates mixed in, from concurrent clients) while a worker child and
then a whole worker are killed with SIGKILL mid-batch, Redis crashes and comes back empty, and PostgreSQL
restarts. Then: every article answered 2xx is present exactly once and processed, no duplicate rows, and the
dead-letter table holds exactly the poison articles.

The run owns its PostgreSQL and Redis (embedded binaries on a temporary directory) so it can stop and restart
them by process id. ``TIDINGS_CHAOS_ARTICLES`` sets N: a short run by default (part of ``make test``), 10,000
or more for the full run (``TIDINGS_CHAOS_ARTICLES=10000 make chaos``).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from devtools.processes import Platform, alembic_upgrade, beat_argv, uvicorn_argv, worker_argv
from tests.brokers import broker_env, session_vhost
from tests.chaos.servers import ChaosPostgres, ChaosRedis
from tests.conftest import create_test_api_key
from tests.support import ROOT, free_port, wait_for

ARTICLES = int(os.environ.get("TIDINGS_CHAOS_ARTICLES", "300"))
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900 + ARTICLES * 0.3)]
CLIENTS = 8
BATCH = 10
DUPLICATE_SHARE = 0.1  # this share of the articles is sent twice, by different clients
POISON_EVERY = 97  # every 97th article fails in a stage on every attempt
REQUEST_TIMEOUT_S = 30.0  # a request taking longer counts as a hang
CHUNKS = 5  # the articles go out in five waves; a fault is injected during each of the last four

CITIES = ["Lisbon", "Nairobi", "Osaka", "Quito", "Tromsø", "Adelaide", "Lyon", "Accra", "Leeds", "Pune", "Cork"]
SUBJECTS = ["the transport budget", "water prices", "school buses", "harbour dredging", "library hours", "bike lanes"]


def _article(n: int) -> dict:
    r = random.Random(n)
    city, subject = r.choice(CITIES), r.choice(SUBJECTS)
    body = (
        f"Councillors in {city} met on Tuesday to debate {subject}, according to report {n}. "
        f"The mayor said item {n} would be decided before the summer recess.\n\n"
        f"Residents of {city} have written {r.randint(10, 900)} letters about {subject} this year."
    )
    metadata = {"tidings_fault": "poison"} if n % POISON_EVERY == POISON_EVERY - 1 else {}
    return {
        "title": f"{city} council votes on {subject} ({n})",
        "body": body,
        "source": "chaos",
        "external_id": f"chaos-{n}",
        "metadata": metadata,
    }


@dataclass
class Ledger:
    """What the clients were told: every 2xx answer per external id, and every failure they saw."""

    answers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable_without_retry_after: int = 0
    transport_errors: int = 0
    hangs: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failures_seen(self) -> int:
        with self.lock:
            return sum(n for s, n in self.statuses.items() if s >= 500) + self.transport_errors


def _send(client: httpx.Client, ledger: Ledger, articles: list[dict], deadline: float) -> None:
    """Send until a 2xx answer, as a careful producer does: retry on 503, 429 and connection errors,
    honouring Retry-After, reusing the Idempotency-Key of a batch."""
    single = len(articles) == 1
    headers = {} if single else {"Idempotency-Key": uuid.uuid4().hex}
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        try:
            if single:
                r = client.post("/v1/articles", json=articles[0], headers=headers)
            else:
                r = client.post("/v1/articles/batch", json={"articles": articles}, headers=headers)
        except httpx.TimeoutException:
            with ledger.lock:
                ledger.hangs += 1
            continue
        except httpx.TransportError:
            with ledger.lock:
                ledger.transport_errors += 1
            time.sleep(min(2.0, 0.1 * attempt))  # backing off between retries, as a producer would
            continue
        with ledger.lock:
            ledger.statuses[r.status_code] += 1
            if r.status_code == 503 and "retry-after" not in r.headers:
                ledger.unavailable_without_retry_after += 1
        if r.status_code == 202:
            body = r.json()
            accepted = [body] if single else body["accepted"]
            if not single and body["rejected"]:
                ledger.unexpected.append(f"rejected: {body['rejected']}")
            with ledger.lock:
                for article, answer in zip(articles, accepted, strict=True):
                    ledger.answers[article["external_id"]].add(answer["id"])
            return
        if r.status_code in (409, 429, 503):
            time.sleep(min(float(r.headers.get("retry-after", "1")), 2.0))
            continue
        ledger.unexpected.append(f"{r.status_code}: {r.text[:300]}")
        return
    ledger.unexpected.append("gave up: deadline passed without a 2xx")


def _requests(numbers: list[int]) -> list[list[dict]]:
    """Batches of the given articles, with every tenth request a single article."""
    out: list[list[dict]] = []
    i = 0
    while i < len(numbers):
        size = 1 if len(out) % 10 == 9 else BATCH
        out.append([_article(n) for n in numbers[i : i + size]])
        i += size
    return out


@dataclass
class Run:
    tmp: Path
    pg: ChaosPostgres
    redis: ChaosRedis
    platform: Platform
    env: dict[str, str]
    ingest_url: str
    database_url: str
    headers: dict[str, str]
    worker_pid: int = 0
    faults: list[str] = field(default_factory=list)

    def sql(self, query: str, *args: object) -> list[tuple]:
        with psycopg.connect(self.pg.libpq_url("tidings_chaos"), autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, args).fetchall()

    def start_worker(self, name: str) -> None:
        child = self.platform.start(
            name, worker_argv(2, hostname=f"{name}@%h"), self.env, ROOT, log=self.tmp / f"{name}.log"
        )
        self.worker_pid = child.proc.pid

    def ready(self, dependency: str) -> bool:
        try:
            checks = httpx.get(f"{self.ingest_url}/readyz", timeout=5).json()
        except httpx.HTTPError:
            return False
        return (checks.get("checks") or checks.get("error", {}).get("details", {})).get(dependency) == "ok"


@pytest.fixture
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    # A short path: unix socket names are limited to ~107 bytes.
    tmp = Path(tmp_path_factory.mktemp("chaos", numbered=True))
    pg, redis = ChaosPostgres(tmp), ChaosRedis(tmp)
    platform = Platform()
    # With TIDINGS_TEST_BROKER=rabbitmq the tasks travel through RabbitMQ and the Redis restarts hit only
    # what Redis still holds (locks, rate limits, the event stream).
    rabbit = session_vhost("chaos")
    try:
        pg.start()
        redis.start()
        database_url = pg.create_database("tidings_chaos")
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "TIDINGS_ENV": "test",
            "TIDINGS_PIPELINE_STALLED_AFTER_S": "5",
            "TIDINGS_PIPELINE_SWEEP_INTERVAL_S": "1",
            "TIDINGS_RELIABILITY_FAULT_INJECTION": "true",
            "TIDINGS_RELIABILITY_RETRY_BASE_S": "0.2",
            "TIDINGS_DB_POOL_TIMEOUT_S": "5",
            "PYTHONUNBUFFERED": "1",  # a process killed with SIGKILL keeps its log lines
            **broker_env(rabbit),
        }
        alembic_upgrade(env, ROOT)
        ingest_port = free_port()
        ingest_url = f"http://127.0.0.1:{ingest_port}"
        platform.start(
            "ingest",
            uvicorn_argv("services.ingest.main:app", "127.0.0.1", ingest_port),
            env,
            ROOT,
            url=ingest_url,
            log=tmp / "ingest.log",
        )
        platform.start("beat", beat_argv(tmp / "celerybeat-schedule"), env, ROOT, log=tmp / "beat.log")
        key = create_test_api_key(database_url, name="chaos")
        chaos = Run(
            tmp=tmp,
            pg=pg,
            redis=redis,
            platform=platform,
            env=env,
            ingest_url=ingest_url,
            database_url=database_url,
            headers={"Authorization": f"Bearer {key}"},
        )
        chaos.start_worker("worker-1")
        platform.wait_healthy()
        yield chaos
    finally:
        platform.stop()
        redis.stop()
        if pg.socket_dir is not None:
            pg.stop()
        if rabbit is not None:
            rabbit.delete()


def _blocked_worker_backend(run: Run) -> int | None:
    """The pid of a worker process whose batch waits on the articles table: provably mid-transaction."""
    rows = run.sql(
        "SELECT application_name FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND application_name LIKE 'tidings-worker:%%'"
    )
    return int(rows[0][0].split(":")[1]) if rows else None


def _mid_batch(run: Run, kill: Callable[[int], None], send: Callable[[], None]) -> None:
    """Hold the articles table so a batch stops just before its upsert, then kill what holds that batch."""
    with psycopg.connect(run.pg.libpq_url("tidings_chaos"), connect_timeout=5) as holder:
        holder.execute("SET lock_timeout = '60s'")
        holder.execute("LOCK TABLE articles IN SHARE MODE")
        send()
        victim = wait_for(
            lambda: _blocked_worker_backend(run), timeout=120, what="a worker batch waiting mid-transaction"
        )
        kill(victim)
        holder.rollback()


def test_nothing_lost_nothing_doubled_under_faults(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    numbers = list(range(ARTICLES))
    rng = random.Random(7)
    duplicates = rng.sample(numbers, int(ARTICLES * DUPLICATE_SHARE))
    waves = [numbers[i::CHUNKS] for i in range(CHUNKS)]
    for n in duplicates:  # the copy goes out in another wave than the original
        waves[(n % CHUNKS + 1 + rng.randrange(CHUNKS - 1)) % CHUNKS].append(n)
    for wave in waves:
        rng.shuffle(wave)
    poison = {f"chaos-{n}" for n in numbers if _article(n)["metadata"]}

    ledger = Ledger()
    deadline = time.monotonic() + 600 + ARTICLES * 0.1
    local = threading.local()
    clients: list[httpx.Client] = []

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=run.ingest_url, headers=run.headers, timeout=REQUEST_TIMEOUT_S)
            clients.append(local.client)
        return local.client

    pool = ThreadPoolExecutor(CLIENTS)

    def send_wave(i: int) -> list:
        return [pool.submit(lambda batch=b: _send(client(), ledger, batch, deadline)) for b in _requests(waves[i])]

    def finish(futures: list) -> None:
        for f in futures:
            f.result()

    try:
        finish(send_wave(0))

        # 1. SIGKILL one worker child in the middle of its batch; Celery's parent replaces it.
        wave: list = []
        _mid_batch(run, lambda pid: os.kill(pid, signal.SIGKILL), lambda: wave.extend(send_wave(1)))
        run.faults.append("worker child killed with SIGKILL mid-batch")
        finish(wave)

        # 2. SIGKILL a whole worker (parent and children) mid-batch, as when a host dies; start another.
        wave = []

        def kill_worker(_: int) -> None:
            os.killpg(run.worker_pid, signal.SIGKILL)
            run.start_worker("worker-2")

        _mid_batch(run, kill_worker, lambda: wave.extend(send_wave(2)))
        run.faults.append("whole worker killed with SIGKILL mid-batch")
        finish(wave)

        # 3. Redis crashes and comes back empty: queued and unacknowledged tasks are gone.
        wave = send_wave(3)
        run.redis.crash()
        wait_for(lambda: not run.ready("redis"), timeout=30, what="the ingest service to see Redis down")
        run.redis.start()
        run.faults.append("Redis crashed (SIGKILL) and restarted empty")
        wait_for(lambda: run.ready("redis"), timeout=60, what="the ingest service to see Redis back")
        finish(wave)

        # 4. PostgreSQL restarts (fast shutdown) while articles arrive: 503 with Retry-After, then recovery.
        seen = ledger.failures_seen()
        wave = send_wave(4)
        run.pg.stop()
        wait_for(lambda: not run.ready("postgres"), timeout=30, what="the ingest service to see PostgreSQL down")
        wait_for(lambda: ledger.failures_seen() > seen, timeout=30, what="a client to meet the outage")
        run.pg.start()
        run.faults.append("PostgreSQL restarted")
        wait_for(lambda: run.ready("postgres"), timeout=60, what="the ingest service to see PostgreSQL back")
        finish(wave)
    finally:
        pool.shutdown(wait=True)
        for c in clients:
            c.close()
    sent_in = time.monotonic() - started

    assert ledger.unexpected == []
    accepted = set(ledger.answers)

    def settled() -> bool:
        states = dict(run.sql("SELECT state, count(*) FROM ingestions GROUP BY state"))
        return states.get("processed", 0) + states.get("failed", 0) == len(accepted)

    wait_for(settled, timeout=600 + ARTICLES * 0.1, interval=1.0, what="every accepted article to be settled")

    rows = run.sql("SELECT external_id, id::text, state FROM ingestions")
    by_external: dict[str, list[str]] = defaultdict(list)
    for external_id, article_id, _ in rows:
        by_external[external_id].append(article_id)
    processed = {e for e, _, state in rows if state == "processed"}
    article_rows = run.sql("SELECT external_id, id::text FROM articles")
    articles_by_external = Counter(e for e, _ in article_rows)
    parked = {
        e for (e,) in run.sql("SELECT i.external_id FROM dead_letters d JOIN ingestions i ON i.id = d.ingestion_id")
    }
    half_done = run.sql(
        "SELECT count(*) FROM ingestions i LEFT JOIN articles a ON a.id = i.id "
        "WHERE (i.state = 'processed') <> (a.id IS NOT NULL)"
    )[0][0]

    answered_twice_differently = sum(1 for ids in ledger.answers.values() if len(ids) > 1)
    duplicated = (
        answered_twice_differently
        + sum(len(ids) - 1 for ids in by_external.values())
        + sum(n - 1 for n in articles_by_external.values())
    )
    lost = sum(
        1
        for external_id, ids in ledger.answers.items()
        if not set(by_external.get(external_id, [])) >= ids
        or (external_id not in poison and external_id not in processed)
        or (external_id in poison and external_id not in parked)
    )
    elapsed = time.monotonic() - started
    with capsys.disabled():  # the figures are the point of the run: always shown
        print(
            f"\nchaos: accepted={len(accepted)}, processed={len(processed)}, lost={lost}, duplicated={duplicated}, "
            f"faults injected={len(run.faults)} | dead-lettered={len(parked)} (poison sent: {len(poison)}), "
            f"requests sent with duplicates: {sum(ledger.statuses.values())}, statuses={dict(ledger.statuses)}, "
            f"connection errors={ledger.transport_errors}, hangs={ledger.hangs}, "
            f"ingest {sent_in:.0f} s, total {elapsed:.0f} s\n  faults: {'; '.join(run.faults)}"
        )

    assert len(accepted) == ARTICLES
    assert lost == 0 and duplicated == 0
    assert parked == poison, "the dead-letter table holds exactly the poison articles"
    assert half_done == 0, "an article row exists exactly for each processed ingestion"
    assert len(run.faults) == 4
    assert all(s in (202, 409, 429, 503) for s in ledger.statuses), f"never a 500: {dict(ledger.statuses)}"
    assert ledger.statuses[503] > 0 and ledger.unavailable_without_retry_after == 0
    assert ledger.hangs == 0
