"""The bot layer: signed deliveries built from the documented webhook samples,
routed to listeners, answered through the client into the fake server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request, Response

from aioqiscus import Button, Buttons, Card, QiscusClient, webhooks
from aioqiscus.bot import (
    CONTENT_KEY_TTL,
    Bot,
    Context,
    DedupeStore,
    MemoryDedupeStore,
)
from aioqiscus.bot._dedupe import delivery_key
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, SAMPLES, serving

TOKEN = "dashboard-signature-token"
BOT = "bot@example.com"
HOURS = "https://bot.example.com/hours"


def delivery(
    text: str = "help",
    *,
    room_id: str = "1",
    sender: str = ALICE,
    type: str = "text",
    payload: Any = None,
    kind: str = "post_comment_mobile",
    **message: Any,
) -> bytes:
    """A delivery shaped like the documented sample, with the given comment."""
    data = json.loads((SAMPLES / "webhooks" / "post_comment_v21.json").read_text())
    data["type"] = kind
    data["payload"]["from"]["email"] = sender
    data["payload"]["room"]["id"] = room_id
    data["payload"]["message"] = {
        "type": type,
        "text": text,
        "payload": {} if payload is None else payload,
        **message,
    }
    return json.dumps(data).encode()


def tap(
    label: str, payload: Any, *, room_id: str = "1", as_string: bool = False
) -> bytes:
    """What an app delivers when a user taps a postback button."""
    return delivery(
        label,
        room_id=room_id,
        type="button_postback_response",
        payload=json.dumps(payload) if as_string else payload,
    )


def action(payload: Any) -> dict[str, Any]:
    """A button's wire action, as the web SDK sends it back."""
    return {"url": HOURS, "method": "post", "payload": payload}


async def send(bot: Bot, body: bytes) -> int:
    """Hand *body* to the bot, signed."""
    return await bot.handle(body, webhooks.sign(body, TOKEN))


async def joined(bot: Bot) -> None:
    """Wait for the bot's handlers, for 10 s at most."""
    with anyio.fail_after(10):
        await bot.join()


async def bot_comments(client: QiscusClient, room_id: str) -> list[Any]:
    """The bot's comments in the room, oldest first."""
    comments = [c async for c in client.iter_comments(room_id)]
    return [c for c in reversed(comments) if c.sender and c.sender.id == BOT]


@pytest.fixture(name="room_id")
async def _room_id(qiscus_fake: FakeQiscus, qiscus_client: QiscusClient) -> str:
    """A room with Alice and the bot."""
    qiscus_fake.add_user(ALICE, "Alice")
    qiscus_fake.add_user(BOT, "Bot")
    room = await qiscus_client.create_room("Support", [ALICE], BOT)
    return room.id


def new_bot(client: QiscusClient, **options: Any) -> Bot:
    """A bot replying as BOT through *client*."""
    return Bot(client, user_id=BOT, signature_token=TOKEN, **options)


@pytest.fixture(name="bot")
def _bot(qiscus_client: QiscusClient) -> Bot:
    return new_bot(qiscus_client)


def recorder(bot: Bot, seen: list[str], name: str, register: Any) -> None:
    """Register a handler that appends *name* to *seen*."""

    @register
    async def handler(ctx: Context) -> None:
        seen.append(name)


class TestConversation:
    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_help_menu_tap_answer(self, bot, qiscus_client, room_id):
        """help -> menu buttons; tapping a button -> the answer it asked for."""

        @bot.on_text("help")
        async def menu(ctx: Context) -> None:
            await ctx.reply_buttons(
                "What do you need?",
                [Button.postback("Opening hours", HOURS, payload={"topic": "hours"})],
            )

        @bot.on_postback(topic="hours")
        async def hours(ctx: Context) -> None:
            await ctx.reply(f"9 to 5 ({ctx.postback['topic']})")

        with anyio.fail_after(10):
            assert await send(bot, delivery("Help", room_id=room_id)) == 200
            await joined(bot)
            [menu_comment] = await bot_comments(qiscus_client, room_id)
            assert isinstance(menu_comment.payload, Buttons)
            [button] = menu_comment.payload.buttons
            # The web SDK posts JSON.stringify(button.payload): the action.
            body = tap(
                button.label,
                action(button.payload),
                room_id=room_id,
                as_string=True,
            )
            assert await send(bot, body) == 200
            await joined(bot)
            comments = await bot_comments(qiscus_client, room_id)
        assert [c.message for c in comments[1:]] == ["9 to 5 (hours)"]

    async def test_replies_through_the_fake_loop(
        self, bot, qiscus_fake, qiscus_client, room_id
    ):
        """The fake delivers every comment, the bot's replies too: one reply only."""

        @bot.on_text("ping")
        async def pong(ctx: Context) -> None:
            await ctx.reply("pong")

        qiscus_fake.deliver_webhooks(
            "http://bot.test/hook", TOKEN, transport=httpx.ASGITransport(app=bot.asgi)
        )
        with anyio.fail_after(10):
            await qiscus_client.post_text(room_id, ALICE, "ping")
            await joined(bot)
            replies = await bot_comments(qiscus_client, room_id)
        assert [c.message for c in replies] == ["pong"]
        senders = [
            json.loads(d.body)["payload"]["from"]["email"]
            for d in qiscus_fake.webhook_deliveries
        ]
        assert senders == [ALICE, BOT]
        assert [d.status for d in qiscus_fake.webhook_deliveries] == [200, 200]

    async def test_reply_card_and_markers(self, bot, qiscus_client, room_id):
        """Replies carry markers derived from the delivery and their index."""

        @bot.on_message()
        async def answer(ctx: Context) -> None:
            await ctx.reply("one")
            await ctx.reply_card(Card("Two", description="second"))

        body = delivery("anything", room_id=room_id)
        with anyio.fail_after(10):
            await send(bot, body)
            await joined(bot)
            comments = await bot_comments(qiscus_client, room_id)
        digest = delivery_key(BOT, webhooks.parse(body), body).digest
        assert [c.unique_temp_id for c in comments] == [
            f"bot-{digest[:32]}-1",
            f"bot-{digest[:32]}-2",
        ]
        assert isinstance(comments[1].payload, Card)

    async def test_invalid_replies_send_nothing(self, bot, qiscus_fake, room_id):
        """Bad reply arguments raise before any request."""
        errors: list[type[Exception]] = []

        @bot.on_message()
        async def bad(ctx: Context) -> None:
            for attempt in (
                lambda: ctx.reply("  "),
                lambda: ctx.reply_buttons("pick", []),
                lambda: ctx.reply_card("not a card"),
            ):
                try:
                    await attempt()
                except (ValueError, TypeError) as exc:
                    errors.append(type(exc))

        before = len(qiscus_fake.journal)
        with anyio.fail_after(10):
            await send(bot, delivery(room_id=room_id))
            await joined(bot)
        assert len(errors) == 3
        assert len(qiscus_fake.journal) == before


class TestRouting:
    @pytest.mark.parametrize(
        "name", ["post_comment_rest", "post_comment_v21", "post_comment_early"]
    )
    async def test_documented_samples(self, bot, name):
        """Each documented delivery, byte for byte, reaches its listener."""
        seen: list[tuple[str, str, str]] = []

        @bot.on_text("INI PESAN")
        async def pesan(ctx: Context) -> None:
            seen.append((ctx.sender.id, ctx.room_id, ctx.comment.type))

        body = (SAMPLES / "webhooks" / f"{name}.json").read_bytes()
        assert await send(bot, body) == 200
        await joined(bot)
        assert seen == [("user1@gmail.com", "1", "text")]

    async def test_string_matches_whole_text_case_insensitively(self, bot):
        """A string pattern matches the stripped text in any case, and only whole."""
        seen: list[str] = []

        @bot.on_text("help")
        async def help_(ctx: Context) -> None:
            seen.append(f"help:{ctx.match.group(0) if ctx.match else None}")

        @bot.on_message()
        async def other(ctx: Context) -> None:
            seen.append(f"other:{ctx.text}")

        for text in ("  HeLp \n", "help me", "Help"):
            await send(bot, delivery(text))
        await joined(bot)
        assert sorted(seen) == ["help:HeLp", "help:Help", "other:help me"]

    async def test_regex_search_and_match(self, bot):
        """A compiled regex is searched; its match is on the context."""
        seen: list[str] = []

        @bot.on_text(re.compile(r"order #?(\d+)"))
        async def order(ctx: Context) -> None:
            assert ctx.match is not None
            seen.append(ctx.match.group(1))

        await send(bot, delivery("where is my order #42 please"))
        await send(bot, delivery("no number here"))
        await joined(bot)
        assert seen == ["42"]

    @pytest.mark.parametrize(
        "payload",
        [
            action({"topic": "hours", "n": 1}),
            json.dumps(action({"topic": "hours", "n": 1})),
            action(json.dumps({"topic": "hours", "n": 1})),
            {"topic": "hours", "n": 1},
            json.dumps({"topic": "hours", "n": 1}),
        ],
        ids=["action", "action-json", "inner-json", "bare", "bare-json"],
    )
    async def test_postback_payload_shapes(self, bot, payload):
        """Taps match on payload keys whether sent as objects or JSON strings."""
        seen: list[Any] = []

        @bot.on_postback(topic="hours", n=1)
        async def hours(ctx: Context) -> None:
            seen.append(ctx.postback)

        assert await send(bot, tap("Opening hours", payload)) == 200
        await joined(bot)
        assert seen == [{"topic": "hours", "n": 1}]

    @pytest.mark.parametrize(
        "payload",
        [
            action({"topic": "prices"}),
            action({"topic": "hours", "n": True}),
            action({"n": 1}),
            action(None),
            "not json",
            "{not json either",
            ["topic", "hours"],
        ],
    )
    async def test_postback_mismatch_falls_through(self, bot, payload):
        """Other values, missing keys, `true` for 1 and non-objects do not match."""
        seen: list[str] = []
        recorder(bot, seen, "hours", bot.on_postback(topic="hours", n=1))
        recorder(bot, seen, "any tap", bot.on_postback())
        await send(bot, tap("Opening hours", payload))
        await joined(bot)
        assert seen == ["any tap"]

    async def test_tap_without_payload(self, bot):
        """A tap on a button without payload has postback None."""
        seen: list[Any] = []

        @bot.on_postback()
        async def any_tap(ctx: Context) -> None:
            seen.append((ctx.text, ctx.postback))

        await send(bot, tap("Yes", action(None)))
        await joined(bot)
        assert seen == [("Yes", None)]

    async def test_fallback_by_type(self, bot):
        """on_message(type) takes comments of that type; on_message() the rest."""
        seen: list[str] = []
        recorder(bot, seen, "file", bot.on_message(type="file_attachment"))
        recorder(bot, seen, "any", bot.on_message())
        await send(
            bot,
            delivery("", type="file_attachment", payload={"url": "https://x.io/a.png"}),
        )
        await joined(bot)
        await send(bot, delivery("hello"))
        await joined(bot)
        assert seen == ["file", "any"]

    async def test_first_match_wins(self, bot):
        """Listeners are tried in registration order; only the first match runs."""
        seen: list[str] = []
        recorder(bot, seen, "text", bot.on_text("hours"))
        recorder(bot, seen, "postback", bot.on_postback(topic="hours"))
        recorder(bot, seen, "fallback", bot.on_message())
        # A tap "says" its label: the earlier text listener takes it.
        await send(bot, tap("Hours", action({"topic": "hours"})))
        await joined(bot)
        await send(bot, tap("Opening hours", action({"topic": "hours"})))
        await joined(bot)
        await send(bot, delivery("hours"))
        await joined(bot)
        await send(bot, delivery("other"))
        await joined(bot)
        assert seen == ["text", "postback", "text", "fallback"]

    async def test_no_listener(self, bot):
        """A comment no listener wants is acknowledged and dropped."""
        recorder(bot, [], "never", bot.on_text("never"))
        assert await send(bot, delivery("hello")) == 200
        await joined(bot)
        assert repr(bot) == f"Bot(user_id={BOT!r}, listeners=1, running=0, pending=0)"

    def test_decorators_return_the_function(self, bot):
        """Decorators hand back the function itself."""

        async def handler(ctx: Context) -> None: ...

        async def hook(ctx: Context, exc: Exception) -> None: ...

        assert bot.on_text("a")(handler) is handler
        assert bot.on_text(re.compile("a"))(handler) is handler
        assert bot.on_postback(a=1)(handler) is handler
        assert bot.on_message()(handler) is handler
        assert bot.on_message(type="card")(handler) is handler
        assert bot.on_error(hook) is hook

    def test_bad_registrations_refused(self, bot):
        """Sync handlers, empty or bytes patterns and empty types are refused."""

        def sync(ctx: Context) -> None: ...

        with pytest.raises(TypeError, match="async"):
            bot.on_text("a")(sync)
        with pytest.raises(TypeError, match="async"):
            bot.on_error(sync)
        with pytest.raises(ValueError, match="non-empty"):
            bot.on_text("  ")
        with pytest.raises(TypeError, match="regex"):
            bot.on_text(re.compile(b"a"))
        with pytest.raises(ValueError, match="type"):
            bot.on_message(type="")

    def test_bad_arguments_refused(self, qiscus_client):
        """A Bot needs a user id, a token and sane bounds."""
        with pytest.raises(ValueError, match="user_id"):
            Bot(qiscus_client, user_id="", signature_token=TOKEN)
        with pytest.raises(ValueError, match="signature_token"):
            Bot(qiscus_client, user_id=BOT, signature_token="")
        with pytest.raises(ValueError, match="max_concurrency"):
            Bot(qiscus_client, user_id=BOT, signature_token=TOKEN, max_concurrency=0)
        with pytest.raises(TypeError, match="max_pending"):
            Bot(qiscus_client, user_id=BOT, signature_token=TOKEN, max_pending=1.5)
        with pytest.raises(TypeError, match="DedupeStore"):
            Bot(qiscus_client, user_id=BOT, signature_token=TOKEN, dedupe={})


class TestSafety:
    @pytest.mark.parametrize("sender", [BOT, BOT.upper()])
    async def test_own_comments_never_dispatched(self, bot, sender):
        """Comments from the bot's user are acknowledged and ignored."""
        seen: list[str] = []
        recorder(bot, seen, "any", bot.on_message())
        body = delivery("I am the bot", sender=sender, kind="post_comment_rest")
        assert await send(bot, body) == 200
        await joined(bot)
        assert seen == []

    @pytest.mark.parametrize(
        "fields",
        [{}, {"id": 1207}, {"unique_temp_id": "bq1630490400"}],
        ids=["content", "id", "unique_temp_id"],
    )
    async def test_redelivery_runs_once(self, bot, fields):
        """The same delivery twice runs its handler once, however it is keyed."""
        seen: list[str] = []
        recorder(bot, seen, "any", bot.on_message())
        body = delivery("yes", **fields)
        # A redelivery may be re-serialised: same JSON, other key order.
        reordered = json.dumps(json.loads(body), sort_keys=True).encode()
        assert await send(bot, body) == 200
        assert await send(bot, reordered) == 200
        await joined(bot)
        assert seen == ["any"]

    async def test_distinct_comments_with_same_text_run(self, bot):
        """Two comments with the same text but different ids both run."""
        seen: list[str] = []
        recorder(bot, seen, "any", bot.on_message())
        await send(bot, delivery("yes", id=1))
        await send(bot, delivery("yes", id=2))
        await send(bot, delivery("yes", unique_temp_id="a"))
        await send(bot, delivery("yes", unique_temp_id="b"))
        await joined(bot)
        assert seen == ["any"] * 4

    async def test_content_keys_expire(self, qiscus_client):
        """An id-less comment repeated after the content window runs again."""
        now = [0.0]
        store = MemoryDedupeStore(clock=lambda: now[0])
        bot = new_bot(qiscus_client, dedupe=store)
        seen: list[str] = []
        recorder(bot, seen, "any", bot.on_message())
        await send(bot, delivery("yes"))
        now[0] = CONTENT_KEY_TTL - 1
        await send(bot, delivery("yes"))
        now[0] = CONTENT_KEY_TTL + 1
        await send(bot, delivery("yes"))
        await joined(bot)
        assert seen == ["any", "any"]

    async def test_restart_without_lookup_double_replies(self, qiscus_client, room_id):
        """Documented gap: a fresh in-memory store after a restart replies again,
        with the same marker."""
        body = delivery("help", room_id=room_id)
        for _ in range(2):  # two processes, each with a fresh memory
            bot = new_bot(qiscus_client)

            @bot.on_text("help")
            async def menu(ctx: Context) -> None:
                await ctx.reply("menu")

            with anyio.fail_after(10):
                await send(bot, body)
                await joined(bot)
        replies = await bot_comments(qiscus_client, room_id)
        assert len(replies) == 2
        assert replies[0].unique_temp_id == replies[1].unique_temp_id

    @pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
    async def test_restart_with_lookup_replies_once(
        self, qiscus_fake, qiscus_client, room_id
    ):
        """With lookup_replies, a handler run again finds its replies and skips them."""
        body = delivery("help", room_id=room_id)
        results = []
        for _ in range(2):
            bot = new_bot(qiscus_client, lookup_replies=True)

            @bot.on_text("help")
            async def menu(ctx: Context) -> None:
                results.append(await ctx.reply("menu"))
                results.append(await ctx.reply("more"))

            with anyio.fail_after(10):
                await send(bot, body)
                await joined(bot)
        replies = await bot_comments(qiscus_client, room_id)
        assert [c.message for c in replies] == ["menu", "more"]
        assert [c.message for c in results] == ["menu", "more", "menu", "more"]
        assert len(qiscus_fake.requests("post_comment")) == 2

    async def test_handler_error_goes_to_hooks(self, bot, caplog):
        """A failing handler is logged and passed to every on_error hook in order;
        a failing hook is logged, the next still runs, the answer stays 200."""
        calls: list[tuple[str, str, str]] = []

        @bot.on_text("boom")
        async def boom(ctx: Context) -> None:
            raise RuntimeError("handler broke")

        @bot.on_error
        async def broken_hook(ctx: Context, exc: Exception) -> None:
            calls.append(("broken", ctx.text, str(exc)))
            raise LookupError("hook broke")

        @bot.on_error
        async def hook(ctx: Context, exc: Exception) -> None:
            calls.append(("hook", ctx.text, str(exc)))

        with caplog.at_level(logging.ERROR, logger="aioqiscus.bot"):
            assert await send(bot, delivery("boom")) == 200
            await joined(bot)
        assert calls == [
            ("broken", "boom", "handler broke"),
            ("hook", "boom", "handler broke"),
        ]
        messages = [(r.getMessage(), r.exc_info[1]) for r in caplog.records]
        assert len(messages) == 2
        assert "boom" in messages[0][0]
        assert isinstance(messages[0][1], RuntimeError)
        assert "broken_hook" in messages[1][0]
        assert isinstance(messages[1][1], LookupError)

    async def test_token_never_in_repr_or_logs(self, bot, caplog):
        """The signature token stays out of repr and log records."""
        recorder(bot, [], "any", bot.on_message())
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("aioqiscus.bot").warning("leak %s", TOKEN)
            await send(bot, delivery("x"))
            await bot.handle(b"not json", webhooks.sign(b"not json", TOKEN))
            await joined(bot)
        assert TOKEN not in repr(bot)
        assert caplog.records
        assert all(TOKEN not in r.getMessage() for r in caplog.records)


class RecordingStore:
    """A DedupeStore kept in a dict, recording its calls; it can be broken."""

    def __init__(self) -> None:
        self.keys: dict[str, float] = {}
        self.broken = False

    async def claim(self, key: str, ttl: float) -> bool:
        if self.broken:
            raise ConnectionError("store down")
        if key in self.keys:
            return False
        self.keys[key] = ttl
        return True


class TestDedupeStore:
    def test_protocol(self):
        """Any object with an async claim(key, ttl) is a DedupeStore."""
        assert isinstance(RecordingStore(), DedupeStore)
        assert isinstance(MemoryDedupeStore(), DedupeStore)

    async def test_custom_store_and_failure(self, qiscus_client, caplog):
        """The bot claims through the given store; a failing store refuses with
        503 without running or remembering anything."""
        store = RecordingStore()
        bot = new_bot(qiscus_client, dedupe=store)
        seen: list[str] = []
        recorder(bot, seen, "any", bot.on_message())
        await send(bot, delivery("one", id=1))
        store.broken = True
        with caplog.at_level(logging.ERROR, logger="aioqiscus.bot"):
            assert await send(bot, delivery("two", id=2)) == 503
        store.broken = False
        assert await send(bot, delivery("two", id=2)) == 200
        await joined(bot)
        assert seen == ["any", "any"]
        assert len(store.keys) == 2
        assert all(k.startswith("aioqiscus:bot:") for k in store.keys)
        assert set(store.keys.values()) == {24 * 3600.0}
        assert "dedupe store failed" in caplog.text

    async def test_memory_store_bounded(self):
        """The in-memory store keeps at most max_keys, forgetting the oldest."""
        store = MemoryDedupeStore(max_keys=3)
        assert [await store.claim(k, 60) for k in "abcde"] == [True] * 5
        assert len(store) == 3
        assert await store.claim("e", 60) is False
        assert await store.claim("a", 60) is True
        with pytest.raises(ValueError, match="max_keys"):
            MemoryDedupeStore(max_keys=0)

    def test_keys_per_bot_and_room(self):
        """Keys differ between bots and rooms; content keys are short-lived."""
        body = delivery("hi", id=5)
        event = webhooks.parse(body)
        other_room = delivery("hi", id=5, room_id="2")
        one = delivery_key(BOT, event, body)
        assert one != delivery_key("other-bot", event, body)
        assert one != delivery_key(BOT, webhooks.parse(other_room), other_room)
        plain = delivery("hi")
        assert delivery_key(BOT, webhooks.parse(plain), plain).ttl == CONTENT_KEY_TTL

    @pytest.mark.parametrize(
        ("bot_id", "room_id", "comment_id"),
        [
            (BOT, "1", 5),
            ('b"o\\t\u00e9\u2028\x01', 'r"\\\n\u00fc', 2**70),
            ("bot", "12345", 0),
        ],
    )
    def test_id_keys_are_the_canonical_json_of_their_parts(
        self, bot_id, room_id, comment_id
    ):
        """An id key hashes the compact, sorted, non-ASCII JSON of its parts,
        as keys already in shared stores were made."""
        body = delivery("hi", id=comment_id, room_id=room_id)
        key = delivery_key(bot_id, webhooks.parse(body), body)
        canonical = json.dumps(
            [bot_id, "id", room_id, comment_id],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert key.digest == hashlib.sha256(canonical.encode()).hexdigest()
        assert key.ttl == 24 * 3600.0


class TestConcurrency:
    async def test_bounded_and_all_handled(self, qiscus_client):
        """1,000 deliveries: at most max_concurrency handlers at once, all run."""
        bot = new_bot(
            qiscus_client,
            max_concurrency=8,
            max_pending=1_000,
        )
        running = peak = 0
        handled: set[str] = set()

        @bot.on_message()
        async def work(ctx: Context) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.002)
            running -= 1
            handled.add(ctx.text)

        with anyio.fail_after(30):
            statuses = [await send(bot, delivery(f"m{i}")) for i in range(1_000)]
            await joined(bot)
        assert statuses == [200] * 1_000
        assert len(handled) == 1_000
        assert peak == 8

    async def test_full_queue_refuses_with_503(self, qiscus_client):
        """Past max_concurrency + max_pending, deliveries get 503 and are not
        remembered, so a redelivery is handled."""
        bot = new_bot(
            qiscus_client,
            max_concurrency=1,
            max_pending=1,
        )
        release = asyncio.Event()
        seen: list[str] = []

        @bot.on_message()
        async def slow(ctx: Context) -> None:
            await release.wait()
            seen.append(ctx.text)

        with anyio.fail_after(10):
            assert await send(bot, delivery("a")) == 200
            assert await send(bot, delivery("b")) == 200
            assert await send(bot, delivery("c")) == 503
            release.set()
            await joined(bot)
            assert await send(bot, delivery("c")) == 200
            await joined(bot)
        assert seen == ["a", "b", "c"]

    async def test_handle_never_waits_for_handlers(self, qiscus_client):
        """handle answers within 50 ms while a handler sleeps 2 s."""
        bot = new_bot(qiscus_client)
        done: list[str] = []

        @bot.on_message()
        async def sleepy(ctx: Context) -> None:
            await asyncio.sleep(2)
            done.append(ctx.text)

        with anyio.fail_after(10):
            elapsed = []
            for text in ("first", "second"):
                start = time.perf_counter()
                status = await send(bot, delivery(text))
                elapsed.append(time.perf_counter() - start)
                assert status == 200
            assert done == []
            await joined(bot)
        assert max(elapsed) < 0.05
        assert sorted(done) == ["first", "second"]


class TestAdapters:
    @pytest.fixture(name="http")
    async def _http(self, bot) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bot.asgi), base_url="http://bot.test"
        ) as http:
            yield http

    async def test_asgi_answers(self, bot, http):
        """200 queued, 401 bad or missing signature, 400 not a webhook, 405, 413."""
        seen: list[str] = []
        recorder(bot, seen, "any", bot.on_message())
        body = delivery("hi")
        header = webhooks.SIGNATURE_HEADER

        async def post(content: bytes, signature: str | None) -> httpx.Response:
            headers = {} if signature is None else {header: signature}
            return await http.post("/hook", content=content, headers=headers)

        ok = await post(body, webhooks.sign(body, TOKEN))
        assert (ok.status_code, ok.text) == (200, "OK")
        assert (await post(body, webhooks.sign(body, "wrong"))).status_code == 401
        assert (await post(body, None)).status_code == 401
        assert (
            await post(body.replace(b"hi", b"ho"), ok.request.headers[header])
        ).status_code == 401
        not_webhook = b'{"type": "room_created", "payload": {}}'
        assert (
            await post(not_webhook, webhooks.sign(not_webhook, TOKEN))
        ).status_code == 400
        huge = b" " * (webhooks.MAX_BODY + 1)
        assert (await post(huge, webhooks.sign(huge, TOKEN))).status_code == 413
        get = await http.get("/hook")
        assert (get.status_code, get.headers["allow"]) == (405, "POST")
        await joined(bot)
        assert seen == ["any"]

    async def test_asgi_answer_framing(self, bot):
        """Answers carry their Content-Length; a send that edits headers leaks nothing."""
        answers: list[tuple[int, list[tuple[bytes, bytes]], bytes]] = []

        async def editing_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                answers.append((message["status"], list(message["headers"]), b""))
                message["headers"].append((b"x-added", b"1"))
            else:
                status, headers, _ = answers[-1]
                answers[-1] = (status, headers, message["body"])

        async def empty() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        for _ in range(2):
            await bot.asgi(
                {"type": "http", "method": "GET", "headers": []}, empty, editing_send
            )
        assert answers[0] == answers[1]
        status, headers, text = answers[0]
        assert status == 405
        assert type(status) is int
        assert (b"x-added", b"1") not in headers
        assert dict(headers)[b"content-length"] == str(len(text)).encode()
        assert dict(headers)[b"allow"] == b"POST"

    async def test_asgi_busy_says_retry_after(self, qiscus_client):
        """A full queue answers 503 with Retry-After."""
        bot = new_bot(
            qiscus_client,
            max_concurrency=1,
            max_pending=0,
        )
        release = asyncio.Event()

        @bot.on_message()
        async def slow(ctx: Context) -> None:
            await release.wait()

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bot.asgi), base_url="http://bot.test"
        ) as http:
            with anyio.fail_after(10):
                statuses = []
                for text in ("a", "b"):
                    body = delivery(text)
                    response = await http.post(
                        "/",
                        content=body,
                        headers={webhooks.SIGNATURE_HEADER: webhooks.sign(body, TOKEN)},
                    )
                    statuses.append(response.status_code)
                release.set()
                await joined(bot)
        assert statuses == [200, 503]
        assert response.headers["retry-after"] == "1"

    async def test_asgi_lifespan_joins_on_shutdown(self, bot):
        """lifespan.shutdown completes only after the handlers in flight."""
        done: list[str] = []

        @bot.on_message()
        async def slow(ctx: Context) -> None:
            await asyncio.sleep(0.2)
            done.append(ctx.text)

        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: list[str] = []

        async def send_(message: Any) -> None:
            outbox.append(message["type"])

        with anyio.fail_after(10):
            app = asyncio.create_task(bot.asgi({"type": "lifespan"}, inbox.get, send_))
            await inbox.put({"type": "lifespan.startup"})
            await send(bot, delivery("in flight"))
            await inbox.put({"type": "lifespan.shutdown"})
            await app
        assert outbox == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert done == ["in flight"]

    async def test_asgi_disconnect_and_websocket(self, bot):
        """A client that leaves mid-body gets nothing; websockets are closed."""
        sent: list[Any] = []

        async def record(message: Any) -> None:
            sent.append(message)

        async def gone() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        await bot.asgi({"type": "http", "method": "POST", "headers": []}, gone, record)
        assert sent == []

        async def connect() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        await bot.asgi({"type": "websocket"}, connect, record)
        assert sent == [{"type": "websocket.close", "code": 1008}]

    async def test_fastapi_mount_and_route(self, bot, qiscus_client, room_id):
        """The documented FastAPI recipes: mount bot.asgi, or call handle."""

        @bot.on_text("hi")
        async def hello(ctx: Context) -> None:
            await ctx.reply(f"hello via {ctx.sender.name}")

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            yield
            await bot.join()

        app = FastAPI(lifespan=lifespan)
        app.mount("/qiscus", bot.asgi)

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            status = await bot.handle(
                await request.body(),
                request.headers.get(webhooks.SIGNATURE_HEADER),
            )
            return Response(status_code=status)

        first = delivery("hi", room_id=room_id, id=1)
        second = delivery("hi", room_id=room_id, id=2)
        with anyio.fail_after(10):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://app.test"
            ) as http:
                statuses = [
                    (
                        await http.post(
                            path,
                            content=body,
                            headers={
                                webhooks.SIGNATURE_HEADER: webhooks.sign(body, TOKEN)
                            },
                        )
                    ).status_code
                    for path, body in (("/qiscus/webhook", first), ("/hook", second))
                ]
                unsigned = await http.post("/hook", content=first)
            await joined(bot)
            replies = await bot_comments(qiscus_client, room_id)
        assert statuses == [200, 200]
        assert unsigned.status_code == 401
        assert [c.message for c in replies] == ["hello via User1"] * 2

    async def test_aiohttp_handler(self, bot, qiscus_client, room_id):
        """An aiohttp app on 127.0.0.1 routes signed deliveries to the bot."""
        from aiohttp import web
        from aiohttp.test_utils import TestClient, TestServer

        @bot.on_text("hi")
        async def hello(ctx: Context) -> None:
            await ctx.reply("hello")

        app = web.Application()
        app.router.add_route("*", "/hook", bot.aiohttp_handler)
        body = delivery("hi", room_id=room_id)
        with anyio.fail_after(10):
            async with TestClient(TestServer(app, host="127.0.0.1")) as http:
                header = webhooks.SIGNATURE_HEADER
                ok = await http.post(
                    "/hook", data=body, headers={header: webhooks.sign(body, TOKEN)}
                )
                bad = await http.post("/hook", data=body, headers={header: "0" * 64})
                junk = await http.post(
                    "/hook", data=b"[]", headers={header: webhooks.sign(b"[]", TOKEN)}
                )
                get = await http.get("/hook")
                statuses = [r.status for r in (ok, bad, junk, get)]
                allow = get.headers["Allow"]
            await joined(bot)
            replies = await bot_comments(qiscus_client, room_id)
        assert statuses == [200, 401, 400, 405]
        assert allow == "POST"
        assert [c.message for c in replies] == ["hello"]

    async def test_uvicorn_loopback(self, bot, qiscus_client, room_id):
        """The ASGI app served by uvicorn on 127.0.0.1 takes a signed POST; its
        lifespan shutdown waits for the reply."""

        @bot.on_text("hi")
        async def hello(ctx: Context) -> None:
            await asyncio.sleep(0.1)
            await ctx.reply("hello over loopback")

        with anyio.fail_after(15):
            async with serving(bot.asgi) as url:
                body = delivery("hi", room_id=room_id)
                async with httpx.AsyncClient() as http:
                    response = await http.post(
                        f"{url}/qiscus/webhook",
                        content=body,
                        headers={webhooks.SIGNATURE_HEADER: webhooks.sign(body, TOKEN)},
                    )
                assert response.status_code == 200
            # The server has shut down: lifespan joined the handler.
            replies = await bot_comments(qiscus_client, room_id)
        assert [c.message for c in replies] == ["hello over loopback"]
