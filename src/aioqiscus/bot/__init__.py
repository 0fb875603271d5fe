"""Bots: receive Qiscus webhooks and answer through the client.

Qiscus posts every new comment to the app's webhook URL, signed with
``QISCUS-SDK-SIGNATURE`` (``v2.1/webhook.md``); a tapped postback button is
a new comment of type ``button_postback_response``. :class:`Bot` verifies and
parses each delivery, drops the bot's own comments and redeliveries, routes
the comment to the first matching listener, and runs it in the background::

    bot = Bot(client, user_id="bot@example.com", signature_token=TOKEN)

    @bot.on_text("help")
    async def menu(ctx: Context) -> None:
        await ctx.reply_buttons("What do you need?", [
            Button.postback("Opening hours", URL, payload={"topic": "hours"}),
        ])

    @bot.on_postback(topic="hours")
    async def hours(ctx: Context) -> None:
        await ctx.reply("9 to 5, Monday to Friday.")

Mount :attr:`Bot.asgi` (FastAPI, Starlette, uvicorn),
:meth:`Bot.aiohttp_handler`, or call :meth:`Bot.handle` from any framework.
See ``docs/bots.md``.
"""

from __future__ import annotations

from ..stores import (
    ConversationBusyError,
    ConversationLockLostError,
    MemoryConversationStore,
    MemoryDedupeStore,
    RedisConversationStore,
    RedisDedupeStore,
    StoreError,
    StoreUnavailableError,
)
from ._asgi import BUSY_RETRY_AFTER, ASGIApp
from ._bot import DRAIN_TIMEOUT, Bot
from ._context import Context
from ._conversation import (
    CONVERSATION_TTL,
    CONVERSATION_WAIT,
    Conversation,
    ConversationStore,
)
from ._dedupe import CONTENT_KEY_TTL, ID_KEY_TTL, DedupeStore
from ._routing import (
    POSTBACK_TYPE,
    ErrorHandler,
    Handler,
    Middleware,
    decode_postback,
)
from ._runner import Drained

__all__ = [
    "BUSY_RETRY_AFTER",
    "CONTENT_KEY_TTL",
    "CONVERSATION_TTL",
    "CONVERSATION_WAIT",
    "DRAIN_TIMEOUT",
    "ID_KEY_TTL",
    "POSTBACK_TYPE",
    "ASGIApp",
    "Bot",
    "Context",
    "Conversation",
    "ConversationBusyError",
    "ConversationLockLostError",
    "ConversationStore",
    "DedupeStore",
    "Drained",
    "ErrorHandler",
    "Handler",
    "MemoryConversationStore",
    "MemoryDedupeStore",
    "Middleware",
    "RedisConversationStore",
    "RedisDedupeStore",
    "StoreError",
    "StoreUnavailableError",
    "decode_postback",
]
