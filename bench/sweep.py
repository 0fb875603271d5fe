"""Where httpx's pool stops scaling: throughput against requests in flight.

    python bench/sweep.py [--rounds 3] [--latencies 0,20]

Raw httpx at 1 to 128 in flight, and the default client at 128 in flight
with its in-flight limit forced to 4 ... 64 (``aioqiscus-httpx-L<n>``), in
interleaved rounds against ``bench/server.py``; prints medians of req/s and
of client CPU per request (the steadier of the two on a shared machine:
httpx's pool shows its cost there first). This is how the limits of the
httpx backend were chosen (see ``aioqiscus/_limiter.py``).
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys

from run import TRIPS_PER_WORKER, run_variant, start_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--latencies", default="0,20")
    parser.add_argument("--raw", default="1,2,4,8,16,32,64,128")
    parser.add_argument("--limits", default="4,8,12,16,24,32,64")
    parser.add_argument("--extra", default="aioqiscus-default", help="at 128")
    args = parser.parse_args()
    cells = [
        (latency, c, "raw-httpx")
        for latency in map(int, args.latencies.split(","))
        for c in map(int, args.raw.split(","))
    ]
    cells += [
        (latency, 128, f"aioqiscus-httpx-L{n}")
        for latency in map(int, args.latencies.split(","))
        for n in map(int, args.limits.split(","))
    ]
    cells += [
        (latency, 128, name)
        for latency in map(int, args.latencies.split(","))
        for name in args.extra.split(",")
        if name
    ]
    servers = {lat: start_server(lat) for lat in {c[0] for c in cells}}
    found: dict[tuple[int, int, str], list[dict]] = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rng = random.Random(2)
    try:
        for round_ in range(args.rounds):
            rng.shuffle(cells)
            for latency, c, name in cells:
                calls = args.calls
                if latency:
                    calls = min(calls, TRIPS_PER_WORKER * c)
                row = run_variant(name, servers[latency][1], calls, c)
                found.setdefault((latency, c, name), []).append(row)
                sys.stderr.write(
                    f"round {round_ + 1} {latency} ms x{c} {name}: "
                    f"{row['req_s']:,.0f} req/s {row['cpu_us']:,.0f} µs\n"
                )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    print("| latency | in flight | variant | req/s | CPU µs/req | req/s of each run |")
    print("|---:|---:|---|---:|---:|---|")
    for (latency, c, name), rows in sorted(found.items()):
        rates = [r["req_s"] for r in rows]
        cpu = statistics.median(r["cpu_us"] for r in rows)
        runs = ", ".join(f"{v:,.0f}" for v in rates)
        print(
            f"| {latency} ms | {c} | {name} | {statistics.median(rates):,.0f} | "
            f"{cpu:,.0f} | {runs} |"
        )


if __name__ == "__main__":
    main()
