"""A bot with a two-step conversation, run by several workers sharing Redis.

    uvicorn --factory examples.bot_order_redis:create_app --workers 3

Settings come from the environment: ``QISCUS_APP_ID``,
``QISCUS_SECRET_KEY``, ``QISCUS_BASE_URL`` (optional),
``QISCUS_WEBHOOK_TOKEN`` and ``REDIS_URL`` (``redis://127.0.0.1:6379/0`` by
default). Point the dashboard's webhook URL at ``https://<host>/qiscus/webhook``
(any path under ``/qiscus``).

"order" asks for an order number; the number asks how to deliver it;
"pickup" or "courier" confirms. Every worker process shares one Redis, so
a redelivery is answered once whichever worker it reaches, and the
answer to a question one worker asked may reach another: the
conversation's step and data live in Redis, and its lock keeps two
deliveries of one conversation from interleaving. On SIGTERM each worker
stops accepting and finishes what it accepted before it exits.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount

from aioqiscus import QiscusClient
from aioqiscus.bot import Bot, Context, RedisConversationStore, RedisDedupeStore

BOT_ID = "order-bot@example.com"
ORDER_NUMBER = re.compile(r"^#?(\d{4,10})$")
METHODS = ("pickup", "courier")


def build_bot(
    client: QiscusClient,
    token: str,
    dedupe: RedisDedupeStore,
    conversations: RedisConversationStore,
) -> Bot:
    """The order bot: listeners for each step, then the fallbacks."""
    bot = Bot(
        client,
        user_id=BOT_ID,
        signature_token=token,
        dedupe=dedupe,
        conversations=conversations,
        conversation_ttl=15 * 60,  # a question waits 15 minutes for its answer
    )

    @bot.on_text(ORDER_NUMBER, step="ask_number")
    async def got_number(ctx: Context) -> None:
        number = ctx.match.group(1) if ctx.match else ctx.text.strip()
        async with ctx.conversation() as conv:
            conv.data["order"] = number
            conv.step = "ask_method"
        await ctx.reply(f"Order {number}: pickup or courier?")

    @bot.on_message(step="ask_number")
    async def not_a_number(ctx: Context) -> None:
        await ctx.reply("That is not an order number: digits only, please.")

    @bot.on_message(step="ask_method")
    async def got_method(ctx: Context) -> None:
        method = ctx.text.strip().casefold()
        if method not in METHODS:
            await ctx.reply("Pickup or courier?")
            return
        async with ctx.conversation() as conv:
            order = conv.data["order"]
            conv.end()
        await ctx.reply(f"Done: order {order} goes by {method}.")

    @bot.on_text("order")
    async def start(ctx: Context) -> None:
        async with ctx.conversation() as conv:
            conv.step = "ask_number"
        await ctx.reply("What is your order number?")

    @bot.on_message()
    async def fallback(ctx: Context) -> None:
        await ctx.reply('Say "order" to arrange a delivery.')

    return bot


def create_app(
    client: QiscusClient | None = None,
    token: str | None = None,
    redis_url: str | None = None,
) -> Starlette:
    """The app; without arguments, from the environment (one per worker)."""
    qiscus = client or QiscusClient(
        os.environ["QISCUS_APP_ID"],
        os.environ["QISCUS_SECRET_KEY"],
        base_url=os.environ.get("QISCUS_BASE_URL"),
    )
    url = redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    dedupe = RedisDedupeStore.from_url(url)
    conversations = RedisConversationStore.from_url(url)
    bot = build_bot(
        qiscus, token or os.environ["QISCUS_WEBHOOK_TOKEN"], dedupe, conversations
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with qiscus:
            yield
            # Mounted apps get no lifespan events: drain the bot here, so
            # what it accepted is answered before the client closes.
            await bot.aclose()
            await dedupe.aclose()
            await conversations.aclose()

    app = Starlette(routes=[Mount("/qiscus", app=bot.asgi)], lifespan=lifespan)
    app.state.bot = bot
    return app
