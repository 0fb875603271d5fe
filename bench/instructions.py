"""CPU instructions per request, counted by valgrind: steady on a busy machine.

    python bench/instructions.py [--calls 200]
    python bench/instructions.py --network [--calls 300] [--variants a,b,...]
                                 [--concurrency 32]

Each measurement runs a process twice under ``valgrind --tool=callgrind``,
making *calls* and then five times as many requests, and divides the
difference of the two instruction counts by the extra requests: start-up
and imports cancel out. Hash randomisation is off, so a count repeats
within about 0.5 %.

Without ``--network``: one v2.1 ``post_text`` through a stub backend that
answers the benchmark's comment at once (``bench/server.py``'s body), the
client's own work and the parse of the answer. With ``--network``: the
variants of ``bench/variants.py`` (default: the aiohttp backend and raw
aiohttp, on asyncio and uvloop) against ``bench/server.py`` on loopback, at
32 in flight (``--concurrency``). Needs valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NETWORK = [
    "aioqiscus-aiohttp",
    "raw-aiohttp",
    "aioqiscus-aiohttp-uvloop",
    "raw-aiohttp-uvloop",
]


def count(command: list[str]) -> int:
    """Instructions *command* executes, all of it, under callgrind."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return int(re.findall(r"Collected : (\d+)", out.stderr)[-1])


def per_request(command: list[str], calls: int) -> float:
    """Instructions per request: *command* with *calls*, then five times as many."""
    few = count([*command, str(calls)])
    many = count([*command, str(5 * calls)])
    return (many - few) / (4 * calls)


async def stub_calls(calls: int) -> None:
    """*calls* post_text through a stub backend, after 50 to warm up."""
    from observe import stub_client  # the same stub as bench/observe.py's

    async with stub_client("v2.1") as client:
        for _ in range(50):
            await client.post_text("234", "bot@example.com", "warm-up")
        for i in range(calls):
            await client.post_text("234", "bot@example.com", f"benchmark message {i}")


def network(variants: list[str], calls: int, concurrency: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        print(f"| variant | instructions per request, {concurrency} in flight |")
        print("|---|---:|")
        for name in variants:
            command = [
                sys.executable,
                str(HERE / "variants.py"),
                name,
                "--url",
                f"http://127.0.0.1:{port}",
                "--concurrency",
                str(concurrency),
                "--calls",
            ]
            print(f"| {name} | {per_request(command, calls):,.0f} |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int)
    parser.add_argument("--network", action="store_true")
    parser.add_argument("--variants", default=",".join(NETWORK))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--stub", type=int, help=argparse.SUPPRESS)  # inner run
    args = parser.parse_args()
    if args.stub is not None:
        sys.path.insert(0, str(HERE))
        asyncio.run(stub_calls(args.stub))
    elif args.network:
        network(args.variants.split(","), args.calls or 300, args.concurrency)
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--stub"]
        seen = per_request(command, args.calls or 200)
        print(f"post_text through a stub backend (v2.1): {seen:,.0f} instructions")


if __name__ == "__main__":
    main()
