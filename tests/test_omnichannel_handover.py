"""A customer-service bot hands over to a human and takes the room back.

The whole flow against the fake, one bot URL for every hook: a customer
writes from WhatsApp (Omnichannel bot webhook, unsigned, URL token), the bot
answers with buttons, the customer taps "talk to a human" (Chat SDK webhook,
signed), the bot hands over (bot off, agent assigned), the customer's next
message reaches no listener, an agent resolves the room (mark-as-resolved
webhook) and the bot is back on.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient
from aioqiscus.bot import Bot, Context
from aioqiscus.omnichannel import Allocator, Handover, OmnichannelClient, Source
from aioqiscus.omnichannel.webhooks import HookGuard
from aioqiscus.payloads import Button
from aioqiscus.testing import FakeQiscus, serve

from .conftest import sample

CUSTOMER = "6281234567890"
TOKEN = "bot-url-token-0123456789"
SIGNING = "signature-token"


def _bot(fake: FakeQiscus, client: QiscusClient, omni: OmnichannelClient) -> Bot:
    handover = Handover(omni, guard=HookGuard(TOKEN))
    bot = Bot(
        client,
        user_id=f"{fake.app_id}_admin@qismo.com",
        signature_token=SIGNING,
        omnichannel=handover,
    )
    bot.seen: list[Any] = []  # type: ignore[attr-defined]

    @bot.on_text("talk to a human")
    async def human(ctx: Context) -> None:
        bot.seen.append(("human", ctx.text))  # type: ignore[attr-defined]
        await ctx.handover(message="Connecting you to an agent")

    @bot.on_postback(action="human")
    async def tapped(ctx: Context) -> None:
        bot.seen.append(("tap", ctx.channel))  # type: ignore[attr-defined]
        await ctx.handover(message="Connecting you to an agent")

    @bot.on_message("text")
    async def anything(ctx: Context) -> None:
        bot.seen.append(("text", ctx.text, ctx.channel))  # type: ignore[attr-defined]
        await ctx.reply_buttons(
            "How can I help?",
            [
                Button.postback(
                    "Talk to a human",
                    "https://bot.example/postback",
                    payload={"action": "human"},
                )
            ],
        )

    return bot


def _wire(fake: FakeQiscus, bot: Bot) -> None:
    """Every hook to the bot's one URL, in-process."""
    url = f"http://bot.test/hook?token={TOKEN}"
    fake.deliver_webhooks(url, SIGNING, transport=httpx.ASGITransport(app=bot.asgi))
    fake.omnichannel.deliver_webhooks(
        bot=url,
        resolved=url,
        new_session=url,
        transport=httpx.ASGITransport(app=bot.asgi),
    )


async def _flow(fake: FakeQiscus, client: QiscusClient, omni: OmnichannelClient):
    omnifake = fake.omnichannel
    wa = omnifake.add_channel("wa", "Support WA")
    ana = omnifake.add_agent("Ana", "ana@example.com", quota=2)
    bot = _bot(fake, client, omni)
    _wire(fake, bot)
    async with bot:
        # 1. The customer writes: the bot answers with buttons.
        await omnifake.customer_says(CUSTOMER, "hi there", channel=wa)
        await bot.join()
        room = omnifake.customer_room(CUSTOMER, wa)
        kind, text, channel = bot.seen[0]
        assert (kind, text) == ("text", "hi there")
        assert channel.channel is Source.WHATSAPP
        chat = fake.room(room.room_id)
        buttons = chat.comments[-1]
        assert buttons.type == "buttons"
        # 2. The customer taps "Talk to a human": hand-over.
        await fake.tap(buttons.id, "Talk to a human", by=CUSTOMER)
        await bot.join()
        # The tap's text is the label: whichever listener comes first takes it.
        assert bot.seen[1][0] in ("tap", "human")
        assert room.bot_active is False
        assert room.agents == [ana.id]
        assert chat.comments[-1].message == "Connecting you to an agent"
        # 3. The customer writes again: no listener runs (the bot is off).
        await omnifake.customer_says(CUSTOMER, "hello?", channel=wa)
        await bot.join()
        assert len(bot.seen) == 2
        # 4. The agent resolves the room: the bot is back on.
        await omni.mark_as_resolved(str(room.room_id))
        assert room.bot_active is True
        await omnifake.customer_says(CUSTOMER, "one more thing", channel=wa)
        await bot.join()
        assert bot.seen[2][:2] == ("text", "one more thing")
    hooks = [d.hook for d in omnifake.deliveries]
    assert hooks == ["new_session", "bot", "resolved", "new_session", "bot"]
    assert {d.status for d in omnifake.deliveries} == {200}


async def test_customer_service_flow_in_process():
    """The whole flow against the fake in-process."""
    fake = FakeQiscus()
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
        with anyio.fail_after(20):
            await _flow(fake, client, omni)


async def test_customer_service_flow_over_loopback():
    """The same flow with both clients on a loopback socket."""
    fake = FakeQiscus()
    with serve(fake) as url:
        async with (
            QiscusClient(
                fake.app_id, fake.secret_key, base_url=url, api_version="v2.1"
            ) as client,
            OmnichannelClient(fake.app_id, fake.secret_key, base_url=url) as omni,
        ):
            with anyio.fail_after(20):
                await _flow(fake, client, omni)


class TestReceiver:
    async def test_unsigned_delivery_needs_the_url_token(self):
        """Without the right URL token an Omnichannel delivery is refused."""
        fake = FakeQiscus()
        async with OmnichannelClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        ) as omni:
            bot = Bot(
                QiscusClient(fake.app_id, fake.secret_key),
                user_id="bot@example.com",
                signature_token=SIGNING,
                omnichannel=Handover(omni, guard=HookGuard(TOKEN)),
            )
            body = b'{"service": {"room_id": "1"}, "resolved_by": {}}'
            assert await bot.handle(body, None) == 401
            assert await bot.handle(body, None, url_token="wrong") == 401
            assert await bot.handle(body, "bad-signature", url_token=TOKEN) == 401
            assert await bot.handle(b"{}", None, url_token=TOKEN) == 400

    async def test_without_omnichannel_unsigned_is_refused(self):
        """A bot without omnichannel= refuses unsigned deliveries, as before."""
        bot = Bot(
            QiscusClient("app", "secret-key"),
            user_id="bot@example.com",
            signature_token=SIGNING,
        )
        assert await bot.handle(b"{}", None, url_token=TOKEN) == 401

    async def test_handover_without_omnichannel_raises(self):
        """ctx.handover() on a bot without omnichannel= says what is missing."""
        fake = FakeQiscus()
        room = fake.store.create_room("r", "group", "a@example.com", [])
        fake.add_user("a@example.com")
        fake.add_user("bot@example.com")
        errors: list[BaseException] = []
        bot = Bot(
            QiscusClient(
                fake.app_id,
                fake.secret_key,
                base_url="http://127.0.0.1",
                http_client=fake.http_client(),
            ),
            user_id="bot@example.com",
            signature_token=SIGNING,
        )

        @bot.on_text("hi")
        async def hi(ctx: Context) -> None:
            await ctx.handover()

        @bot.on_error
        async def failed(ctx: Context, exc: BaseException) -> None:
            errors.append(exc)

        fake.deliver_webhooks(
            "http://bot.test/", SIGNING, transport=httpx.ASGITransport(app=bot.asgi)
        )
        async with bot:
            await fake.say(room.id, "a@example.com", "hi")
            await bot.join()
        assert len(errors) == 1
        assert isinstance(errors[0], RuntimeError)
        assert "omnichannel" in str(errors[0])

    def test_omnichannel_argument_is_checked(self):
        """omnichannel= takes a client or a Handover only."""
        with pytest.raises(TypeError):
            Bot(
                QiscusClient("app", "secret-key"),
                user_id="bot@example.com",
                signature_token=SIGNING,
                omnichannel="yes",  # type: ignore[arg-type]
            )


class TestAdapters:
    """The aiohttp handler and the allocator behind the bot's one URL."""

    @staticmethod
    def _setup(
        fake: FakeQiscus, *, allocate: bool = False
    ) -> tuple[Bot, OmnichannelClient, int]:
        omni = OmnichannelClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        )
        wa = fake.omnichannel.add_channel("wa", "Support WA")
        bot = Bot(
            QiscusClient(
                fake.app_id,
                fake.secret_key,
                base_url="http://127.0.0.1",
                api_version="v2.1",
                http_client=fake.http_client(),
            ),
            user_id=f"{fake.app_id}_admin@qismo.com",
            signature_token=SIGNING,
            omnichannel=Handover(
                omni,
                guard=HookGuard(TOKEN),
                allocator=Allocator(omni, max_customers=2) if allocate else None,
            ),
        )
        return bot, omni, wa

    async def test_aiohttp_handler_takes_the_resolve_hook(self):
        """Through aiohttp, a resolve hook with the URL token hands the room back."""
        from aiohttp import web
        from aiohttp.test_utils import TestServer

        fake = FakeQiscus()
        bot, omni, wa = self._setup(fake)
        await fake.omnichannel.customer_says(CUSTOMER, "hi", channel=wa)
        room = fake.omnichannel.customer_room(CUSTOMER, wa)
        room.bot_active = False
        app = web.Application()
        app.router.add_post("/hook", bot.aiohttp_handler)
        async with TestServer(app, host="127.0.0.1") as server, omni:
            fake.omnichannel.deliver_webhooks(
                resolved=f"http://127.0.0.1:{server.port}/hook?token={TOKEN}"
            )
            with anyio.fail_after(10):
                await omni.mark_as_resolved(str(room.room_id))
        assert [d.status for d in fake.omnichannel.deliveries] == [200]
        assert room.bot_active is True

    async def test_allocation_hook_reaches_the_handover_allocator(self):
        """An allocation hook to the bot's URL is allocated by the hand-over's allocator."""
        fake = FakeQiscus()
        fake.omnichannel.add_agent("Ana", "ana@example.com")
        bot, omni, wa = self._setup(fake, allocate=True)
        async with omni:
            fake.omnichannel.deliver_webhooks(
                allocation=f"http://bot.test/hook?token={TOKEN}",
                transport=httpx.ASGITransport(app=bot.asgi),
            )
            await fake.omnichannel.customer_says(CUSTOMER, "hi", channel=wa)
        room = fake.omnichannel.customer_room(CUSTOMER, wa)
        assert [d.status for d in fake.omnichannel.deliveries] == [200]
        assert room.agents == [1]


async def test_deliveries_with_comment_id_zero_are_all_handled():
    """Bot webhooks with the samples' comment id 0 are not taken for redeliveries."""
    fake = FakeQiscus()
    seen: list[str] = []
    async with OmnichannelClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    ) as omni:
        bot = Bot(
            QiscusClient(fake.app_id, fake.secret_key),
            user_id="bot@example.com",
            signature_token=SIGNING,
            omnichannel=Handover(omni, guard=HookGuard(TOKEN)),
        )

        @bot.on_message("text")
        async def note(ctx: Context) -> None:
            seen.append(ctx.text)

        async with bot:
            for n, text in enumerate(["one", "two"]):
                data = sample("omnichannel/webhook_bot")
                data["payload"]["message"].update(
                    text=text, unique_temp_id=f"wa_wamid.{n}"
                )
                body = json.dumps(data).encode()
                assert await bot.handle(body, None, url_token=TOKEN) == 200
            await bot.join()
    assert seen == ["one", "two"]
