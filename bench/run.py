"""The benchmark: aioqiscus against raw httpx, raw aiohttp and qiscusapi.

    python bench/run.py [--calls 2000] [--rounds 3] [--quick]

It starts ``bench/server.py`` under uvicorn + httptools on loopback (one
server process per latency: 0 ms and 20 ms), then runs every variant in its
own process, in a random order per round, at 1, 8, 32 and 128 requests in
flight. It reports medians over the rounds: req/s, client CPU per request
(getrusage), p50 and p99 latency, and the ratios the targets are stated in.
The table is printed and written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = [
    "aioqiscus-httpx",
    "aioqiscus-aiohttp",
    "raw-httpx",
    "raw-aiohttp",
    "qiscusapi-sequential",
    "qiscusapi-threads",
]
CONCURRENCY = [1, 8, 32, 128]
LATENCIES = [0, 20]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "server.py"),
            "--port",
            str(port),
            "--latency-ms",
            str(latency),
        ],
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            time.sleep(0.05)
        else:
            return proc, f"http://127.0.0.1:{port}"
    proc.kill()
    raise SystemExit("benchmark server did not start")


def run_variant(name: str, url: str, calls: int, concurrency: int) -> dict:
    if name == "qiscusapi-sequential":
        concurrency = 1
    out = subprocess.run(
        [
            sys.executable,
            str(HERE / "variants.py"),
            name,
            "--url",
            url,
            "--calls",
            str(calls),
            "--concurrency",
            str(concurrency),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def table(results: dict, calls: int, rounds: int) -> str:
    lines = [
        (
            f"Benchmark: {calls} v2 `post_comment` calls per run, median of {rounds} "
            f"rounds; Python {platform.python_version()}, {platform.machine()}, "
            f"{datetime.now(UTC):%Y-%m-%d}."
        ),
        "",
        "| latency | in flight | variant | req/s | CPU µs/req | p50 ms | p99 ms |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    for (latency, concurrency), by_variant in sorted(results.items()):
        for name in VARIANTS:
            rows = by_variant.get(name)
            if not rows:
                continue
            lines.append(
                f"| {latency} ms | {concurrency} | {name} | {median(rows, 'req_s'):,.0f} | "
                f"{median(rows, 'cpu_us'):,.0f} | {median(rows, 'p50_ms'):.2f} | "
                f"{median(rows, 'p99_ms'):.2f} |"
            )
    lines += [
        "",
        "Ratios (medians):",
        "",
        (
            "| latency | in flight | aioqiscus-httpx / raw-httpx req/s | CPU/req | "
            "aioqiscus-aiohttp / raw-aiohttp req/s | aioqiscus-aiohttp / raw-httpx req/s | "
            "aioqiscus-httpx / qiscusapi-threads req/s | aioqiscus-aiohttp / qiscusapi-threads req/s |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (latency, concurrency), v in sorted(results.items()):

        def r(a: str, b: str, key: str = "req_s") -> str:
            if not v.get(a) or not v.get(b):
                return "-"
            return f"{median(v[a], key) / median(v[b], key):.2f}x"

        lines.append(
            f"| {latency} ms | {concurrency} | {r('aioqiscus-httpx', 'raw-httpx')} | "
            f"{r('aioqiscus-httpx', 'raw-httpx', 'cpu_us')} | "
            f"{r('aioqiscus-aiohttp', 'raw-aiohttp')} | "
            f"{r('aioqiscus-aiohttp', 'raw-httpx')} | "
            f"{r('aioqiscus-httpx', 'qiscusapi-threads')} | "
            f"{r('aioqiscus-aiohttp', 'qiscusapi-threads')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--latencies", default=",".join(map(str, LATENCIES)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="latest", help="results/NAME.md")
    args = parser.parse_args()
    chosen = args.variants.split(",")
    levels = [int(c) for c in args.concurrency.split(",")]
    rng = random.Random(args.seed)
    results: dict = {}
    for latency in [int(x) for x in args.latencies.split(",")]:
        proc, url = start_server(latency)
        try:
            for round_ in range(args.rounds):
                for concurrency in levels:
                    order = chosen[:]
                    rng.shuffle(order)
                    for name in order:
                        row = run_variant(name, url, args.calls, concurrency)
                        results.setdefault((latency, concurrency), {}).setdefault(
                            name, []
                        ).append(row)
                        sys.stderr.write(
                            f"round {round_ + 1} {latency} ms x{concurrency} {name}: "
                            f"{row['req_s']:,.0f} req/s {row['cpu_us']:,.0f} µs\n"
                        )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    text = table(results, args.calls, args.rounds)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"{args.name}.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
