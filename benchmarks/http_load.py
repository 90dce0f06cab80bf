"""A small closed-loop HTTP/1.1 load generator, run as its own process by ``benchmarks.ingest``.

Each of ``--clients`` keep-alive connections sends one request, reads the whole answer, and sends the next,
for ``--seconds``. The request is written from pre-encoded bytes (only a counter changes, so every article
is new) and the answer is parsed just far enough to find its status and length: the generator must cost far
less CPU than the server it measures, and it reports its own CPU seconds so that can be checked.

Reads a JSON spec on stdin ``{"host", "port", "path", "headers": {...}, "body_prefix", "body_suffix",
"clients", "seconds", "warmup_s", "start"}``; the body is ``prefix + counter + suffix``. Writes one JSON
object on stdout: requests, errors (by status), req/s, latency percentiles in ms, CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

import uvloop


async def _client(spec: dict[str, Any], counter: list[int], until: list[float], out: list[float],
                  statuses: dict[int, int]) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
    head = f"POST {spec['path']} HTTP/1.1\r\nHost: {spec['host']}:{spec['port']}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    prefix, suffix = spec["body_prefix"].encode(), spec["body_suffix"].encode()
    try:
        while True:
            now = time.perf_counter()
            if now >= until[1]:
                return
            counter[0] += 1
            body = prefix + str(counter[0]).encode() + suffix
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            started = time.perf_counter()
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            if started >= until[0]:  # past the warm-up
                status = int(status_line.split()[1]) if status_line else 0
                statuses[status] = statuses.get(status, 0) + 1
                out.append(elapsed)
    finally:
        writer.close()


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    counter = [int(spec.get("start", 0))]
    begin = time.perf_counter()
    until = [begin + spec["warmup_s"], begin + spec["warmup_s"] + spec["seconds"]]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(_client(spec, counter, until, latencies, statuses) for _ in range(spec["clients"])))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 2)

    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "per_s": round(ok / spec["seconds"], 1),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
        "wall_s": round(spec["warmup_s"] + spec["seconds"], 2),
        "last_counter": counter[0],
    }


def main() -> int:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(uvloop.run(_run(spec))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
