"""An asyncio bot that greets users with buttons and a product card.

    python examples/bot_buttons_and_cards.py

With ``QISCUS_APP_ID`` and ``QISCUS_SECRET_KEY`` set it talks to your app;
otherwise to an in-process fake server, so it runs anywhere.
"""

from __future__ import annotations

import asyncio
import os

import aioqiscus
from aioqiscus import Button, Card, QiscusClient

BOT = "shop-bot@example.com"
CUSTOMER = "alice@example.com"

MENU = [
    Button.postback("Track my order", "https://bot.example.com/track", method="post"),
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


def make_client() -> tuple[QiscusClient, object | None]:
    """A client for your app, or for an in-process fake without credentials."""
    app_id, secret = (
        os.environ.get("QISCUS_APP_ID"),
        os.environ.get("QISCUS_SECRET_KEY"),
    )
    if app_id and secret:
        return QiscusClient(app_id, secret), None
    from aioqiscus.testing import FakeQiscus

    fake = FakeQiscus()
    client = QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )
    return client, fake


async def greet(client: QiscusClient, customer: str) -> list[aioqiscus.Comment]:
    """Open a 1:1 room with *customer*, greet, and return the conversation."""
    room = await client.get_or_create_room_with_target([BOT, customer])
    await client.post_text(room.id, BOT, "Hi! I am the shop bot.")
    await client.post_buttons(room.id, BOT, "What can I do for you?", MENU)
    await client.post_card(room.id, BOT, DEAL)
    return [comment async for comment in client.iter_comments(room.id)]


async def main() -> list[aioqiscus.Comment]:
    client, _ = make_client()
    async with client:
        await client.login_or_register(BOT, "Shop Bot", password="bot-password")
        await client.login_or_register(CUSTOMER, "Alice", password="alice-password")
        history = await greet(client, CUSTOMER)
    for comment in reversed(history):
        print(f"{comment.type:>8}: {comment.message}")
    return history


if __name__ == "__main__":
    asyncio.run(main())
