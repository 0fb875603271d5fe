"""Drained shutdowns: aclose stops accepting (503 with Retry-After), lets
accepted deliveries finish, cancels and reports what is left at its timeout;
the ASGI lifespan and aiohttp's shutdown drain the bot, and uvicorn stopped
by SIGTERM mid-burst loses nothing it accepted."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import redis

from aioqiscus import webhooks
from aioqiscus.bot import Bot, Context, Drained

from ._bot_workers import offline_client, uvicorn_process
from .test_bot import TOKEN, delivery, new_bot, send

ROOT = Path(__file__).resolve().parents[1]


def slow_bot(seconds: float, done: list[str], **options) -> Bot:
    bot = new_bot(offline_client(), **options)

    @bot.on_message()
    async def slow(ctx: Context) -> None:
        await anyio.sleep(seconds)
        done.append(ctx.text)

    return bot


class TestAclose:
    async def test_drains_then_refuses(self):
        """Accepted deliveries all finish; afterwards deliveries get 503 with
        Retry-After and nothing runs."""
        done: list[str] = []
        bot = slow_bot(0.05, done, max_concurrency=2)
        with anyio.fail_after(10):
            for i in range(5):
                assert await send(bot, delivery(f"m{i}", id=i + 1)) == 200
            drained = await bot.aclose(timeout=5)
            assert await send(bot, delivery("late", id=9)) == 503
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=bot.asgi), base_url="http://b"
            ) as http:
                body = delivery("late", id=10)
                late = await http.post(
                    "/", content=body, headers={"qiscus-sdk-signature": "x"}
                )
        assert drained == Drained(completed=5)
        assert sorted(done) == [f"m{i}" for i in range(5)]
        assert (late.status_code, late.headers["retry-after"]) == (503, "1")

    async def test_timeout_cancels_and_reports(self, caplog):
        """At the timeout, running handlers are cancelled and queued ones
        dropped: counted, and logged with their delivery keys."""
        cancelled: list[str] = []
        bot = new_bot(offline_client(), max_concurrency=2)

        @bot.on_message()
        async def stuck(ctx: Context) -> None:
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.append(ctx.text)

        with (
            anyio.fail_after(10),
            caplog.at_level(logging.ERROR, logger="aioqiscus.bot"),
        ):
            for i in range(5):
                await send(bot, delivery(f"m{i}", id=i + 1))
            await anyio.sleep(0.01)
            start = time.monotonic()
            drained = await bot.aclose(timeout=0.2)
            elapsed = time.monotonic() - start
        assert (drained.completed, drained.cancelled, drained.dropped) == (0, 2, 3)
        assert drained.lost == 5
        assert sorted(cancelled) == ["m0", "m1"]
        assert 0.15 < elapsed < 2
        for key in drained.unfinished:
            assert key in caplog.text
        assert "cancelled" in caplog.text
        assert (bot._runner.running, bot._runner.pending) == (0, 0)

    async def test_async_with_enters_once_and_drains(self):
        """async with bot runs handlers in its block and drains on exit."""
        done: list[str] = []
        bot = slow_bot(0.05, done)
        with anyio.fail_after(10):
            async with bot:
                await send(bot, delivery("in block", id=1))
                with pytest.raises(RuntimeError, match="already entered"):
                    await bot.__aenter__()
            with pytest.raises(RuntimeError, match="make a new Bot"):
                await bot.__aenter__()
        assert done == ["in block"]

    async def test_lifespan_of_a_closed_bot_fails_startup(self):
        """A closed bot's ASGI lifespan answers startup.failed, saying why."""
        bot = new_bot(offline_client())
        await bot.aclose()
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "lifespan.startup"}

        async def record(message: Any) -> None:
            sent.append(message)

        with anyio.fail_after(10):
            await bot.asgi({"type": "lifespan"}, receive, record)
        assert sent == [
            {
                "type": "lifespan.startup.failed",
                "message": "the bot was closed (aclose); make a new Bot",
            }
        ]

    def test_bad_timeouts_refused(self):
        """drain_timeout must be a positive number of seconds."""
        with pytest.raises(ValueError, match="drain_timeout"):
            new_bot(offline_client(), drain_timeout=0)


class TestServers:
    async def test_aiohttp_on_shutdown_drains(self):
        """With app.on_shutdown.append(bot.aiohttp_shutdown), closing the
        aiohttp server waits for the handler it accepted."""
        from aiohttp import web
        from aiohttp.test_utils import TestClient, TestServer

        done: list[str] = []
        bot = slow_bot(0.2, done)
        app = web.Application()
        app.router.add_post("/hook", bot.aiohttp_handler)
        app.on_shutdown.append(bot.aiohttp_shutdown)
        body = delivery("slow", id=1)
        with anyio.fail_after(10):
            async with TestClient(TestServer(app, host="127.0.0.1")) as http:
                signature = webhooks.sign(body, TOKEN)
                response = await http.post(
                    "/hook", data=body, headers={webhooks.SIGNATURE_HEADER: signature}
                )
                assert response.status == 200
                assert done == []
        assert done == ["slow"]

    def test_uvicorn_sigterm_mid_burst_loses_nothing(self, redis_url):
        """uvicorn gets SIGTERM after 20 of 60 concurrent deliveries were
        answered: it shuts down, and every delivery answered 200 was
        handled, once."""
        with uvicorn_process(
            "tests._bot_app:app", env={"AIOQISCUS_TEST_REDIS": redis_url}
        ) as (url, server):
            statuses = asyncio.run(burst(url, server))
            # uvicorn re-raises the signal it caught once it has shut down.
            assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        with redis.Redis.from_url(redis_url) as raw:
            handled = [t.decode() for t in raw.lrange("handled", 0, -1)]
        accepted = {text for text, status in statuses.items() if status == 200}
        assert len(accepted) >= 20
        assert accepted <= set(handled)
        assert len(handled) == len(set(handled))


async def burst(url: str, server: subprocess.Popen[bytes]) -> dict[str, int | None]:
    """Post 60 deliveries at once; SIGTERM *server* after 20 answers.

    Returns each text's status (``None``: refused or cut off).
    """
    with anyio.fail_after(20):
        async with httpx.AsyncClient(base_url=url) as http:
            while True:
                try:
                    await http.get("/")
                    break
                except httpx.TransportError:
                    await anyio.sleep(0.05)
            statuses: dict[str, int | None] = {}
            answered = anyio.Event()

            async def post(text: str, comment_id: int) -> None:
                body = delivery(text, id=comment_id)
                signature = webhooks.sign(body, TOKEN)
                try:
                    response = await http.post(
                        "/",
                        content=body,
                        headers={webhooks.SIGNATURE_HEADER: signature},
                    )
                    statuses[text] = response.status_code
                except httpx.TransportError:
                    statuses[text] = None
                if sum(s == 200 for s in statuses.values()) >= 20:
                    answered.set()

            async with anyio.create_task_group() as group:
                for i in range(60):
                    group.start_soon(post, f"m{i}", i + 1)
                await answered.wait()
                server.send_signal(signal.SIGTERM)
    return statuses
