"""A realistic app to copy: users, a group with options, a 1:1, typed comments."""

from __future__ import annotations

from typing import Any

from aioqiscus import QiscusClient
from aioqiscus.payloads import Button, Card, Reply
from aioqiscus.testing import FakeQiscus

from .helpers import in_process

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


def app_pair() -> tuple[FakeQiscus, FakeQiscus]:
    """A source and a target fake, each serving both dialects.

    Their exports and imports are finished when first polled, so tests do
    not wait.
    """
    source, target = FakeQiscus(app_id="app-source"), FakeQiscus(app_id="app-target")
    for fake in (source, target):
        fake.export_steps = [("finished", 100)]
        fake.import_steps = [("finished", 100)]
    return source, target


def client(fake: FakeQiscus, api_version: str, **options: Any) -> QiscusClient:
    """An in-process client of *fake* without retry delays."""
    return in_process(fake, api_version, reconcile_delay=0, **options)


async def seed(fake: FakeQiscus, comments: int = 6) -> dict[str, Any]:
    """Fill *fake* through its v2.1 API; returns the ids made."""
    async with client(fake, "v2.1") as c:
        await c.login_or_register(
            ALICE, "Alice", avatar_url="https://a.example/a.png", extras={"vip": True}
        )
        await c.login_or_register(BOB, "Bob")
        await c.login_or_register(CAROL, "Carol")
        group = await c.create_room(
            "Support",
            [ALICE, BOB, CAROL],
            ALICE,
            avatar_url="https://a.example/room.png",
            options={"topic": "orders"},
        )
        direct = await c.get_or_create_room_with_target([ALICE, BOB])
        first = await c.post_text(group.id, ALICE, "hello", extras={"lang": "en"})
        await c.post_comment(
            group.id,
            BOB,
            payload=Reply("hi back", first.id or 0),
        )
        await c.post_buttons(
            group.id,
            ALICE,
            "pick one",
            [
                Button.postback("Yes", "https://b.example/yes", payload={"a": 1}),
                Button.link("Docs", "https://b.example/docs"),
            ],
        )
        await c.post_card(
            group.id,
            CAROL,
            Card(
                "Order 7",
                "details",
                "two items",
                image_url="https://b.example/i.png",
                url="https://b.example/o/7",
                buttons=(Button.link("Open", "https://b.example/o/7"),),
            ),
        )
        for i in range(comments):
            await c.post_text(direct.id, [ALICE, BOB][i % 2], f"line {i}")
    return {"group": group.id, "direct": direct.id}


def snapshot(fake: FakeQiscus) -> dict[str, Any]:
    """What the target holds, in comparable form (no ids, no times)."""
    return {
        "users": sorted(
            (u.identifier, u.name, u.avatar_url) for u in fake.store.users.values()
        ),
        "rooms": sorted(
            (r.name, r.type, tuple(sorted(r.participants)), r.options)
            for r in fake.store.rooms.values()
        ),
        "comments": sorted(
            (c.sender, c.type, c.message, c.unique_temp_id)
            for r in fake.store.rooms.values()
            for c in r.comments
        ),
    }
