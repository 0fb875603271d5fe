"""A bot served by uvicorn in a subprocess (``tests._bot_app:app``).

Its handler takes a moment, then records the delivery's text in the Redis
list ``handled`` at ``$AIOQISCUS_TEST_REDIS``, so the test can tell what
was handled after the process is gone.
"""

from __future__ import annotations

import os

import anyio
import redis.asyncio

from aioqiscus.bot import Bot, Context, RedisDedupeStore

from ._bot_workers import BOT, TOKEN, offline_client

URL = os.environ["AIOQISCUS_TEST_REDIS"]
bot = Bot(
    offline_client(),
    user_id=BOT,
    signature_token=TOKEN,
    dedupe=RedisDedupeStore.from_url(URL),
    max_concurrency=8,
    drain_timeout=20,
)
handled = redis.asyncio.Redis.from_url(URL)


@bot.on_message()
async def record(ctx: Context) -> None:
    await anyio.sleep(0.1)
    await handled.rpush("handled", ctx.text)


app = bot.asgi
