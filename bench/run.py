"""The benchmark: aioqiscus against raw httpx, raw aiohttp and qiscusapi.

    python bench/run.py [--calls 5000] [--rounds 5] [--name network]

It starts ``bench/server.py`` under uvicorn + httptools + uvloop on loopback
(one server process per latency: 0 ms and 20 ms), then runs every variant
(``bench/variants.py``) in its own process at 1, 8, 32 and 128 requests in
flight, 5,000 calls a run (on the aiohttp backend at 32 in flight, about
0.4 s: with 2,000, a run was 0.15 s, and one scheduler hiccup moved a
round's ratio by a tenth or more). Runs are interleaved: each round visits every
(latency, in flight) cell in a random order and the variants of a cell in a
random order, the two of each compared pair back to back (which runs first
alternates by round), so variants compared with each other ran side by side
under the same machine load. It reports medians over the rounds (req/s,
client CPU per request from getrusage, p50 and p99 latency) and paired
ratios: the ratio of two variants within each round, then the median of
those ratios. The table, and the targets checked against it and against
``bench/micro.py``'s last results, are printed and written to
``bench/results/NAME.md``; the same run, machine readable (medians and
ranges per cell, paired ratios, the machine, the date and the command line),
to ``bench/results/NAME.json`` for ``bench/plots.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT = "aioqiscus-default"
VARIANTS = [
    DEFAULT,
    "aioqiscus-aiohttp",
    "aioqiscus-aiohttp-uvloop",
    "raw-httpx",
    "raw-aiohttp",
    "raw-aiohttp-uvloop",
    "qiscusapi-sequential",
    "qiscusapi-threads",
]
#: Run only when named in ``--variants``: the least a client can do for the
#: aioqiscus variants' result (``minimal_variant`` in bench/variants.py), so
#: that what aioqiscus spends beyond it is measured too.
FLOORS = ["minimal-aiohttp", "minimal-aiohttp-uvloop"]
#: Their ratios, shown with the others when both sides ran.
FLOOR_PAIRS = [
    ("aioqiscus-aiohttp", "minimal-aiohttp"),
    ("aioqiscus-aiohttp-uvloop", "minimal-aiohttp-uvloop"),
    ("minimal-aiohttp-uvloop", "raw-aiohttp-uvloop"),
]
CONCURRENCY = [1, 8, 32, 128]
LATENCIES = [0, 20]
#: With latency, a run is at most this many round trips per worker (about
#: 3 s), so that 1 in flight at 20 ms does not take a minute.
TRIPS_PER_WORKER = 150

#: (numerator, denominator) pairs whose paired ratios the tables show.
PAIRS = [
    (DEFAULT, "raw-httpx"),
    ("aioqiscus-aiohttp", "raw-aiohttp"),
    ("aioqiscus-aiohttp-uvloop", "raw-aiohttp-uvloop"),
    ("aioqiscus-aiohttp", DEFAULT),
    (DEFAULT, "qiscusapi-threads"),
]

Cell = tuple[int, int]  # (latency ms, in flight)
Rows = dict[Cell, dict[str, list[dict | None]]]


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


#: Variants whose ratio is a target run back to back, so that the load of
#: a shared machine, which drifts by the minute, is the same for both.
TWINS = [
    (DEFAULT, "raw-httpx"),
    ("aioqiscus-aiohttp", "raw-aiohttp"),
    ("aioqiscus-aiohttp-uvloop", "raw-aiohttp-uvloop"),
]


def schedule(
    chosen: list[str], concurrency: int, round_: int, rng: random.Random
) -> list[str]:
    """One cell's run order: twins adjacent, groups shuffled.

    Within twins the order alternates from round to round (ABBA across
    rounds), so neither always runs first.
    """
    names = [n for n in chosen if applies(n, concurrency)]
    groups: list[list[str]] = []
    for twin in TWINS:
        present = [n for n in twin if n in names]
        if present:
            groups.append(present if round_ % 2 == 0 else present[::-1])
    paired = {n for group in groups for n in group}
    groups += [[n] for n in names if n not in paired]
    rng.shuffle(groups)
    return [n for group in groups for n in group]


def applies(name: str, concurrency: int) -> bool:
    """qiscusapi-sequential ignores concurrency: run it at 1 in flight only."""
    return name != "qiscusapi-sequential" or concurrency == 1


def median(rows: list[dict | None], key: str) -> float | None:
    found = [r[key] for r in rows if r]
    return statistics.median(found) if found else None


def paired(rows: Rows, cell: Cell, a: str, b: str, key: str) -> float | None:
    """The median over rounds of a/b, each ratio taken within one round."""
    by = rows.get(cell, {})
    ratios = [
        x[key] / y[key]
        for x, y in zip(by.get(a, []), by.get(b, []), strict=False)
        if x and y
    ]
    return statistics.median(ratios) if ratios else None


def shown_pairs(rows: Rows) -> list[tuple[str, str]]:
    """PAIRS, and the floors' pairs whose two sides ran."""
    ran = {name for by in rows.values() for name, found in by.items() if any(found)}
    return PAIRS + [(a, b) for a, b in FLOOR_PAIRS if a in ran and b in ran]


def fmt(value: float | None, spec: str = ".2f", suffix: str = "x") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def table(rows: Rows, args: argparse.Namespace, loads: tuple[str, str]) -> str:
    lines = [
        (
            f"Benchmark: v2.1 `post_comment`, up to {args.calls} calls per run "
            f"(at most {TRIPS_PER_WORKER} round trips per worker with latency), "
            f"{args.rounds} interleaved rounds; Python {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} cores, load average (1/5 min) "
            f"{loads[0]} before, {loads[1]} after; {datetime.now(UTC):%Y-%m-%d}."
        ),
        "",
        "| latency | in flight | variant | req/s | CPU µs/req | p50 ms | p99 ms |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    for cell, by_variant in sorted(rows.items()):
        for name in VARIANTS + FLOORS:
            found = by_variant.get(name)
            if not found or not any(found):
                continue
            lines.append(
                f"| {cell[0]} ms | {cell[1]} | {name} | "
                f"{fmt(median(found, 'req_s'), ',.0f', '')} | "
                f"{fmt(median(found, 'cpu_us'), ',.0f', '')} | "
                f"{fmt(median(found, 'p50_ms'), '.2f', '')} | "
                f"{fmt(median(found, 'p99_ms'), '.2f', '')} |"
            )
    pairs = shown_pairs(rows)
    lines += [
        "",
        "Paired ratios (per round, then the median): req/s, and CPU per request.",
        "",
        "| latency | in flight | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |",
        "|---:|---:|" + "---:|" * len(pairs),
    ]
    for cell in sorted(rows):
        cells = [
            f"{fmt(paired(rows, cell, a, b, 'req_s'))} "
            f"(CPU {fmt(paired(rows, cell, a, b, 'cpu_us'))})"
            for a, b in pairs
        ]
        lines.append(f"| {cell[0]} ms | {cell[1]} | " + " | ".join(cells) + " |")
    lines += ["", *targets(rows)]
    return "\n".join(lines) + "\n"


def targets(rows: Rows) -> list[str]:
    """The targets of the performance work, each with its measure and verdict."""
    checks: list[tuple[str, float | None, str, Callable[[float], bool]]] = []

    def ratio(cell: Cell, a: str, b: str, key: str = "req_s") -> float | None:
        return paired(rows, cell, a, b, key)

    checks.append(
        (
            "default / raw httpx req/s, 0 ms, 128 in flight",
            ratio((0, 128), DEFAULT, "raw-httpx"),
            ">= 1.5x",
            lambda v: v >= 1.5,
        )
    )
    checks.extend(
        (
            f"default / raw httpx req/s, {cell[0]} ms, {cell[1]} in flight",
            ratio(cell, DEFAULT, "raw-httpx"),
            ">= 0.95x",
            lambda v: v >= 0.95,
        )
        for cell in [(0, 1), (0, 8), (20, 1), (20, 8), (20, 32), (20, 128)]
    )
    # Issue 27, item 2: the aiohttp path at the floor, on asyncio and uvloop.
    for suffix in ("", "-uvloop"):
        checks.append(
            (
                f"aiohttp backend / raw aiohttp{suffix} req/s, 0 ms, 32 in flight",
                ratio((0, 32), "aioqiscus-aiohttp" + suffix, "raw-aiohttp" + suffix),
                ">= 0.95x",
                lambda v: v >= 0.95,
            )
        )
        checks.append(
            (
                f"aiohttp backend / raw aiohttp{suffix} CPU per request, 0 ms, 32",
                ratio(
                    (0, 32),
                    "aioqiscus-aiohttp" + suffix,
                    "raw-aiohttp" + suffix,
                    "cpu_us",
                ),
                "<= 1.10x",
                lambda v: v <= 1.10,
            )
        )
    lines = ["| target | measured | wanted | met |", "|---|---:|---:|---|"]
    for what, value, wanted, ok in checks:
        verdict = "-" if value is None else ("yes" if ok(value) else "**no**")
        lines.append(f"| {what} | {fmt(value)} | {wanted} | {verdict} |")
    lines += micro_targets()
    return lines


def micro_targets() -> list[str]:
    """The parse and construction targets, from bench/micro.py's last run."""
    path = RESULTS / "micro.json"
    if not path.exists():
        return ["| parse and construction | run bench/micro.py | | - |"]
    micro = json.loads(path.read_text())
    lines = []
    # Issue 27, item 1: with msgspec (aioqiscus[fast]) 1.5x json.loads for
    # decode + parse and 2.0x for the whole read; without it, 2.0x and 2.5x.
    fast = micro["json"] == "msgspec"
    wanted = 1.5 if fast else 2.0
    for dialect, ratio in micro["parse_ratio"].items():
        verdict = "yes" if ratio <= wanted else "**no**"
        lines.append(
            f"| decode + parse / json.loads per comment, {dialect} "
            f"(micro.py, {micro['date']}, {micro['json']}) | {ratio:.2f}x | "
            f"<= {wanted:.1f}x | {verdict} |"
        )
    for dialect, costs in micro.get("parse_us", {}).items():
        if fast and "aioqiscus (json)" in costs:  # the stdlib path, same run
            ratio = costs["aioqiscus (json)"] / costs["json.loads"]
            verdict = "yes" if ratio <= 2.0 else "**no**"
            lines.append(
                f"| decode + parse / json.loads per comment, {dialect} "
                f"(micro.py, {micro['date']}, json) | {ratio:.2f}x | "
                f"<= 2.0x | {verdict} |"
            )
    for name, ratio in micro.get("read_ratio", {}).items():
        wanted = 2.0 if name.endswith("msgspec") else 2.5
        verdict = "yes" if ratio <= wanted else "**no**"
        lines.append(
            f"| iter_comments read of a page / json.loads, {name} "
            f"(micro.py, {micro['date']}) | {ratio:.2f}x | "
            f"<= {wanted:.1f}x | {verdict} |"
        )
    ms = micro["construction_ms"]
    verdict = "yes" if ms <= 2 else "**no**"
    lines.append(
        f"| default client construction (micro.py, {micro['date']}) | "
        f"{ms:.2f} ms | <= 2 ms | {verdict} |"
    )
    return lines


def machine() -> dict:
    """What ran the benchmark: cores, CPU model, Python."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
    }


def spread(rows: list[dict | None], key: str) -> dict | None:
    """Median, minimum and maximum of *key* over the rounds that ran."""
    found = [r[key] for r in rows if r]
    if not found:
        return None
    return {"median": statistics.median(found), "min": min(found), "max": max(found)}


def summary(
    rows: Rows, args: argparse.Namespace, loads: tuple[str, str], command: str
) -> dict:
    """The run as data: every cell's medians and ranges, the paired ratios."""
    cells = []
    for (latency, concurrency), by_variant in sorted(rows.items()):
        for name in VARIANTS + FLOORS:
            found = by_variant.get(name)
            if not found or not any(found):
                continue
            cells.append(
                {
                    "latency_ms": latency,
                    "concurrency": concurrency,
                    "variant": name,
                    "rounds": sum(1 for r in found if r),
                    **{
                        key: spread(found, key)
                        for key in ("req_s", "cpu_us", "p50_ms", "p99_ms")
                    },
                }
            )
    ratios = [
        {
            "latency_ms": cell[0],
            "concurrency": cell[1],
            "numerator": a,
            "denominator": b,
            "req_s": paired(rows, cell, a, b, "req_s"),
            "cpu_us": paired(rows, cell, a, b, "cpu_us"),
        }
        for cell in sorted(rows)
        for a, b in shown_pairs(rows)
    ]
    return {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "command": command,
        "machine": machine(),
        "load_average": {"before": loads[0], "after": loads[1]},
        "rounds": args.rounds,
        "calls": args.calls,
        "trips_per_worker": TRIPS_PER_WORKER,
        "cells": cells,
        "ratios": ratios,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--latencies", default=",".join(map(str, LATENCIES)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="network", help="results/NAME.md")
    parser.add_argument(
        "--command",
        default=shlex.join(["python", "bench/run.py", *sys.argv[1:]]),
        help="the command line recorded in NAME.json (nox passes its own)",
    )
    args = parser.parse_args()
    chosen = args.variants.split(",")
    levels = [int(c) for c in args.concurrency.split(",")]
    latencies = [int(x) for x in args.latencies.split(",")]
    rng = random.Random(args.seed)
    rows: Rows = {}
    # Stopped with SIGTERM, still stop the servers (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    servers = {latency: start_server(latency) for latency in latencies}
    before = load()
    try:
        for round_ in range(args.rounds):
            cells = [(lat, c) for lat in latencies for c in levels]
            rng.shuffle(cells)
            for latency, concurrency in cells:
                calls = args.calls
                if latency:
                    calls = min(calls, TRIPS_PER_WORKER * concurrency)
                for name in schedule(chosen, concurrency, round_, rng):
                    url = servers[latency][1]
                    row = run_variant(name, url, calls, concurrency)
                    by = rows.setdefault((latency, concurrency), {})
                    by.setdefault(name, [None] * args.rounds)[round_] = row
                    sys.stderr.write(
                        f"round {round_ + 1} {latency} ms x{concurrency} {name}: "
                        f"{row['req_s']:,.0f} req/s {row['cpu_us']:,.0f} µs "
                        f"(load {load()})\n"
                    )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    loads = (before, load())
    text = table(rows, args, loads)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text(text)
    data = summary(rows, args, loads, args.command)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(data, indent=2) + "\n")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
