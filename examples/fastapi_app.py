"""A FastAPI app: a lifespan-managed client, room endpoints and a webhook.

    uvicorn examples.fastapi_app:app

Settings come from the environment: ``QISCUS_APP_ID``, ``QISCUS_SECRET_KEY``,
``QISCUS_BASE_URL`` (optional) and ``QISCUS_WEBHOOK_TOKEN`` (the signature
token from the dashboard). Tests call :func:`create_app` with a client
wired to the fake server.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

from aioqiscus import Button, NotFoundError, QiscusClient, QiscusError, webhooks


class NewRoom(BaseModel):
    name: str
    creator: str
    participants: list[str]


def create_app(
    client: QiscusClient | None = None, webhook_token: str | None = None
) -> FastAPI:
    """Build the app; without *client*, one is made from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        qiscus = client or QiscusClient(
            os.environ["QISCUS_APP_ID"],
            os.environ["QISCUS_SECRET_KEY"],
            base_url=os.environ.get("QISCUS_BASE_URL"),
        )
        async with qiscus:
            await qiscus.negotiate()  # fail fast on bad credentials
            app.state.qiscus = qiscus
            yield

    app = FastAPI(lifespan=lifespan)
    token = webhook_token or os.environ.get("QISCUS_WEBHOOK_TOKEN", "")
    app.state.events = []

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

    @app.post("/qiscus/webhook")
    async def webhook(request: Request) -> dict[str, bool]:
        body = await request.body()
        signature = request.headers.get(webhooks.SIGNATURE_HEADER)
        if not webhooks.verify_signature(body, signature, token):
            raise HTTPException(401, "bad signature")
        try:
            event = webhooks.parse(body)
        except webhooks.WebhookError as exc:
            raise HTTPException(400, str(exc)) from exc
        request.app.state.events.append(event)
        qiscus: QiscusClient = request.app.state.qiscus
        if not event.from_rest_api and "help" in event.comment.message.lower():
            try:
                await qiscus.post_buttons(
                    event.room.id,
                    "helpdesk@example.com",
                    "Here to help:",
                    [Button.link("Help centre", "https://help.example.com")],
                )
            except QiscusError as exc:
                raise HTTPException(502, str(exc)) from exc
        return {"ok": True}

    return app


#: For ``uvicorn examples.fastapi_app:app``; settings are read at startup.
app = create_app()
