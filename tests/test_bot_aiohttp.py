"""The aiohttp handler caps bodies itself: with the app's client_max_size
raised, an oversized unsigned body is refused with 413 before it is read
whole, whether its length is declared or it comes in chunks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import pytest

from aioqiscus import webhooks
from aioqiscus.bot import Bot, Context

from ._bot_workers import offline_client
from .test_bot import TOKEN, delivery, new_bot

MIB = 1024 * 1024


@pytest.fixture(name="bot")
def _bot() -> Bot:
    bot = new_bot(offline_client())

    @bot.on_message()
    async def handler(ctx: Context) -> None:
        pass

    return bot


@pytest.fixture(name="server")
async def _server(bot) -> AsyncIterator[tuple[str, int]]:
    """An aiohttp app that allows 200 MiB bodies, the bot at /hook: host, port."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    app = web.Application(client_max_size=200 * MIB)
    app.router.add_route("*", "/hook", bot.aiohttp_handler)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server.host, server.port


class TestBodyCap:
    async def test_declared_length_refused_before_reading(self, server):
        """Content-Length of 100 MiB with a few bytes sent: 413 at once (the
        handler does not wait for a body it would refuse)."""
        reader, writer = await asyncio.open_connection(*server)
        writer.write(
            b"POST /hook HTTP/1.1\r\nHost: bot\r\nContent-Length: 104857600\r\n\r\n"
            + b"x" * 1000
        )
        await writer.drain()
        with anyio.fail_after(5):
            status = await reader.readline()
        writer.close()
        assert status.startswith(b"HTTP/1.1 413")

    async def test_chunked_body_refused_past_the_cap(self, server):
        """A chunked body of 8 MiB is refused with 413 once it passes 1 MiB."""
        import aiohttp

        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(128):
                sent += 64 * 1024
                yield b" " * (64 * 1024)

        host, port = server
        with anyio.fail_after(10):
            async with (
                aiohttp.ClientSession() as http,
                http.post(f"http://{host}:{port}/hook", data=chunks()) as response,
            ):
                status = response.status
        assert status == 413

    async def test_a_lower_cap_on_both_adapters(self):
        """Bot(max_body=...) caps both adapters; above 1 MiB it is refused."""
        from aiohttp.test_utils import make_mocked_request

        small = new_bot(offline_client(), max_body=100)
        body = delivery("hi", id=1)
        assert len(body) > 100
        signature = webhooks.sign(body, TOKEN)
        request = make_mocked_request(
            "POST",
            "/hook",
            headers={
                "Content-Length": str(len(body)),
                webhooks.SIGNATURE_HEADER: signature,
            },
        )
        assert (await small.aiohttp_handler(request)).status == 413
        import httpx

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=small.asgi), base_url="http://b"
        ) as http:
            response = await http.post(
                "/", content=body, headers={webhooks.SIGNATURE_HEADER: signature}
            )
        assert response.status_code == 413
        with pytest.raises(ValueError, match="max_body"):
            new_bot(offline_client(), max_body=webhooks.MAX_BODY + 1)

    async def test_signed_delivery_within_the_cap(self, bot, server):
        """A signed delivery still gets 200, and GET gets 405."""
        import aiohttp

        body = delivery("hi", id=1)
        host, port = server
        with anyio.fail_after(10):
            async with aiohttp.ClientSession() as http:
                ok = await http.post(
                    f"http://{host}:{port}/hook",
                    data=body,
                    headers={webhooks.SIGNATURE_HEADER: webhooks.sign(body, TOKEN)},
                )
                get = await http.get(f"http://{host}:{port}/hook")
            await bot.join()
        assert (ok.status, get.status) == (200, 405)
