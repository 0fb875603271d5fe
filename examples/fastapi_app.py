"""A FastAPI app: a lifespan-managed client, room endpoints and the shop bot.

    uvicorn --factory examples.fastapi_app:create_app   # from the repository root

Settings come from the environment: ``QISCUS_APP_ID``, ``QISCUS_SECRET_KEY``,
``QISCUS_BASE_URL`` (optional) and ``QISCUS_WEBHOOK_TOKEN`` (the signature
token from the dashboard). Set the dashboard's webhook URL to
``https://<your host>/qiscus/webhook``: the bot of
``examples/bot_buttons_and_cards.py`` is mounted at ``/qiscus``. Tests call
:func:`create_app` with a client wired to the fake server.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

from aioqiscus import NotFoundError, QiscusClient
from examples.bot_buttons_and_cards import build_bot


class NewRoom(BaseModel):
    name: str
    creator: str
    participants: list[str]


def create_app(
    client: QiscusClient | None = None, webhook_token: str | None = None
) -> FastAPI:
    """Build the app; without *client* and *webhook_token*, from the environment."""
    qiscus = client or QiscusClient(
        os.environ["QISCUS_APP_ID"],
        os.environ["QISCUS_SECRET_KEY"],
        base_url=os.environ.get("QISCUS_BASE_URL"),
    )
    bot = build_bot(qiscus, webhook_token or os.environ["QISCUS_WEBHOOK_TOKEN"])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with qiscus:
            await qiscus.negotiate()  # fail fast on bad credentials
            yield
            # Mounted apps get no lifespan events: drain the bot here, so
            # every delivery it accepted is handled before the client closes
            # (new ones get 503 + Retry-After and reach another worker).
            await bot.aclose(timeout=25)

    app = FastAPI(lifespan=lifespan)
    app.state.qiscus = qiscus
    app.state.bot = bot
    app.mount("/qiscus", bot.asgi)  # POST /qiscus/webhook

    @app.post("/rooms")
    async def create_room(room: NewRoom, request: Request) -> dict[str, object]:
        qiscus: QiscusClient = request.app.state.qiscus
        try:
            created = await qiscus.create_room(
                room.name, room.participants, room.creator
            )
        except NotFoundError as exc:
            raise HTTPException(404, exc.message) from exc
        return {"id": created.id, "name": created.name, "type": created.type.value}

    @app.get("/users/{user_id}/rooms")
    async def user_rooms(user_id: str, request: Request) -> list[dict[str, str]]:
        qiscus: QiscusClient = request.app.state.qiscus
        return [
            {"id": room.id, "name": room.name}
            # Rooms without messages too: servers leave them out by default.
            async for room in qiscus.iter_user_rooms(user_id, show_empty=True)
        ]

    return app
