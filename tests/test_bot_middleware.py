"""Middleware wrap every handled delivery, in registration order; they can
skip the handler, and what they raise reaches the error hooks."""

from __future__ import annotations

import re

import anyio
import pytest

from aioqiscus.bot import Bot, Context, Handler

from ._bot_workers import offline_client
from .test_bot import delivery, new_bot, send


async def run(bot: Bot, *texts: str) -> None:
    with anyio.fail_after(10):
        for i, text in enumerate(texts):
            assert await send(bot, delivery(text, id=i + 1)) == 200
        await bot.join()


class TestMiddleware:
    async def test_order_and_context(self):
        """The first registered is outermost; each sees the routed context."""
        bot = new_bot(offline_client())
        calls: list[str] = []

        @bot.middleware
        async def outer(ctx: Context, call_next: Handler) -> None:
            calls.append(f"outer in {ctx.text}")
            await call_next(ctx)
            calls.append("outer out")

        @bot.middleware
        async def inner(ctx: Context, call_next: Handler) -> None:
            calls.append(f"inner in {ctx.match and ctx.match.group(1)}")
            await call_next(ctx)
            calls.append("inner out")

        @bot.on_text(re.compile(r"order (\d+)"))
        async def handler(ctx: Context) -> None:
            calls.append("handler")

        await run(bot, "order 7")
        assert calls == [
            "outer in order 7",
            "inner in 7",
            "handler",
            "inner out",
            "outer out",
        ]

    async def test_skip_and_errors(self):
        """A middleware that does not call call_next skips the handler; one
        that raises reaches the error hooks; unmatched deliveries run none."""
        bot = new_bot(offline_client())
        handled: list[str] = []
        errors: list[str] = []

        @bot.middleware
        async def gate(ctx: Context, call_next: Handler) -> None:
            if ctx.sender.id == "blocked@example.com":
                return
            if ctx.text == "boom":
                raise PermissionError("refused by middleware")
            await call_next(ctx)

        @bot.on_text("hi")
        @bot.on_text("boom")
        async def handler(ctx: Context) -> None:
            handled.append(ctx.text)

        @bot.on_error
        async def hook(ctx: Context, exc: Exception) -> None:
            errors.append(f"{ctx.text}: {exc}")

        await run(bot, "hi", "boom", "unmatched")
        with anyio.fail_after(10):
            await send(bot, delivery("hi", id=50, sender="blocked@example.com"))
            await bot.join()
        assert handled == ["hi"]
        assert errors == ["boom: refused by middleware"]

    async def test_inside_the_conversation_for_steps(self):
        """With step= listeners, middleware run while the conversation is held:
        the conversation they open is the held one."""
        bot = new_bot(offline_client())
        seen: list[str | None] = []

        @bot.middleware
        async def step_logger(ctx: Context, call_next: Handler) -> None:
            async with ctx.conversation() as conv:
                seen.append(conv.step)
            await call_next(ctx)

        @bot.on_message(step="second")
        async def second(ctx: Context) -> None:
            async with ctx.conversation() as conv:
                conv.end()

        @bot.on_message()
        async def first(ctx: Context) -> None:
            async with ctx.conversation() as conv:
                conv.step = "second"

        for i, text in enumerate(["a", "b", "c"]):
            with anyio.fail_after(10):
                await send(bot, delivery(text, id=i + 1))
                await bot.join()
        assert seen == [None, "second", None]

    def test_must_be_async(self):
        """A plain function is refused at registration."""
        bot = new_bot(offline_client())
        with pytest.raises(TypeError, match="middleware"):
            bot.middleware(print)  # type: ignore[arg-type]
