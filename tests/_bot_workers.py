"""Bots that run in worker processes (spawned), on shared Redis stores.

Kept apart from the test modules so a spawned worker imports aioqiscus and
this file only, not the test suite's web frameworks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from aioqiscus import QiscusClient, webhooks
from aioqiscus.bot import Bot, Context, RedisConversationStore, RedisDedupeStore

TOKEN = "dashboard-signature-token"
BOT = "bot@example.com"


def offline_client() -> QiscusClient:
    """A client that is never used: the handlers here do not reply."""
    return QiscusClient("my-app", "s3cr3t-key", base_url="http://127.0.0.1:9")


async def run_bot(url: str, bodies: list[bytes]) -> tuple[list[int], list[str]]:
    """One bot on the shared store takes *bodies* in order: statuses, handled."""
    store = RedisDedupeStore.from_url(url)
    handled: list[str] = []
    async with offline_client() as client:
        bot = Bot(client, user_id=BOT, signature_token=TOKEN, dedupe=store)

        @bot.on_message()
        async def record(ctx: Context) -> None:
            await asyncio.sleep(0)
            handled.append(ctx.text)

        with anyio.fail_after(30):
            statuses = [
                await bot.handle(body, webhooks.sign(body, TOKEN)) for body in bodies
            ]
            await bot.join()
    await store.aclose()
    return statuses, handled


def run_bot_process(url: str, bodies: list[bytes], seed: int) -> list[str]:
    """A worker process: all of *bodies*, redelivered in its own order."""
    bodies = list(bodies)
    random.Random(seed).shuffle(bodies)
    return asyncio.run(run_bot(url, bodies))[1]


def order_bot(client: QiscusClient, store: Any, log: list[str], **options: Any) -> Bot:
    """A bot with a two-step conversation and a read-modify-write counter.

    "order" asks for a number (step ``ask_order``); a number at that step
    is kept and ends the step; "count" adds one to ``data["count"]`` with a
    pause between the read and the write, so two deliveries of one
    conversation that interleaved would lose a count; "show" logs the data.
    """
    bot = Bot(
        client,
        user_id=BOT,
        signature_token=TOKEN,
        conversations=store,
        max_concurrency=8,
        **options,
    )

    @bot.on_text("order")
    async def ask(ctx: Context) -> None:
        async with ctx.conversation() as conv:
            conv.step = "ask_order"
        log.append("asked")

    @bot.on_text(re.compile(r"^\d+$"), step="ask_order")
    async def take(ctx: Context) -> None:
        async with ctx.conversation() as conv:
            conv.data["order"] = ctx.text
            conv.step = None
        log.append(f"order {ctx.text}")

    @bot.on_text("count")
    async def count(ctx: Context) -> None:
        async with ctx.conversation() as conv:
            seen = conv.data.get("count", 0)
            await asyncio.sleep(0.005)
            conv.data["count"] = seen + 1

    @bot.on_text("show")
    async def show(ctx: Context) -> None:
        async with ctx.conversation() as conv:
            data = json.dumps(conv.data, sort_keys=True)
            log.append(f"step {conv.step} data {data}")

    @bot.on_message()
    async def other(ctx: Context) -> None:
        log.append(f"other {ctx.text}")

    return bot


async def run_order_bot(url: str, bodies: list[bytes]) -> list[str]:
    """An order bot on a RedisConversationStore takes *bodies* at once."""
    store = RedisConversationStore.from_url(url)
    log: list[str] = []
    async with offline_client() as client:
        bot = order_bot(client, store, log)
        with anyio.fail_after(30):
            for body in bodies:
                assert await bot.handle(body, webhooks.sign(body, TOKEN)) == 200
            await bot.join()
    await store.aclose()
    return log


def run_order_process(url: str, bodies: list[bytes]) -> tuple[int, list[str]]:
    """A worker process running :func:`run_order_bot`: its pid and log."""
    return os.getpid(), asyncio.run(run_order_bot(url, bodies))


@contextlib.contextmanager
def uvicorn_process(
    *arguments: str, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m uvicorn *arguments`` on a free loopback port, from the
    repository root, with *env* added: its base URL and the process.

    The process is killed on exit if it is still running.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - our own argument list
        [
            sys.executable,
            "-m",
            "uvicorn",
            *arguments,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **env},
    )
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
