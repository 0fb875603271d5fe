"""An aiohttp web app whose Qiscus client shares the app's ClientSession.

    python -m examples.aiohttp_app      # serves on 127.0.0.1:8081

Settings come from the environment: ``QISCUS_APP_ID``, ``QISCUS_SECRET_KEY``,
``QISCUS_BASE_URL`` (optional) and ``QISCUS_WEBHOOK_TOKEN``. The client uses
:class:`aioqiscus.backends.AiohttpBackend` on the app's own session, so
connections are pooled once for everything the app calls, and the bot of
``examples/bot_buttons_and_cards.py`` answers deliveries at
``POST /qiscus/webhook``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from aioqiscus import QiscusClient
from aioqiscus.backends import AiohttpBackend
from aioqiscus.bot import Bot
from examples.bot_buttons_and_cards import build_bot

CLIENT = web.AppKey("qiscus", QiscusClient)
SESSION = web.AppKey("session", aiohttp.ClientSession)
BOT = web.AppKey("bot", Bot)


async def rooms_of(request: web.Request) -> web.Response:
    qiscus = request.app[CLIENT]
    user = request.match_info["user_id"]
    rooms = [
        {"id": room.id, "name": room.name, "type": room.type.value}
        # Rooms without messages too: servers leave them out by default.
        async for room in qiscus.iter_user_rooms(user, show_empty=True)
    ]
    return web.json_response(rooms)


async def say(request: web.Request) -> web.Response:
    qiscus = request.app[CLIENT]
    data = await request.json()
    comment = await qiscus.post_text(data["room_id"], data["sender"], data["text"])
    return web.json_response({"id": comment.id, "room_id": comment.room_id})


async def webhook(request: web.Request) -> web.StreamResponse:
    # The bot is built with the client, which lives in the app's context.
    return await request.app[BOT].aiohttp_handler(request)


def create_app(
    app_id: str, secret_key: str, webhook_token: str, base_url: str | None = None
) -> web.Application:
    """The app; the Qiscus client and the bot live as long as its session."""

    async def qiscus_context(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[SESSION] = session
            client = QiscusClient(
                app_id, secret_key, base_url=base_url, backend=AiohttpBackend(session)
            )
            async with client:
                app[CLIENT] = client
                app[BOT] = build_bot(client, webhook_token)
                yield
                # Drain: finish what was accepted before the client closes.
                await app[BOT].aclose(timeout=25)

    app = web.Application()
    app.cleanup_ctx.append(qiscus_context)
    app.router.add_get("/users/{user_id}/rooms", rooms_of)
    app.router.add_post("/say", say)
    app.router.add_post("/qiscus/webhook", webhook)
    return app


if __name__ == "__main__":
    web.run_app(
        create_app(
            os.environ["QISCUS_APP_ID"],
            os.environ["QISCUS_SECRET_KEY"],
            os.environ["QISCUS_WEBHOOK_TOKEN"],
            os.environ.get("QISCUS_BASE_URL"),
        ),
        host="127.0.0.1",
        port=8081,
    )
