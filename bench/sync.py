"""The blocking client against the async one, on loopback against the fake.

    python bench/sync.py [--calls 300] [--rounds 5] [--threads 16]

It starts the fake server (``python -m aioqiscus.testing``) in a process of
its own, so the server competes with the client only for the CPU, not for
the GIL, then measures, in interleaved rounds (each round runs both sides
of a pair back to back, which one first alternating):

- **overhead**: one ``get_user`` at a time (C=1), the median wall time of
  a call of ``SyncQiscusClient`` minus that of ``QiscusClient`` in
  ``asyncio.run`` (target: under 150 us);
- **CPU**: the client process's CPU time per call at C=1 (all its
  threads), sync less async: what the blocking client costs whatever the
  machine's scheduling latency;
- **hand-off**: the overhead without the network, as a check on the
  above when the machine is busy (a blocking call that does no I/O, less
  the same call made directly; at C=1 the call runs the idle loop in its
  own thread, so this is the cost of running the loop for one call);
- **throughput**: 16 threads sharing one ``SyncQiscusClient`` against 16
  asyncio tasks sharing one ``QiscusClient`` (target: at least 0.8x), with
  the client process's CPU per request on each side (all its threads);
- **hand-off at 16 threads**: the same 16 threads making a blocking call
  that does no I/O: what the hand-off itself costs a call under contention,
  to set against the CPU per request above;
- **pool retries** (httpx): how often per request httpcore's pool gave a
  request a connection that another request took first
  (``ConnectionNotAvailable``), so that it scanned the pool again.

It prints medians over the rounds and the paired ratios (the ratio within
each round, then their median). Both clients use the default (httpx)
backend unless ``--backend aiohttp``.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from aioqiscus import QiscusClient, SyncQiscusClient

USER = "bench@example.com"
R = TypeVar("R")


@contextmanager
def fake_server() -> Iterator[dict[str, str]]:
    """Run the fake on a free loopback port in a child process: its settings."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aioqiscus.testing", "--port", "0", "--user", USER],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        settings: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while "QISCUS_BASE_URL" not in settings:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake server did not start")
            line = process.stdout.readline()
            if line.strip().startswith("export "):
                for word in shlex.split(line)[1:]:
                    key, _, value = word.partition("=")
                    settings[key] = value
        yield settings
    finally:
        process.terminate()
        process.wait(10)


def make_async(settings: dict[str, str], backend: str) -> QiscusClient:
    return QiscusClient(
        settings["QISCUS_APP_ID"],
        settings["QISCUS_SECRET_KEY"],
        base_url=settings["QISCUS_BASE_URL"],
        api_version="v2.1",
        backend="aiohttp" if backend == "aiohttp" else "httpx",
    )


def make_sync(settings: dict[str, str], backend: str) -> SyncQiscusClient:
    return SyncQiscusClient(
        settings["QISCUS_APP_ID"],
        settings["QISCUS_SECRET_KEY"],
        base_url=settings["QISCUS_BASE_URL"],
        api_version="v2.1",
        backend="aiohttp" if backend == "aiohttp" else "httpx",
    )


def async_sequential(client: QiscusClient, calls: int) -> tuple[float, float]:
    """The median seconds of a call, one at a time, in one asyncio.run, and
    the client process's CPU seconds per call.

    The median of each call's time, not the mean: a shared machine's
    stalls land on a few calls and would swamp a difference of microseconds.
    """

    async def run() -> tuple[float, float]:
        await client.get_user(USER)
        times = []
        clock = time.perf_counter
        cpu = time.process_time()
        for _ in range(calls):
            started = clock()
            await client.get_user(USER)
            times.append(clock() - started)
        return statistics.median(times), (time.process_time() - cpu) / calls

    return asyncio.run(run())


def sync_sequential(client: SyncQiscusClient, calls: int) -> tuple[float, float]:
    """The median seconds of a call, one at a time, from the main thread,
    and the client process's CPU seconds per call (all its threads)."""
    client.get_user(USER)
    times = []
    clock = time.perf_counter
    cpu = time.process_time()
    for _ in range(calls):
        started = clock()
        client.get_user(USER)
        times.append(clock() - started)
    return statistics.median(times), (time.process_time() - cpu) / calls


def handoff(client: QiscusClient, sclient: SyncQiscusClient, calls: int) -> float:
    """The median cost of the hand-off alone, in seconds: a blocking call
    that does no I/O (``negotiation_report()``) less the same call made
    directly, as async code does.
    """
    client.negotiation_report()
    sclient.negotiation_report()
    clock = time.perf_counter
    direct, blocking = [], []
    for _ in range(calls):
        started = clock()
        client.negotiation_report()
        direct.append(clock() - started)
        started = clock()
        sclient.negotiation_report()
        blocking.append(clock() - started)
    return statistics.median(blocking) - statistics.median(direct)


def async_concurrent(
    client: QiscusClient, workers: int, calls: int
) -> tuple[float, float]:
    """Calls per second of *workers* tasks making *calls* calls each, and
    the client process's CPU seconds per call."""

    async def worker() -> None:
        for _ in range(calls):
            await client.get_user(USER)

    async def run() -> tuple[float, float]:
        await asyncio.gather(*(client.get_user(USER) for _ in range(workers)))
        started = time.perf_counter()
        cpu = time.process_time()
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.perf_counter() - started
        total = workers * calls
        return total / elapsed, (time.process_time() - cpu) / total

    return asyncio.run(run())


def sync_concurrent(
    client: SyncQiscusClient,
    workers: int,
    calls: int,
    call: Callable[[SyncQiscusClient], object] = lambda c: c.get_user(USER),
) -> tuple[float, float]:
    """Calls per second of *workers* threads making *calls* calls each
    (``get_user`` unless *call* says), and the client process's CPU seconds
    per call (all its threads)."""
    start = threading.Barrier(workers + 1)
    done = threading.Barrier(workers + 1)

    def worker() -> None:
        call(client)
        start.wait()
        for _ in range(calls):
            call(client)
        done.wait()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    cpu = time.process_time()
    done.wait()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    for thread in threads:
        thread.join()
    total = workers * calls
    return total / elapsed, cpu / total


#: Requests httpcore's pool had to assign again, so far.
RETRIES = [0]


def count_pool_retries() -> None:
    """Count httpcore's reassignments (a private hook: a bench, not a test)."""
    try:
        from httpcore._async.connection_pool import AsyncPoolRequest
    except ImportError:  # another httpcore: nothing counted
        return
    clear = AsyncPoolRequest.clear_connection

    def counted(self: AsyncPoolRequest) -> None:
        RETRIES[0] += 1
        clear(self)

    AsyncPoolRequest.clear_connection = counted  # type: ignore[method-assign]


def with_retries(
    run: Callable[[], tuple[float, float]], calls: int
) -> Callable[[], tuple[float, float, float]]:
    """*run*, with the pool's retries per call made during it."""

    def measured() -> tuple[float, float, float]:
        before = RETRIES[0]
        rate, cpu = run()
        return rate, cpu, (RETRIES[0] - before) / calls

    return measured


def no_io(client: SyncQiscusClient) -> object:
    """A blocking call that does no I/O: the hand-off alone."""
    return client.negotiation_report()


def paired(
    rounds: int, first: Callable[[], R], second: Callable[[], R]
) -> tuple[list[R], list[R]]:
    """Each side once per round, back to back, which one first alternating."""
    a, b = [], []
    for number in range(rounds):
        if number % 2:
            b.append(second())
            a.append(first())
        else:
            a.append(first())
            b.append(second())
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per run")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--backend", choices=["httpx", "aiohttp"], default="httpx")
    args = parser.parse_args()
    count_pool_retries()
    with fake_server() as settings:
        aclient = make_async(settings, args.backend)
        sclient = make_sync(settings, args.backend)
        try:
            seq_async, seq_sync = paired(
                args.rounds,
                lambda: async_sequential(aclient, args.calls),
                lambda: sync_sequential(sclient, args.calls),
            )
            hand = [handoff(aclient, sclient, args.calls) for _ in range(args.rounds)]
            per_thread = max(1, args.calls // args.threads * 4)
            total = args.threads * per_thread
            par_async, par_sync = paired(
                args.rounds,
                with_retries(
                    lambda: async_concurrent(aclient, args.threads, per_thread), total
                ),
                with_retries(
                    lambda: sync_concurrent(sclient, args.threads, per_thread), total
                ),
            )
            idle = [
                sync_concurrent(sclient, args.threads, per_thread * 4, no_io)
                for _ in range(args.rounds)
            ]
        finally:
            sclient.close()
            asyncio.run(aclient.aclose())
    overheads = [(s[0] - a[0]) * 1e6 for a, s in zip(seq_async, seq_sync, strict=True)]
    cpu = [(s[1] - a[1]) * 1e6 for a, s in zip(seq_async, seq_sync, strict=True)]
    ratios = [s[0] / a[0] for a, s in zip(par_async, par_sync, strict=True)]
    med = statistics.median
    overhead = med(overheads)
    ratio = med(ratios)
    print(f"backend: {args.backend}; {args.rounds} rounds; loopback, fake server")
    print(
        f"C=1   async {med(a for a, _ in seq_async) * 1e6:7.0f} us/call   "
        f"sync {med(s for s, _ in seq_sync) * 1e6:7.0f} us/call   "
        f"overhead {overhead:5.0f} us (target < 150) "
        f"{'met' if overhead < 150 else 'MISSED'}"
    )
    print(f"C=1   client CPU per call, sync less async: {med(cpu):5.0f} us")
    print(f"hand-off alone (a blocking call without I/O): {med(hand) * 1e6:5.0f} us")
    print(
        f"C={args.threads}  async {med(a for a, _, _ in par_async):7.0f} req/s "
        f"({args.threads} tasks)   "
        f"sync {med(s for s, _, _ in par_sync):7.0f} req/s ({args.threads} threads)   "
        f"ratio {ratio:4.2f}x (target >= 0.8) "
        f"{'met' if ratio >= 0.8 else 'MISSED'}"
    )
    print(
        f"C={args.threads}  client CPU per request: "
        f"async {med(c for _, c, _ in par_async) * 1e6:5.0f} us   "
        f"sync {med(c for _, c, _ in par_sync) * 1e6:5.0f} us (all threads)"
    )
    if args.backend == "httpx":
        print(
            f"C={args.threads}  httpcore pool retries per request: "
            f"async {med(r for _, _, r in par_async):4.2f}   "
            f"sync {med(r for _, _, r in par_sync):4.2f}"
        )
    print(
        f"C={args.threads}  hand-off alone ({args.threads} threads, no I/O): "
        f"{1e6 / med(r for r, _ in idle):5.0f} us a call, "
        f"{med(c for _, c in idle) * 1e6:5.0f} us CPU a call"
    )
    print("rounds: overhead us", [round(o) for o in overheads])
    print("rounds: ratio", [round(r, 2) for r in ratios])


if __name__ == "__main__":
    main()
