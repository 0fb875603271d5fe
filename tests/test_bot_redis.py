"""Bots sharing a RedisDedupeStore on a real redis-server: in one process and
in several, each delivery is handled once whichever bot each redelivery
reaches; a Redis that is gone refuses deliveries (fail closed) or lets them
through (fail open)."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor

import anyio
import pytest

from aioqiscus.bot import Bot, Context, RedisDedupeStore

from ._bot_workers import offline_client, run_bot, run_bot_process
from .test_bot import BOT, TOKEN, delivery, send
from .test_stores import free_port

STREAM = [delivery(f"m{i}", id=i + 1, room_id=str(i % 5)) for i in range(60)]


class TestSharedDedupe:
    async def test_bots_in_one_process(self, redis_url):
        """Four bots take the whole stream each, at once: every delivery is
        handled exactly once."""

        async def one(seed: int) -> list[str]:
            bodies = list(STREAM)
            random.Random(seed).shuffle(bodies)
            statuses, handled = await run_bot(redis_url, bodies)
            assert statuses == [200] * len(STREAM)
            return handled

        results = await asyncio.gather(*(one(seed) for seed in range(4)))
        handled = [text for result in results for text in result]
        assert sorted(handled) == sorted(f"m{i}" for i in range(60))

    def test_bots_in_three_processes(self, redis_url):
        """Three worker processes each get every delivery (two are
        redeliveries): each is handled once in all."""
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=3, mp_context=context) as pool:
            futures = [
                pool.submit(run_bot_process, redis_url, STREAM, s) for s in range(3)
            ]
            results = [future.result(timeout=90) for future in futures]
        handled = [text for result in results for text in result]
        assert sorted(handled) == sorted(f"m{i}" for i in range(60))

    @pytest.mark.parametrize(("fail_open", "status"), [(False, 503), (True, 200)])
    async def test_redis_gone(self, fail_open, status):
        """Redis unreachable: 503 and nothing run by default; fail_open
        handles the delivery. Either way within the timeout."""
        store = RedisDedupeStore.from_url(
            f"redis://127.0.0.1:{free_port()}/0", timeout=0.5, fail_open=fail_open
        )
        seen: list[str] = []
        async with offline_client() as client:
            bot = Bot(client, user_id=BOT, signature_token=TOKEN, dedupe=store)

            @bot.on_message()
            async def record(ctx: Context) -> None:
                seen.append(ctx.text)

            with anyio.fail_after(10):
                assert await send(bot, delivery("hi", id=1)) == status
                await bot.join()
        await store.aclose()
        assert seen == (["hi"] if fail_open else [])


async def test_redis_going_away_mid_run():
    """Redis stops while the bot runs: the next delivery gets 503 (dedupe
    fails closed) within the timeout, and a conversation handler's hooks get
    StoreUnavailableError; nothing hangs, nothing is answered twice."""
    from aioqiscus.bot import RedisConversationStore, StoreUnavailableError

    from ._redis import run_redis

    handled: list[str] = []
    errors: list[BaseException] = []
    with run_redis() as url:
        dedupe = RedisDedupeStore.from_url(url, timeout=0.5)
        conversations = RedisConversationStore.from_url(url, timeout=0.5)
        async with offline_client() as client:
            bot = Bot(
                client,
                user_id=BOT,
                signature_token=TOKEN,
                dedupe=dedupe,
                conversations=conversations,
            )

            @bot.on_message()
            async def record(ctx: Context) -> None:
                async with ctx.conversation() as conv:
                    conv.data["seen"] = ctx.text
                handled.append(ctx.text)

            @bot.on_error
            async def hook(ctx: Context, exc: Exception) -> None:
                errors.append(exc)

            with anyio.fail_after(10):
                assert await send(bot, delivery("before", id=1)) == 200
                await bot.join()
    # The server is gone now.
    async with offline_client() as client:
        # Dedupe in memory, conversations on the Redis that went away.
        other = Bot(
            client, user_id=BOT, signature_token=TOKEN, conversations=conversations
        )
        other.on_message()(record)
        other.on_error(hook)
        with anyio.fail_after(10):
            assert await send(bot, delivery("after", id=2)) == 503
            assert await send(other, delivery("lost", id=3)) == 200
            await other.join()
    await dedupe.aclose()
    await conversations.aclose()
    assert handled == ["before"]
    assert [type(e) for e in errors] == [StoreUnavailableError]
