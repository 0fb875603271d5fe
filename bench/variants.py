"""One benchmark variant in its own process: prints a JSON line of results.

    python bench/variants.py NAME --url http://127.0.0.1:PORT --calls N --concurrency C

Every variant sends the same v2 ``post_comment`` request (the JSON body
aioqiscus sends) and decodes the JSON answer; the aioqiscus variants also
normalise it into a ``Comment``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Self

APP, SECRET, SENDER, ROOM = "bench", "bench-secret", "bot@example.com", "234"
HEADERS = {
    "QISCUS-SDK-APP-ID": APP,
    "QISCUS-SDK-SECRET": SECRET,
    "QISCUS_SDK_APP_ID": APP,
    "QISCUS_SDK_SECRET": SECRET,
    "Content-Type": "application/json",
}


def body(i: int) -> bytes:
    return json.dumps(
        {
            "sender_email": SENDER,
            "room_id": ROOM,
            "message": f"benchmark message {i}",
            "type": "text",
            "unique_temp_id": f"aioqiscus-{i:032x}",
            "disable_link_preview": False,
        }
    ).encode()


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

    with Measure() as measure:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, measure


async def aioqiscus_variant(
    url: str, calls: int, concurrency: int, backend: str
) -> Result:
    import aioqiscus
    from aioqiscus.backends import AiohttpBackend

    chosen = AiohttpBackend() if backend == "aiohttp" else None
    async with aioqiscus.QiscusClient(
        APP, SECRET, base_url=url, api_version="v2", backend=chosen
    ) as client:
        await client.post_text(ROOM, SENDER, "warm-up")

        async def one(i: int) -> None:
            await client.post_text(ROOM, SENDER, f"benchmark message {i}")

        return await drive(one, calls, concurrency)


async def httpx_variant(url: str, calls: int, concurrency: int) -> Result:
    import httpx

    async with httpx.AsyncClient(base_url=url, follow_redirects=False) as client:
        target = "/api/v2/rest/post_comment"
        await client.post(target, content=body(-1), headers=HEADERS)

        async def one(i: int) -> None:
            response = await client.post(target, content=body(i), headers=HEADERS)
            json.loads(response.content)["results"]["comment"]

        return await drive(one, calls, concurrency)


async def aiohttp_variant(url: str, calls: int, concurrency: int) -> Result:
    import aiohttp

    target = url + "/api/v2/rest/post_comment"
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            async with session.post(target, data=body(i), headers=HEADERS) as response:
                json.loads(await response.read())["results"]["comment"]

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
    with Measure() as measure:
        if threads:
            with ThreadPoolExecutor(concurrency) as pool:
                latencies = list(pool.map(one, range(calls)))
        else:
            latencies = [one(i) for i in range(calls)]
    return latencies, measure


VARIANTS = {
    "aioqiscus-httpx": lambda u, n, c: asyncio.run(aioqiscus_variant(u, n, c, "httpx")),
    "aioqiscus-aiohttp": lambda u, n, c: asyncio.run(
        aioqiscus_variant(u, n, c, "aiohttp")
    ),
    "raw-httpx": lambda u, n, c: asyncio.run(httpx_variant(u, n, c)),
    "raw-aiohttp": lambda u, n, c: asyncio.run(aiohttp_variant(u, n, c)),
    "qiscusapi-sequential": lambda u, n, c: qiscusapi_variant(u, n, c, threads=False),
    "qiscusapi-threads": lambda u, n, c: qiscusapi_variant(u, n, c, threads=True),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=sorted(VARIANTS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    latencies, measure = VARIANTS[args.name](args.url, args.calls, args.concurrency)
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
