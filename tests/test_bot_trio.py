"""The bot under trio (anyio): it runs handlers, conversations, replies and
its ASGI lifespan once entered; what cannot run there says why."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from aioqiscus import EventLoopError, QiscusClient, webhooks
from aioqiscus.bot import Bot, Context, RedisDedupeStore
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE
from .test_bot import BOT, TOKEN, delivery

pytest.importorskip("trio")


def fake_client() -> QiscusClient:
    """A client of a fake with Alice and the bot."""
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOT, "Bot")
    return QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )


def on_trio(main: Any, *args: Any) -> Any:
    return anyio.run(main, *args, backend="trio")


class TestTrio:
    def test_entered_bot_converses_and_replies(self):
        """Entered with async with, the bot refuses nothing, keeps the
        conversation and replies through the fake; not entered, it says how
        to run it."""

        async def main() -> tuple[str, int, list[str]]:
            client = fake_client()
            async with client:
                room = await client.create_room("Support", [ALICE], BOT)
                bot = Bot(client, user_id=BOT, signature_token=TOKEN)

                @bot.on_text("again", step="asked")
                async def again(ctx: Context) -> None:
                    await ctx.reply("second, under trio")

                @bot.on_message()
                async def first(ctx: Context) -> None:
                    async with ctx.conversation() as conv:
                        conv.step = "asked"
                    await ctx.reply("first, under trio")

                one = delivery("hi", room_id=room.id, id=1)
                two = delivery("again", room_id=room.id, id=2)
                with pytest.raises(EventLoopError) as info:
                    await bot.handle(one, webhooks.sign(one, TOKEN))
                with anyio.fail_after(10):
                    async with bot:
                        status = await bot.handle(one, webhooks.sign(one, TOKEN))
                        await bot.join()
                        await bot.handle(two, webhooks.sign(two, TOKEN))
                replies = [
                    c.message
                    async for c in client.iter_comments(room.id)
                    if c.sender and c.sender.id == BOT
                ]
            return str(info.value), status, replies

        error, status, replies = on_trio(main)
        assert "async with bot" in error
        assert "trio" in error
        assert "no running event loop" not in error
        assert status == 200
        assert replies == ["second, under trio", "first, under trio"]

    def test_asgi_lifespan_drains_under_trio(self):
        """The ASGI app's lifespan enters the bot and drains it at shutdown."""

        async def main() -> tuple[list[str], list[str], int]:
            client = fake_client()
            bot = Bot(client, user_id=BOT, signature_token=TOKEN)
            done: list[str] = []

            @bot.on_message()
            async def slow(ctx: Context) -> None:
                await anyio.sleep(0.1)
                done.append(ctx.text)

            send_in, receive_in = anyio.create_memory_object_stream[dict[str, Any]](4)
            sent: list[str] = []
            started = anyio.Event()

            async def send_out(message: Any) -> None:
                sent.append(message["type"])
                started.set()

            body = delivery("in flight", id=1)
            with anyio.fail_after(10), send_in, receive_in:
                async with anyio.create_task_group() as group:
                    group.start_soon(
                        bot.asgi, {"type": "lifespan"}, receive_in.receive, send_out
                    )
                    await send_in.send({"type": "lifespan.startup"})
                    await started.wait()
                    async with httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=bot.asgi),
                        base_url="http://bot",
                    ) as http:
                        response = await http.post(
                            "/",
                            content=body,
                            headers={
                                webhooks.SIGNATURE_HEADER: webhooks.sign(body, TOKEN)
                            },
                        )
                    await send_in.send({"type": "lifespan.shutdown"})
            await client.aclose()
            return done, sent, response.status_code

        done, sent, status = on_trio(main)
        assert status == 200
        assert done == ["in flight"]
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    def test_redis_stores_say_asyncio_only(self, redis_url):
        """redis-py's asyncio client cannot run under trio: the store says so."""

        async def main() -> str:
            store = RedisDedupeStore.from_url(redis_url)
            with pytest.raises(EventLoopError) as info:
                await store.claim("k", 5)
            return str(info.value)

        assert "asyncio only" in on_trio(main)
