"""What an in-process rate limit costs per request when it is not limiting.

    python bench/ratelimit.py

1. ``TokenBucket.acquire()`` alone, with a rate no loop can reach (a token
   is always free), beside an empty coroutine awaited the same way: best
   of 5 rounds of 100,000 awaits.
2. One ``post_text`` through a stub backend that answers at once (the
   stub of ``bench/observe.py``), on a client without a rate limit and on
   one with such a bucket, in alternating rounds of 2,000 calls (40 each,
   best kept), so the machine's drift hits both alike. The difference is
   what the bucket adds to a request. Target: < 5 µs.

Prints one Markdown row per measurement.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

TARGET_US = 5.0


async def per_await(make: Callable[[], Awaitable[None]]) -> float:
    """Seconds per ``await make()``, best of 5 rounds of 100,000."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(100_000):
            await make()
        best = min(best, (time.perf_counter() - started) / 100_000)
    return best


async def per_call_pair() -> tuple[float, float]:
    """Seconds per post_text without, then with, a never-limiting bucket."""
    from observe import stub_client

    from aioqiscus import TokenBucket

    bucket = TokenBucket(rate=1e12, burst=1_000_000)
    best = [float("inf"), float("inf")]
    async with stub_client() as plain, stub_client(rate_limit=bucket) as limited:
        for _ in range(40):
            for i, each in enumerate((plain, limited)):
                started = time.perf_counter()
                for _ in range(2000):
                    await each.post_text("234", "bot@example.com", "hello")
                best[i] = min(best[i], (time.perf_counter() - started) / 2000)
    return best[0], best[1]


async def main() -> None:
    from aioqiscus import TokenBucket

    async def nothing() -> None:
        return None

    bucket = TokenBucket(rate=1e12, burst=1_000_000)
    empty = await per_await(nothing)
    acquire = await per_await(bucket.acquire)
    plain, limited = await per_call_pair()
    added = (limited - plain) * 1e6
    verdict = "met" if added < TARGET_US else "MISSED"
    print("| measurement | per request | note |")
    print("|---|---:|---|")
    print(f"| empty coroutine awaited | {empty * 1e6:.2f} µs | the floor |")
    print(f"| TokenBucket.acquire(), never limiting | {acquire * 1e6:.2f} µs | |")
    print(f"| post_text, stub backend, no rate limit | {plain * 1e6:.2f} µs | |")
    print(f"| post_text, stub backend, TokenBucket | {limited * 1e6:.2f} µs | |")
    print(
        f"| added by the bucket | {added:.2f} µs | target < {TARGET_US:g} µs: {verdict} |"
    )


if __name__ == "__main__":
    asyncio.run(main())
