"""One benchmark variant in its own process: prints a JSON line of results.

    python bench/variants.py NAME --url http://127.0.0.1:PORT --calls N --concurrency C

Every variant sends the same v2.1 ``post_comment`` request (the JSON body
and headers aioqiscus sends) and decodes the JSON answer; the aioqiscus
variants also normalise it into a ``Comment``, and so does ``minimal-*``,
the least a client can do for their result (no checks, negotiation, limits,
retries or error mapping). ``qiscusapi`` speaks only v2 and sends its own
form. ``*-uvloop`` variants run on uvloop's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Self

APP, SECRET, SENDER, ROOM = "bench", "bench-secret", "bot@example.com", "234"
DIALECT = "v2.1"
TARGET = f"/api/{DIALECT}/rest/post_comment"
HEADERS = {
    "QISCUS-SDK-APP-ID": APP,
    "QISCUS-SDK-SECRET": SECRET,
    "QISCUS_SDK_APP_ID": APP,
    "QISCUS_SDK_SECRET": SECRET,
    "Content-Type": "application/json",
}


def fields(i: int) -> dict[str, Any]:
    """The body aioqiscus sends for post_text (its marker in two places)."""
    marker = f"aioqiscus-{i:032x}"
    return {
        "user_id": SENDER,
        "room_id": ROOM,
        "message": f"benchmark message {i}",
        "type": "text",
        "extras": {"aioqiscus_unique_temp_id": marker},
        "unique_temp_id": marker,
    }


def body(i: int) -> bytes:
    """:func:`fields` as the raw variants encode it."""
    return json.dumps(fields(i), separators=(",", ":")).encode()


class Measure:
    """Wall time and process CPU time of the measured part only."""

    def __enter__(self) -> Self:
        self.cpu = -_cpu()
        self.wall = -time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu += _cpu()
        self.wall += time.perf_counter()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


Result = tuple[list[float], Measure]


def settle() -> None:
    """Bring the process to the state of one that has run a while.

    A fresh process's first full garbage collection walks every object its
    imports made: done here, it falls outside the window for every variant
    alike, instead of landing in some (a heap of aioqiscus, cattrs and
    msgspec objects gets there within 2,000 calls, raw aiohttp's smaller
    one may not).

    And glibc's malloc serves blocks over its mmap threshold (128 KiB at
    start) with a fresh mmap each, unmapped again on free, until freeing a
    larger mapped block raises the threshold to that block's size. asyncio's
    socket transport reads into a 256 KiB buffer: a process whose threshold
    was never raised pays mmap, mremap, munmap and a page fault for every
    response it reads, one whose imports happened to raise it pays none
    (raw aiohttp on asyncio paid them, about a fifth of its CPU per request
    at 32 in flight; aioqiscus did not). A 1 MiB block freed here raises it
    in every variant alike, as in any process that has run a while.
    """
    gc.collect()
    bytearray(1 << 20)  # allocated and freed: an mmap'd block, given back


async def drive(
    one: Callable[[int], Awaitable[None]], calls: int, concurrency: int
) -> Result:
    latencies: list[float] = []
    queue = iter(range(calls))

    async def worker() -> None:
        for i in queue:
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    settle()
    with Measure() as measure:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, measure


async def aioqiscus_variant(
    url: str, calls: int, concurrency: int, **options: Any
) -> Result:
    import aioqiscus

    if options.get("backend") == "aiohttp":
        from aioqiscus.backends import AiohttpBackend

        options["backend"] = AiohttpBackend()
    async with aioqiscus.QiscusClient(
        APP, SECRET, base_url=url, api_version=DIALECT, **options
    ) as client:
        await client.post_text(ROOM, SENDER, "warm-up")

        async def one(i: int) -> None:
            await client.post_text(ROOM, SENDER, f"benchmark message {i}")

        return await drive(one, calls, concurrency)


async def httpx_variant(url: str, calls: int, concurrency: int) -> Result:
    import httpx

    async with httpx.AsyncClient(base_url=url, follow_redirects=False) as client:
        await client.post(TARGET, content=body(-1), headers=HEADERS)

        async def one(i: int) -> None:
            response = await client.post(TARGET, content=body(i), headers=HEADERS)
            json.loads(response.content)["results"]["comment"]

        return await drive(one, calls, concurrency)


async def aiohttp_variant(url: str, calls: int, concurrency: int) -> Result:
    import aiohttp

    target = url + TARGET
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            async with session.post(target, data=body(i), headers=HEADERS) as response:
                json.loads(await response.read())["results"]["comment"]

        await one(-1)
        return await drive(one, calls, concurrency)


async def minimal_variant(url: str, calls: int, concurrency: int) -> Result:
    """The least a client can do for the aioqiscus variants' result.

    aiohttp, the same request (the body encoded by aioqiscus's JSON library,
    a fresh marker in it per send) and the answer read into a typed
    ``Comment`` by aioqiscus's own reader; nothing else: no argument checks,
    negotiation, in-flight bound, retries, timeouts of ours or error
    mapping. What aioqiscus-aiohttp spends beyond it is what those cost.
    """
    import aiohttp

    from aioqiscus import _json
    from aioqiscus.dialects import v21

    target = url + TARGET
    # The dialect's quick reader of a send's answer, chosen once, as the
    # client chooses it.
    read_sent = v21.sent_reader()
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            content = _json.dumps(fields(i))
            async with session.post(target, data=content, headers=HEADERS) as response:
                read_sent(await response.read(), ROOM)

        await one(-1)
        return await drive(one, calls, concurrency)


def qiscusapi_variant(url: str, calls: int, concurrency: int, threads: bool) -> Result:
    from concurrent.futures import ThreadPoolExecutor

    from qiscusapi import Api

    api = Api(APP, SECRET)
    api.base_url = url + "/api/v2/rest/"

    def one(i: int) -> float:
        started = time.perf_counter()
        api.post_comment_text(SENDER, ROOM, f"benchmark message {i}")
        return time.perf_counter() - started

    one(-1)
    settle()  # as in drive()
    with Measure() as measure:
        if threads:
            with ThreadPoolExecutor(concurrency) as pool:
                latencies = list(pool.map(one, range(calls)))
        else:
            latencies = [one(i) for i in range(calls)]
    return latencies, measure


def on_uvloop(coro: Coroutine[Any, Any, Result]) -> Result:
    import uvloop

    return uvloop.run(coro)


Variant = Callable[[str, int, int], Result]
VARIANTS: dict[str, Variant] = {
    # What a user gets with no options at all.
    "aioqiscus-default": lambda u, n, c: asyncio.run(aioqiscus_variant(u, n, c)),
    "aioqiscus-aiohttp": lambda u, n, c: asyncio.run(
        aioqiscus_variant(u, n, c, backend="aiohttp")
    ),
    "aioqiscus-aiohttp-uvloop": lambda u, n, c: on_uvloop(
        aioqiscus_variant(u, n, c, backend="aiohttp")
    ),
    "raw-httpx": lambda u, n, c: asyncio.run(httpx_variant(u, n, c)),
    "raw-aiohttp": lambda u, n, c: asyncio.run(aiohttp_variant(u, n, c)),
    "raw-aiohttp-uvloop": lambda u, n, c: on_uvloop(aiohttp_variant(u, n, c)),
    # The floor of the aioqiscus variants' work (minimal_variant).
    "minimal-aiohttp": lambda u, n, c: asyncio.run(minimal_variant(u, n, c)),
    "minimal-aiohttp-uvloop": lambda u, n, c: on_uvloop(minimal_variant(u, n, c)),
    "qiscusapi-sequential": lambda u, n, c: qiscusapi_variant(u, n, c, threads=False),
    "qiscusapi-threads": lambda u, n, c: qiscusapi_variant(u, n, c, threads=True),
}


def variant(name: str) -> Variant:
    """A named variant, or ``aioqiscus-httpx-L<n>``: the default client with
    ``max_in_flight=n`` (to find where httpx's pool stops scaling)."""
    if name.startswith("aioqiscus-httpx-L") and name[17:].isdigit():
        limit = int(name[17:])
        return lambda u, n, c: asyncio.run(
            aioqiscus_variant(u, n, c, max_in_flight=limit)
        )
    return VARIANTS[name]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    latencies, measure = variant(args.name)(args.url, args.calls, args.concurrency)
    elapsed, cpu = measure.wall, measure.cpu
    latencies.sort()
    sys.stdout.write(
        json.dumps(
            {
                "variant": args.name,
                "calls": len(latencies),
                "req_s": len(latencies) / elapsed,
                "cpu_us": cpu / len(latencies) * 1e6,
                "p50_ms": latencies[len(latencies) // 2] * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
