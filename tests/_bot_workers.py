"""Bots that run in worker processes (spawned), on shared Redis stores.

Kept apart from the test modules so a spawned worker imports aioqiscus and
this file only, not the test suite's web frameworks.
"""

from __future__ import annotations

import asyncio
import random

import anyio

from aioqiscus import QiscusClient, webhooks
from aioqiscus.bot import Bot, Context, RedisDedupeStore

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
