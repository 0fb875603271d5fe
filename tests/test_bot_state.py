"""Conversations: a step and JSON data per room and sender, saved on exit,
matched by step= listeners, never interleaved (one lock per conversation,
across processes on a real redis-server), expiring after the bot's TTL."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import re
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import anyio
import pytest
import redis.asyncio

from aioqiscus.bot import (
    Bot,
    Context,
    ConversationBusyError,
    ConversationLockLostError,
    ConversationStore,
    MemoryConversationStore,
    RedisConversationStore,
    StoreUnavailableError,
)
from aioqiscus.errors import InvalidArgumentError

from ._bot_workers import BOT, TOKEN, offline_client, order_bot, run_order_process
from .conftest import BOB
from .test_bot import delivery, send
from .test_stores import free_port


@pytest.fixture(name="store", params=["memory", "redis"])
async def _store(request) -> AsyncIterator[Any]:
    """Each conversation store: in memory, and on the test Redis."""
    if request.param == "memory":
        yield MemoryConversationStore()
        return
    store = RedisConversationStore.from_url(request.getfixturevalue("redis_url"))
    yield store
    await store.aclose()


async def stored(store: Any, key: str) -> Any:
    """The state stored under *key*, decoded (None if there is none)."""
    token, state = await store.acquire(key, 1)
    await store.release(key, token, state, 60)
    return None if state is None else json.loads(state)


async def joined(bot: Bot) -> None:
    with anyio.fail_after(10):
        await bot.join()


class TestSteps:
    async def test_two_step_conversation(self, store):
        """order -> step ask_order; a number at that step is kept and ends the
        step; the same number again goes to the fallback."""
        log: list[str] = []
        async with offline_client() as client:
            bot = order_bot(client, store, log)
            with anyio.fail_after(10):
                for i, text in enumerate(["12345", "order", "show", "12345", "12345"]):
                    assert await send(bot, delivery(text, id=i + 1)) == 200
                    await joined(bot)
                await send(bot, delivery("show", id=9))
                await joined(bot)
        assert log == [
            "other 12345",
            "asked",
            "step ask_order data {}",
            "order 12345",
            "other 12345",
            'step None data {"order": "12345"}',
        ]

    async def test_keyed_by_room_and_sender(self, store):
        """Alice's step does not apply to Bob, nor to Alice in another room."""
        log: list[str] = []
        async with offline_client() as client:
            bot = order_bot(client, store, log)
            with anyio.fail_after(10):
                await send(bot, delivery("order", id=1))
                await joined(bot)
                await send(bot, delivery("7", id=2, sender=BOB))
                await send(bot, delivery("8", id=3, room_id="other"))
                await joined(bot)
                await send(bot, delivery("9", id=4))
                await joined(bot)
        assert log == ["asked", "other 7", "other 8", "order 9"]

    async def test_nested_blocks_share_one_hold(self, store):
        """A block inside a block (and inside a step handler) shares the held
        conversation instead of waiting for itself."""
        async with offline_client() as client:
            bot = Bot(client, user_id=BOT, signature_token=TOKEN, conversations=store)
            seen: list[Any] = []

            @bot.on_message(step="deep")
            async def deep(ctx: Context) -> None:
                async with ctx.holding() as held, ctx.conversation() as outer:
                    seen.append(held is outer)
                    outer.data["n"] = 1
                    async with ctx.conversation() as inner:
                        seen.append(inner is outer)
                        inner.data["n"] += 1
                    seen.append(outer.data)

            @bot.on_message()
            async def start(ctx: Context) -> None:
                async with ctx.conversation() as conv:
                    conv.step = "deep"

            with anyio.fail_after(10):
                for i in range(2):
                    await send(bot, delivery("x", id=i + 1))
                    await joined(bot)
        assert seen == [True, True, {"n": 2}]

    def test_bad_step_refused(self, store):
        """An empty or non-str step is refused at registration."""
        bot = Bot(offline_client(), user_id=BOT, signature_token=TOKEN)
        with pytest.raises(InvalidArgumentError, match="step"):
            bot.on_text("x", step="")
        with pytest.raises(InvalidArgumentError, match="step"):
            bot.on_message(step=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="ConversationStore"):
            Bot(offline_client(), user_id=BOT, signature_token=TOKEN, conversations=1)  # type: ignore[arg-type]
        assert isinstance(store, ConversationStore)


class TestSaving:
    async def test_not_json_is_refused_and_not_saved(self, store):
        """Data JSON cannot hold goes to the error hooks as an
        InvalidArgumentError; the stored state stays as it was."""
        errors: list[BaseException] = []
        keys: list[str] = []
        async with offline_client() as client:
            bot = Bot(client, user_id=BOT, signature_token=TOKEN, conversations=store)

            @bot.on_text("good")
            async def good(ctx: Context) -> None:
                async with ctx.conversation() as conv:
                    conv.step, conv.data["v"] = "s", [1, "two", None]
                keys.append(ctx.conversation_key)

            @bot.on_text("bad")
            async def bad(ctx: Context) -> None:
                async with ctx.conversation() as conv:
                    conv.data["v"] = {1, 2}

            @bot.on_text("nan")
            async def nan(ctx: Context) -> None:
                async with ctx.conversation() as conv:
                    conv.data["v"] = float("nan")

            @bot.on_error
            async def hook(ctx: Context, exc: Exception) -> None:
                errors.append(exc)

            with anyio.fail_after(10):
                for i, text in enumerate(["good", "bad", "nan"]):
                    await send(bot, delivery(text, id=i + 1))
                    await joined(bot)
                state = await stored(store, keys[0])
        assert [type(e) for e in errors] == [InvalidArgumentError] * 2
        assert "JSON" in str(errors[0])
        assert state == {"step": "s", "data": {"v": [1, "two", None]}}

    async def test_exception_leaves_state(self, store):
        """A block that raises saves nothing; end() deletes the state."""
        keys: list[str] = []
        async with offline_client() as client:
            bot = Bot(client, user_id=BOT, signature_token=TOKEN, conversations=store)

            @bot.on_message()
            async def handler(ctx: Context) -> None:
                keys.append(ctx.conversation_key)
                async with ctx.conversation() as conv:
                    if ctx.text == "end":
                        conv.end()
                        return
                    conv.data[ctx.text] = True
                    if ctx.text == "boom":
                        raise LookupError

            with anyio.fail_after(10):
                await send(bot, delivery("kept", id=1))
                await send(bot, delivery("boom", id=2))
                await joined(bot)
                after_boom = await stored(store, keys[0])
                await send(bot, delivery("end", id=3))
                await joined(bot)
                after_end = await stored(store, keys[0])
        assert after_boom == {"step": None, "data": {"kept": True}}
        assert after_end is None
        assert re.fullmatch(r"aioqiscus:conv:[0-9a-f]{32}", keys[0])

    async def test_unreadable_state_starts_afresh(self, caplog):
        """A stored state that is not ours starts a fresh conversation, with
        a warning that does not repeat the state."""
        store = MemoryConversationStore()
        seen: list[Any] = []
        async with offline_client() as client:
            bot = Bot(client, user_id=BOT, signature_token=TOKEN, conversations=store)

            @bot.on_message()
            async def handler(ctx: Context) -> None:
                token, _ = await store.acquire(ctx.conversation_key, 1)
                await store.release(ctx.conversation_key, token, '["secret"]', 60)
                async with ctx.conversation() as conv:
                    seen.append((conv.step, conv.data))

            with caplog.at_level(logging.WARNING, logger="aioqiscus.bot"):
                await send(bot, delivery("x", id=1))
                await joined(bot)
        assert seen == [(None, {})]
        assert "unreadable conversation state" in caplog.text
        assert "secret" not in caplog.text


class TestLocking:
    async def test_deliveries_of_one_conversation_never_interleave(self, store):
        """Thirty counts of one conversation on eight workers: each read,
        pause, write is alone, so the count is exact."""
        log: list[str] = []
        async with offline_client() as client:
            bot = order_bot(client, store, log)

            with anyio.fail_after(20):
                for i in range(30):
                    await send(bot, delivery("count", id=i + 1))
                await joined(bot)
                await send(bot, delivery("show", id=99))
                await joined(bot)
        assert log == ['step None data {"count": 30}']

    @pytest.mark.parametrize("stepped", [False, True])
    async def test_wait_times_out_with_a_typed_error(self, store, stepped):
        """A delivery that waits past conversation_wait gets ConversationBusyError
        in the error hooks, before its handler (stepped bots) or at its block."""
        release = asyncio.Event()
        errors: list[tuple[str, BaseException]] = []
        async with offline_client() as client:
            bot = Bot(
                client,
                user_id=BOT,
                signature_token=TOKEN,
                conversations=store,
                conversation_wait=0.1,
            )

            if stepped:

                @bot.on_text("hold", step="never")
                async def never(ctx: Context) -> None:
                    raise AssertionError

            @bot.on_text("hold")
            async def hold(ctx: Context) -> None:
                async with ctx.conversation():
                    await release.wait()

            @bot.on_error
            async def hook(ctx: Context, exc: Exception) -> None:
                errors.append((ctx.text, exc))

            with anyio.fail_after(10):
                await send(bot, delivery("hold", id=1))
                await anyio.sleep(0.05)
                await send(bot, delivery("hold", id=2))
                await anyio.sleep(0.5)
                release.set()
                await joined(bot)
        [(text, error)] = errors
        assert text == "hold"
        assert isinstance(error, ConversationBusyError)
        assert isinstance(error, TimeoutError)
        assert "0.1 s" in str(error)
        assert "raise the bot's conversation_wait" in str(error)


class TestRedisConversationStore:
    @pytest.fixture(name="redis_store")
    async def _redis_store(self, redis_url) -> AsyncIterator[RedisConversationStore]:
        store = RedisConversationStore.from_url(redis_url, prefix="t:", lock_expiry=0.2)
        yield store
        await store.aclose()

    async def test_keys_ttl_and_owner_only_release(self, redis_store, redis_url):
        """State and lock share a hash tag; the state's TTL is the one given;
        a token that does not own the lock neither saves nor unlocks."""
        with anyio.fail_after(10):
            token, state = await redis_store.acquire("c1", 1)
            assert state is None
            with pytest.raises(ConversationLockLostError):
                await redis_store.release("c1", "not-the-owner", '{"x":1}', 30)
            async with redis.asyncio.Redis.from_url(redis_url) as raw:
                assert await raw.keys("*") == [b"t:{c1}:lock"]
                await redis_store.release("c1", token, '{"step":"s","data":{}}', 30)
                assert await raw.keys("*") == [b"t:{c1}"]
                assert 29_000 < await raw.pttl("t:{c1}") <= 30_000
            _, state = await redis_store.acquire("c1", 1)
        assert state == '{"step":"s","data":{}}'

    async def test_expired_lock_is_taken_and_old_owner_loses(self, redis_store):
        """A lock its owner kept past lock_expiry goes to the next waiter; the
        old owner's save is refused and does not touch the new owner's lock."""
        with anyio.fail_after(10):
            first, _ = await redis_store.acquire("c2", 1)
            second, _ = await redis_store.acquire("c2", 2)
            with pytest.raises(ConversationLockLostError, match="lock_expiry"):
                await redis_store.release("c2", first, '{"old":1}', 30)
            await redis_store.release("c2", second, '{"step":null,"data":{"a":1}}', 30)
            _, state = await redis_store.acquire("c2", 1)
        assert state == '{"step":null,"data":{"a":1}}'

    async def test_state_expires_after_ttl(self, redis_url):
        """With conversation_ttl=0.2, the step is forgotten after 0.2 s."""
        store = RedisConversationStore.from_url(redis_url)
        log: list[str] = []
        async with offline_client() as client:
            bot = order_bot(client, store, log, conversation_ttl=0.2)
            with anyio.fail_after(10):
                await send(bot, delivery("order", id=1))
                await joined(bot)
                await anyio.sleep(0.4)
                await send(bot, delivery("42", id=2))
                await joined(bot)
        await store.aclose()
        assert log == ["asked", "other 42"]

    async def test_redis_gone(self):
        """An unreachable Redis: StoreUnavailableError from acquire, quickly."""
        store = RedisConversationStore.from_url(
            f"redis://127.0.0.1:{free_port()}/0", timeout=0.5
        )
        with anyio.fail_after(10), pytest.raises(StoreUnavailableError):
            await store.acquire("c", 5)
        await store.aclose()

    def test_two_processes(self, redis_url):
        """Two worker processes share one conversation: counts delivered to
        both at once never interleave, and a step set on one worker is
        answered on the other."""
        context = multiprocessing.get_context("spawn")
        counts = [delivery("count", id=i + 1) for i in range(20)]
        with (
            ProcessPoolExecutor(max_workers=1, mp_context=context) as one,
            ProcessPoolExecutor(max_workers=1, mp_context=context) as two,
        ):
            futures = [
                one.submit(run_order_process, redis_url, counts[::2]),
                two.submit(run_order_process, redis_url, counts[1::2]),
            ]
            pids = {future.result(timeout=90)[0] for future in futures}
            order = [delivery("order", id=100)]
            pid_a, log_a = one.submit(run_order_process, redis_url, order).result(90)
            answer = [delivery("555", id=101)]
            pid_b, log_b = two.submit(run_order_process, redis_url, answer).result(90)
            show = [delivery("show", id=102)]
            _, log_c = one.submit(run_order_process, redis_url, show).result(90)
        assert len(pids) == 2
        assert pid_a != pid_b
        assert (log_a, log_b) == (["asked"], ["order 555"])
        assert log_c == ['step None data {"count": 20, "order": "555"}']
