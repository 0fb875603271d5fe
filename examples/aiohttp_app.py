"""An aiohttp web app whose Qiscus client shares the app's ClientSession.

    python examples/aiohttp_app.py      # serves on 127.0.0.1:8081

The client uses :class:`aioqiscus.backends.AiohttpBackend` on the app's own
session, so connections are pooled once for everything the app calls.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from aioqiscus import QiscusClient
from aioqiscus.backends import AiohttpBackend

CLIENT = web.AppKey("qiscus", QiscusClient)
SESSION = web.AppKey("session", aiohttp.ClientSession)


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


def create_app(
    app_id: str, secret_key: str, base_url: str | None = None
) -> web.Application:
    """The app; the Qiscus client lives as long as the app's session."""

    async def qiscus_context(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[SESSION] = session
            client = QiscusClient(
                app_id, secret_key, base_url=base_url, backend=AiohttpBackend(session)
            )
            async with client:
                app[CLIENT] = client
                yield

    app = web.Application()
    app.cleanup_ctx.append(qiscus_context)
    app.router.add_get("/users/{user_id}/rooms", rooms_of)
    app.router.add_post("/say", say)
    return app


if __name__ == "__main__":
    web.run_app(
        create_app(
            os.environ["QISCUS_APP_ID"],
            os.environ["QISCUS_SECRET_KEY"],
            os.environ.get("QISCUS_BASE_URL"),
        ),
        host="127.0.0.1",
        port=8081,
    )
