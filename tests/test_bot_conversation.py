"""A conversation through the fake and the bot: the fake's user says and taps,
the fake delivers signed webhooks, the bot answers through the client; in
process and over loopback. Then what say and tap post, and what they refuse."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from typing import Any

import anyio
import httpx
import pytest

from aioqiscus import Button, Card, Carousel, CarouselCard, QiscusClient, webhooks
from aioqiscus.bot import Bot, Context, decode_postback
from aioqiscus.testing import FakeQiscus, WebhookDelivery, serve

from .conftest import ALICE, BOB, serving

TOKEN = "dashboard-signature-token"
BOT = "bot@example.com"
HOOK = "https://bot.example.com/qiscus/postback"
MENU = [
    Button.postback("Opening hours", HOOK, payload={"topic": "hours"}),
    Button.postback(
        "Talk to a human",
        HOOK,
        payload={"topic": "human"},
        postback_text="I want a human",
    ),
    Button.link("Help centre", "https://help.example.com"),
]


def support_bot(client: QiscusClient) -> tuple[Bot, list[tuple[str, Any]]]:
    """A bot with a menu, two postback answers and a fallback; what ran."""
    bot = Bot(client, user_id=BOT, signature_token=TOKEN)
    ran: list[tuple[str, Any]] = []

    @bot.on_text("help")
    async def menu(ctx: Context) -> None:
        ran.append(("menu", ctx.text))
        await ctx.reply_buttons("What do you need?", MENU)

    @bot.on_postback(topic="hours")
    async def hours(ctx: Context) -> None:
        ran.append(("hours", ctx.postback))
        await ctx.reply("We are open 9 to 5.")

    @bot.on_postback(topic="human")
    async def human(ctx: Context) -> None:
        ran.append(("human", ctx.postback))
        await ctx.reply(f"{ctx.sender.name}, an agent is on the way.")

    @bot.on_message()
    async def fallback(ctx: Context) -> None:
        ran.append(("fallback", ctx.text))
        await ctx.reply('Say "help".')

    return bot, ran


def people(fake: FakeQiscus) -> None:
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOT, "Support Bot")


async def converse(fake: FakeQiscus, bot: Bot, room_id: str) -> None:
    """Alice says help, the bot shows the menu, Alice taps a button."""
    await fake.say(room_id, ALICE, "help")
    await bot.join()
    menu = fake.room(room_id).comments[-1]
    assert (menu.sender, menu.type) == (BOT, "buttons")
    await fake.tap(menu.id, "Talk to a human", by=ALICE)
    await bot.join()


def transcript(fake: FakeQiscus, room_id: str) -> list[tuple[str, str, str]]:
    return [(c.sender, c.type, c.message) for c in fake.room(room_id).comments]


async def redeliver(bot: Bot, delivery: WebhookDelivery) -> int:
    """Post a recorded delivery to the bot again, as Qiscus may; the status."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bot.asgi)) as http:
        answer = await http.post(
            delivery.url,
            content=delivery.body,
            headers={webhooks.SIGNATURE_HEADER: delivery.signature},
        )
    await bot.join()
    return answer.status_code


def deliveries(fake: FakeQiscus) -> list[tuple[str, str, str, int]]:
    """(webhook type, sender, text, status) of every delivery."""
    found = []
    for delivery in fake.webhook_deliveries:
        assert webhooks.verify_signature(delivery.body, delivery.signature, TOKEN)
        event = webhooks.parse(delivery.body)
        found.append(
            (event.type, event.sender.id, event.comment.message, delivery.status)
        )
    return found


EXPECTED_TRANSCRIPT = [
    (ALICE, "text", "help"),
    (BOT, "buttons", "What do you need?"),
    (ALICE, "button_postback_response", "I want a human"),
    (BOT, "text", "Alice, an agent is on the way."),
]
EXPECTED_DELIVERIES = [
    ("post_comment_mobile", ALICE, "help", 200),
    ("post_comment_rest", BOT, "What do you need?", 200),
    ("post_comment_mobile", ALICE, "I want a human", 200),
    ("post_comment_rest", BOT, "Alice, an agent is on the way.", 200),
]
EXPECTED_RUNS = [("menu", "help"), ("human", {"topic": "human"})]


class TestConversation:
    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_in_process(self, qiscus_fake, qiscus_client):
        """help -> menu -> tap -> answer, the fake delivering to bot.asgi in process."""
        people(qiscus_fake)
        room = await qiscus_client.get_or_create_room_with_target([ALICE, BOT])
        bot, ran = support_bot(qiscus_client)
        qiscus_fake.deliver_webhooks(
            "http://bot.test/qiscus/webhook",
            TOKEN,
            transport=httpx.ASGITransport(app=bot.asgi),
        )
        with anyio.fail_after(10):
            await converse(qiscus_fake, bot, room.id)
            # Qiscus redelivers the tap: the bot acknowledges it, runs nothing.
            status = await redeliver(bot, qiscus_fake.webhook_deliveries[2])
        assert status == 200
        # The fallback listener takes any comment, yet the bot's own replies,
        # delivered back to it, started nothing: no loop.
        assert ran == EXPECTED_RUNS
        assert transcript(qiscus_fake, room.id) == EXPECTED_TRANSCRIPT
        assert deliveries(qiscus_fake) == EXPECTED_DELIVERIES

    @pytest.mark.parametrize("api_version", ["v2", "v2.1"])
    async def test_loopback(self, api_version):
        """The same conversation over sockets: the fake served by uvicorn in a
        thread, the bot by uvicorn in the test's loop, both on 127.0.0.1."""
        fake = FakeQiscus()
        people(fake)
        with anyio.fail_after(20), serve(fake) as fake_url:
            client = QiscusClient(
                fake.app_id, fake.secret_key, base_url=fake_url, api_version=api_version
            )
            async with client:
                room = await client.get_or_create_room_with_target([ALICE, BOT])
                bot, ran = support_bot(client)
                async with serving(bot.asgi) as bot_url:
                    fake.deliver_webhooks(f"{bot_url}/qiscus/webhook", TOKEN)
                    await converse(fake, bot, room.id)
        assert ran == EXPECTED_RUNS
        assert transcript(fake, room.id) == EXPECTED_TRANSCRIPT
        assert deliveries(fake) == EXPECTED_DELIVERIES
        assert all(
            d.url.startswith("http://127.0.0.1:") for d in fake.webhook_deliveries
        )


class TestRepeatedText:
    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_same_text_twice_is_answered_twice(self, qiscus_fake, qiscus_client):
        """Alice says "yes" twice within seconds: each delivery carries its
        comment's id, so the bot answers both; posting the second delivery
        again (a redelivery) runs nothing."""
        people(qiscus_fake)
        room = await qiscus_client.get_or_create_room_with_target([ALICE, BOT])
        bot = Bot(qiscus_client, user_id=BOT, signature_token=TOKEN)
        heard: list[int | None] = []

        @bot.on_text("yes")
        async def noted(ctx: Context) -> None:
            heard.append(ctx.comment.id)
            await ctx.reply("Noted.")

        qiscus_fake.deliver_webhooks(
            "http://bot.test/hook", TOKEN, transport=httpx.ASGITransport(app=bot.asgi)
        )
        with anyio.fail_after(10):
            first = await qiscus_fake.say(room.id, ALICE, "yes")
            await bot.join()
            second = await qiscus_fake.say(room.id, ALICE, "yes")
            await bot.join()
            again = qiscus_fake.webhook_deliveries[-2]
            assert webhooks.parse(again.body).comment.id == second.id
            status = await redeliver(bot, again)
        assert status == 200
        assert heard == [first.id, second.id]
        assert transcript(qiscus_fake, room.id) == [
            (ALICE, "text", "yes"),
            (BOT, "text", "Noted."),
            (ALICE, "text", "yes"),
            (BOT, "text", "Noted."),
        ]


@pytest.fixture(name="room_id")
async def _room_id(qiscus_fake: FakeQiscus, qiscus_client: QiscusClient) -> str:
    """A group room with Alice and the bot; Bob exists but is not in it."""
    people(qiscus_fake)
    qiscus_fake.add_user(BOB, "Bob")
    room = await qiscus_client.create_room("Support", [ALICE], BOT)
    return room.id


@pytest.fixture(name="hook")
def _hook(qiscus_fake: FakeQiscus) -> list[bytes]:
    """Signed deliveries, received by an app that records their bodies."""
    bodies: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    qiscus_fake.deliver_webhooks(
        "http://app.test/hook", TOKEN, transport=httpx.ASGITransport(app=app)
    )
    return bodies


async def posted(client: QiscusClient, room_id: str) -> Any:
    """The newest comment of the room, read through the client."""
    async for comment in client.iter_comments(room_id):
        return comment
    return None


class TestSay:
    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_stored_and_delivered_as_mobile(
        self, qiscus_fake, qiscus_client, room_id, hook
    ):
        """say stores a text comment, delivers the documented mobile webhook,
        and the client reads it back."""
        record = await qiscus_fake.say(room_id, ALICE, "hello there")
        assert (record.sender, record.type, record.message) == (
            ALICE,
            "text",
            "hello there",
        )
        [body] = hook
        data = json.loads(body)
        assert data["type"] == "post_comment_mobile"
        assert sorted(data["payload"]) == ["from", "message", "room"]
        # The documented keys, and the identity and time real deliveries add.
        assert data["payload"]["message"] == {
            "type": "text",
            "text": "hello there",
            "payload": {},
            "id": record.id,
            "unique_temp_id": record.unique_temp_id,
            "timestamp": record.timestamp,
            "unix_timestamp": int(datetime.fromisoformat(record.timestamp).timestamp()),
        }
        assert record.unique_temp_id
        assert data["payload"]["from"]["email"] == ALICE
        assert [d.status for d in qiscus_fake.webhook_deliveries] == [204]
        comment = await posted(qiscus_client, room_id)
        assert (comment.id, comment.sender.id, comment.message) == (
            record.id,
            ALICE,
            "hello there",
        )
        assert qiscus_fake.requests("post_comment") == []

    async def test_without_webhooks(self, qiscus_fake, room_id):
        """Without deliver_webhooks, say only stores the comment."""
        record = await qiscus_fake.say(room_id, ALICE, "hi")
        assert qiscus_fake.room(room_id).comments[-1] is record
        assert qiscus_fake.webhook_deliveries == []

    async def test_unreachable_receiver(self, qiscus_fake, room_id):
        """A receiver that is down is recorded as status 0; the comment stays."""
        with socket.socket() as sock:  # a port nothing listens on once closed
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        qiscus_fake.deliver_webhooks(f"http://127.0.0.1:{port}/hook", TOKEN)
        with anyio.fail_after(10):
            record = await qiscus_fake.say(room_id, ALICE, "anyone?")
        assert [d.status for d in qiscus_fake.webhook_deliveries] == [0]
        assert qiscus_fake.room(room_id).comments[-1] is record

    @pytest.mark.parametrize(
        ("args", "error", "message"),
        [
            (("404", ALICE, "hi"), LookupError, "no room '404'"),
            (("not-a-room", ALICE, "hi"), LookupError, "no room"),
            ((None, "nobody@example.com", "hi"), LookupError, "add_user"),
            ((None, BOB, "hi"), ValueError, "not a participant"),
            ((None, ALICE, "  "), ValueError, "non-empty"),
            ((None, ALICE, b"hi"), ValueError, "non-empty"),
        ],
        ids=["room", "room-id", "user", "member", "empty", "bytes"],
    )
    async def test_refusals(self, qiscus_fake, room_id, hook, args, error, message):
        """Unknown rooms and users, outsiders and empty texts raise; nothing is posted."""
        room, user, text = args
        before = len(qiscus_fake.room(room_id).comments)
        with pytest.raises(error, match=message):
            await qiscus_fake.say(room or room_id, user, text)
        assert len(qiscus_fake.room(room_id).comments) == before
        assert hook == []


BUY_BLOUSE = Button.postback("Buy", HOOK, method="post", payload={"sku": "blouse"})
DETAILS = Button.link("Details", "https://shop.example.com/blouse")
DEAL = Card("Blouse", description="Rp 49.000", buttons=[BUY_BLOUSE, DETAILS])
CAROUSEL = Carousel(
    (
        CarouselCard("Blouse", buttons=[BUY_BLOUSE, DETAILS]),
        CarouselCard(
            "Shoes", buttons=[Button.postback("Buy", HOOK, payload={"sku": "shoes"})]
        ),
    )
)


class TestTap:
    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_posts_what_the_web_sdk_posts(
        self, qiscus_fake, qiscus_client, room_id, hook
    ):
        """A tap posts the button's postback_text and its action as a JSON
        string; the bot decodes the button's payload from it."""
        menu = await qiscus_client.post_buttons(room_id, BOT, "Pick", MENU)
        hook.clear()
        record = await qiscus_fake.tap(menu.id, "Talk to a human", by=ALICE)
        assert (record.type, record.message) == (
            "button_postback_response",
            "I want a human",
        )
        assert json.loads(record.payload) == {
            "url": HOOK,
            "method": "get",
            "payload": {"topic": "human"},
        }
        assert " " not in record.payload  # JSON.stringify is compact
        [body] = hook
        event = webhooks.parse(body)
        assert (event.type, event.sender.id, event.comment.type) == (
            "post_comment_mobile",
            ALICE,
            "button_postback_response",
        )
        assert decode_postback(event.comment) == {"topic": "human"}
        read_back = await posted(qiscus_client, room_id)
        assert read_back.type == "button_postback_response"
        assert decode_postback(read_back) == {"topic": "human"}

    async def test_label_when_no_postback_text(
        self, qiscus_fake, qiscus_client, room_id
    ):
        """Without postback_text the tap says the label."""
        menu = await qiscus_client.post_buttons(room_id, BOT, "Pick", MENU)
        record = await qiscus_fake.tap(str(menu.id), "Opening hours", by=ALICE)
        assert record.message == "Opening hours"

    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_card_and_carousel(self, qiscus_fake, qiscus_client, room_id):
        """Buttons of a card, and of a carousel's cards (card= picks one when
        labels repeat), are tappable."""
        card = await qiscus_client.post_card(room_id, BOT, DEAL)
        tapped = await qiscus_fake.tap(card.id, "Buy", by=ALICE)
        assert json.loads(tapped.payload)["payload"] == {"sku": "blouse"}
        carousel = await qiscus_client.post_comment(room_id, BOT, payload=CAROUSEL)
        with pytest.raises(ValueError, match=r"2 cards .* have a button 'Buy'"):
            await qiscus_fake.tap(carousel.id, "Buy", by=ALICE)
        second = await qiscus_fake.tap(carousel.id, "Buy", by=ALICE, card=1)
        assert json.loads(second.payload)["payload"] == {"sku": "shoes"}

    @pytest.mark.parametrize(
        ("target", "label", "options", "error", "message"),
        [
            ("menu", "Help centre", {}, ValueError, "link button"),
            (
                "menu",
                "Opening Hours",
                {},
                ValueError,
                r"no button 'Opening Hours'.*'Opening hours'",
            ),
            ("menu", "Opening hours", {"card": 0}, ValueError, "card= picks"),
            ("menu", "Opening hours", {"by": BOB}, ValueError, "not a participant"),
            ("menu", "Opening hours", {"by": "x@example.com"}, LookupError, "no user"),
            ("text", "Opening hours", {}, ValueError, "is a text comment"),
            ("carousel", "Buy", {"card": 2}, ValueError, "no card 2"),
            (999, "Opening hours", {}, LookupError, "no comment 999"),
            ("abc", "Opening hours", {}, LookupError, "no comment 'abc'"),
        ],
        ids=[
            "link",
            "label",
            "card-on-buttons",
            "member",
            "user",
            "text",
            "card-index",
            "comment",
            "comment-id",
        ],
    )
    async def test_refusals(
        self,
        qiscus_fake,
        qiscus_client,
        room_id,
        hook,
        target,
        label,
        options,
        error,
        message,
    ):
        """Taps that no app could make raise, and post nothing."""
        ids = {
            "menu": (await qiscus_client.post_buttons(room_id, BOT, "Pick", MENU)).id,
            "text": (await qiscus_client.post_text(room_id, BOT, "plain")).id,
            "carousel": (
                await qiscus_client.post_comment(room_id, BOT, payload=CAROUSEL)
            ).id,
        }
        before = len(qiscus_fake.room(room_id).comments)
        hook.clear()
        with pytest.raises(error, match=message):
            await qiscus_fake.tap(
                ids.get(target, target), label, **{"by": ALICE, **options}
            )
        assert len(qiscus_fake.room(room_id).comments) == before
        assert hook == []
