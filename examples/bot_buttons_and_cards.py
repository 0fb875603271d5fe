"""A shop bot that holds a conversation: help -> menu -> tap -> answer.

    python -m examples.bot_buttons_and_cards      # from the repository root

:func:`build_bot` is the bot: "help" shows a menu of buttons, a tap on
"Opening hours" answers with the hours, a tap on "Today's deal" with a
product card, anything else with a hint. ``examples/fastapi_app.py`` and
``examples/aiohttp_app.py`` serve it for a real app. Run on its own, it
needs no account: Alice, the fake server's user, says "help" and taps two
buttons, the fake delivers each comment to the bot as a signed webhook, and
the conversation is printed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from aioqiscus import Button, Card, Comment, QiscusClient
from aioqiscus.bot import Bot, Context

if TYPE_CHECKING:  # the web apps that serve the bot never load the fake
    from aioqiscus.testing import FakeQiscus

BOT = "shop-bot@example.com"
CUSTOMER = "alice@example.com"
#: Where a postback button points. Qiscus never calls it: the app posts the
#: tap as a comment, which reaches the bot's webhook.
POSTBACK_URL = "https://bot.example.com/qiscus/postback"

MENU = [
    Button.postback("Opening hours", POSTBACK_URL, payload={"topic": "hours"}),
    Button.postback(
        "Today's deal",
        POSTBACK_URL,
        payload={"topic": "deal"},
        postback_text="Show me today's deal",
    ),
    Button.link("Help centre", "https://help.example.com"),
]
DEAL = Card(
    title="Atasan Blouse Tunik",
    text="Special deal buat sista nih..",
    description="Rp 49.000, buy 2 get 1 free",
    image_url="https://img.example.com/blouse.jpg",
    url="https://shop.example.com/blouse?id=123",
    buttons=[Button.link("Buy now", "https://shop.example.com/buy?id=123")],
)


def build_bot(client: QiscusClient, signature_token: str) -> Bot:
    """The shop bot, replying as :data:`BOT` through *client*."""
    bot = Bot(client, user_id=BOT, signature_token=signature_token)

    @bot.on_text("help")
    async def menu(ctx: Context) -> None:
        await ctx.reply_buttons("What can I do for you?", MENU)

    @bot.on_postback(topic="hours")
    async def hours(ctx: Context) -> None:
        await ctx.reply("We are open 9 to 5, Monday to Friday.")

    @bot.on_postback(topic="deal")
    async def deal(ctx: Context) -> None:
        await ctx.reply_card(DEAL)

    @bot.on_message()
    async def hint(ctx: Context) -> None:
        await ctx.reply(f'Hi {ctx.sender.name}! Say "help" to see what I can do.')

    return bot


async def converse(fake: FakeQiscus, bot: Bot, room_id: str) -> None:
    """Alice says "help", then taps "Opening hours" and "Today's deal"."""
    await fake.say(room_id, CUSTOMER, "help")
    await bot.join()
    menu = fake.room(room_id).comments[-1]
    for label in ("Opening hours", "Today's deal"):
        await fake.tap(menu.id, label, by=CUSTOMER)
        await bot.join()


async def main() -> list[Comment]:
    """Play the conversation on an in-process fake; return it, oldest first."""
    from aioqiscus.testing import FakeQiscus

    fake = FakeQiscus()
    fake.add_user(BOT, "Shop Bot")
    fake.add_user(CUSTOMER, "Alice")
    token = "example-signature-token"  # noqa: S105 - the fake's, not a secret
    client = QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )
    async with client:
        bot = build_bot(client, token)
        fake.deliver_webhooks(
            "http://bot.example.com/qiscus/webhook",
            token,
            transport=httpx.ASGITransport(app=bot.asgi),
        )
        room = await client.get_or_create_room_with_target([BOT, CUSTOMER])
        await converse(fake, bot, room.id)
        history = [comment async for comment in client.iter_comments(room.id)]
    history.reverse()
    for comment in history:
        print(f"{comment.sender.name:>8} ({comment.type}): {comment.message}")
    return history


if __name__ == "__main__":
    asyncio.run(main())
