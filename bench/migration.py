"""Time per 1,000 comments and peak memory of a copy between two fakes.

    python bench/migration.py [COMMENTS] [ROOMS] [--src v2.1] [--dst v2.1]
        [--no-verify] [--no-imports]

Two fake apps are served on loopback in this process (the source holding
COMMENTS comments spread over ROOMS group rooms of three users); the copy
(``copy_app`` with its checkpoint and verification) runs in a child process,
whose peak RSS is read from ``getrusage(RUSAGE_CHILDREN)`` once it exits, so
the fakes' own memory is not counted. The text comments go through imports
(polled every 50 ms) unless ``--no-imports``. Prints one Markdown row.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aioqiscus.testing import FakeQiscus, serve

CHILD = """
import asyncio, sys, time
from aioqiscus import QiscusClient
from aioqiscus.migration import copy_app

async def main(src_url, dst_url, path, src, dst, verify, imports):
    async with (
        QiscusClient("bench-source", "s", base_url=src_url, api_version=src) as s,
        QiscusClient("bench-target", "s", base_url=dst_url, api_version=dst) as t,
    ):
        started = time.perf_counter()
        report = await copy_app(s, t, path, users=["u0@example.com"],
                                verify=verify == "1", imports=imports == "1",
                                poll_interval=0.05)
        print(time.perf_counter() - started, report.ok,
              report.counts["comment"].written)

asyncio.run(main(*sys.argv[1:8]))
"""


def seed(comments: int, rooms: int) -> FakeQiscus:
    """A source app: three users, *rooms* groups, *comments* text comments."""
    fake = FakeQiscus(app_id="bench-source", secret_key="s")
    people = [f"u{i}@example.com" for i in range(3)]
    for person in people:
        fake.add_user(person)
    ids = [
        fake.store.create_room(f"room {r}", "group", people[0], people).id
        for r in range(rooms)
    ]
    for n in range(comments):
        fake.add_comment(ids[n % rooms], people[n % 3], f"comment number {n}")
    return fake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comments", type=int, nargs="?", default=10_000)
    parser.add_argument("rooms", type=int, nargs="?", default=100)
    parser.add_argument("--src", default="v2.1", choices=["v2", "v2.1"])
    parser.add_argument("--dst", default="v2.1", choices=["v2", "v2.1"])
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument(
        "--no-imports", action="store_true", help="post every comment instead"
    )
    args = parser.parse_args()
    source = seed(args.comments, args.rooms)
    target = FakeQiscus(app_id="bench-target", secret_key="s")
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(source) as src_url,
        serve(target) as dst_url,
    ):
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                src_url,
                dst_url,
                str(Path(tmp) / "move.sqlite"),
                args.src,
                args.dst,
                "0" if args.no_verify else "1",
                "0" if args.no_imports else "1",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
    seconds, ok, written = done.stdout.split()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    per_thousand = float(seconds) / max(int(written), 1) * 1000
    print(
        "| comments | rooms | dialects | verify | imports | s per 1,000 comments "
        "| peak RSS (copy) | ok |\n|---|---|---|---|---|---|---|---|"
    )
    print(
        f"| {args.comments:,} | {args.rooms} | {args.src} -> {args.dst} | "
        f"{not args.no_verify} | {not args.no_imports} | {per_thousand:.2f} | "
        f"{peak_mb:.0f} MB | {ok} |"
        f"  (wall {wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
