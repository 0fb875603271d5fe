"""A customer-service bot on Qiscus Omnichannel that hands over to a human.

    python -m examples.omnichannel_handover      # from the repository root

:func:`build_bot` is the bot: any text gets a menu with a "Talk to a human"
button, and a tap on it hands the room to the least loaded available agent.
Run on its own, it needs no account: the fake plays the app, a customer
writes from WhatsApp, taps the button, an agent resolves the room, and the
customer writes again; what happened is printed.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING

import httpx

from aioqiscus import Button, QiscusClient
from aioqiscus.bot import Bot, Context
from aioqiscus.omnichannel import Handover, OmnichannelClient
from aioqiscus.omnichannel.webhooks import HookGuard

if TYPE_CHECKING:  # a real app never loads the fake
    from aioqiscus.testing import FakeQiscus

CUSTOMER = "6281234567890"
POSTBACK_URL = "https://bot.example.com/qiscus/postback"
MENU = [Button.postback("Talk to a human", POSTBACK_URL, payload={"action": "human"})]


def build_bot(
    client: QiscusClient, omni: OmnichannelClient, signature_token: str, url_token: str
) -> Bot:
    """The bot, posting as the app's admin user (a member of every customer room)."""
    bot = Bot(
        client,
        user_id=f"{omni.app_code}_admin@qismo.com",
        signature_token=signature_token,
        omnichannel=Handover(omni, guard=HookGuard(url_token)),
    )

    @bot.on_postback(action="human")
    async def human(ctx: Context) -> None:
        result = await ctx.handover(message="Connecting you to an agent...")
        print(f"  handed over to {result.agent.name if result.agent else 'the queue'}")

    @bot.on_message("text")
    async def menu(ctx: Context) -> None:
        source = ctx.channel.source if ctx.channel else None
        print(f"  bot: text {ctx.text!r} from {source}")
        await ctx.reply_buttons("Hi! I am the shop bot. Need a person?", MENU)

    return bot


async def play(fake: FakeQiscus, bot: Bot, omni: OmnichannelClient) -> list[str]:
    """The customer's side of the story; returns the hooks the fake delivered."""
    omnifake = fake.omnichannel
    whatsapp = omnifake.add_channel("wa", "Support WA")
    omnifake.add_agent("Ana", "ana@example.com", quota=2)
    print("customer: hello")
    await omnifake.customer_says(CUSTOMER, "hello", channel=whatsapp)
    await bot.join()
    room = omnifake.customer_room(CUSTOMER, whatsapp)
    menu = fake.room(room.room_id).comments[-1]
    print("customer taps: Talk to a human")
    await fake.tap(menu.id, "Talk to a human", by=CUSTOMER)
    await bot.join()
    print("customer: are you there? (the bot stays quiet)")
    await omnifake.customer_says(CUSTOMER, "are you there?", channel=whatsapp)
    await bot.join()
    print("agent resolves the room")
    await omni.mark_as_resolved(str(room.room_id), notes="answered")
    print("customer: thanks!")
    await omnifake.customer_says(CUSTOMER, "thanks!", channel=whatsapp)
    await bot.join()
    return [d.hook for d in omnifake.deliveries]


async def main() -> list[str]:
    """Play the story on the fake; every hook reaches the bot's one URL."""
    from aioqiscus.testing import FakeQiscus

    fake = FakeQiscus()
    signature_token, url_token = secrets.token_hex(16), secrets.token_urlsafe(24)
    async with (
        QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            api_version="v2.1",
            http_client=fake.http_client(),
        ) as client,
        OmnichannelClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        ) as omni,
    ):
        bot = build_bot(client, omni, signature_token, url_token)
        url = f"http://bot.example.com/qiscus?token={url_token}"
        to_bot = httpx.ASGITransport(app=bot.asgi)
        fake.deliver_webhooks(url, signature_token, transport=to_bot)
        fake.omnichannel.deliver_webhooks(
            bot=url, resolved=url, new_session=url, transport=to_bot
        )
        async with bot:
            hooks = await play(fake, bot, omni)
    print("Omnichannel hooks delivered:", ", ".join(hooks))
    return hooks


if __name__ == "__main__":
    asyncio.run(main())
