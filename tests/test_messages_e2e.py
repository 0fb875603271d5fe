"""Tier 3: messages against the fake server, every dialect mode, in process
and over loopback HTTP, with one set of assertions."""

from __future__ import annotations

import pytest

import aioqiscus._negotiate
from aioqiscus import (
    Button,
    Buttons,
    Card,
    Dialect,
    InvalidArgumentError,
    NotFoundError,
    Operation,
    SystemEvent,
    SystemEventType,
    UnsupportedOperationError,
)

from .conftest import ALICE, BOB, CAROL

SHOP_CARD = Card(
    title="Atasan Blouse Tunik",
    text="Special deal buat sista nih..",
    description="Rp 49.000",
    image_url="https://img.example.com/blouse.jpg",
    url="https://shop.example.com/blouse?id=123",
    buttons=(
        Button.postback(
            "Buy", "https://shop.example.com/buy", method="post", payload={"sku": "B-1"}
        ),
        Button.link("Details", "https://shop.example.com/blouse"),
    ),
)
MENU = [
    Button.postback("Order status", "https://bot.example.com/status"),
    Button.link("Help", "https://bot.example.com/help"),
]


class TestBot:
    async def test_buttons_and_card_read_back_typed(self, env):
        """A bot posts text, buttons and a card and reads them back typed."""
        fake, client, _ = env
        room = await client.get_or_create_room_with_target([ALICE, BOB])
        text = await client.post_text(room.id, BOB, "Hello Alice!")
        menu = await client.post_buttons(room.id, BOB, "What do you need?", MENU)
        card = await client.post_card(room.id, BOB, SHOP_CARD)
        assert menu.payload == Buttons("What do you need?", tuple(MENU))
        assert card.payload == SHOP_CARD
        assert card.room_id == room.id
        assert card.sender.id == BOB

        history = [c async for c in client.iter_comments(room.id)]
        assert [c.type for c in history] == ["card", "buttons", "text"]
        assert history[0].payload == SHOP_CARD
        assert history[1].payload == Buttons("What do you need?", tuple(MENU))
        assert history[2].message == "Hello Alice!"
        assert [c.id for c in history] == [card.id, menu.id, text.id]
        assert {c.room_id for c in history} == {room.id}
        assert len(fake.room(room.id).comments) == 3

    async def test_unique_temp_id_round_trips(self, env):
        """The send marker comes back on the comment in both dialects."""
        _, client, _ = env
        room = await client.create_room("G", [BOB], ALICE)
        comment = await client.post_text(room.id, ALICE, "hi", unique_temp_id="my-1")
        assert comment.unique_temp_id == "my-1"
        [read] = [c async for c in client.iter_comments(room.id)]
        assert read.unique_temp_id == "my-1"
        assert await client.find_comment(room.id, "my-1") == read

    async def test_extras_kept(self, env):
        """The user's extras come back intact, without our marker."""
        _, client, _ = env
        room = await client.create_room("G", [BOB], ALICE)
        sent = await client.post_text(room.id, ALICE, "hi", extras={"source": "bot"})
        assert sent.extras == {"source": "bot"}


class TestHistory:
    async def test_newest_first_and_terminates(self, env):
        """45 comments come back newest first, once each, in 3 pages."""
        fake, client, _ = env
        room = await client.create_room("Busy", [BOB], ALICE)
        ids = [fake.add_comment(room.id, BOB, f"message {i}") for i in range(45)]
        history = [c async for c in client.iter_comments(room.id, page_size=20)]
        assert [c.id for c in history] == ids[::-1]
        assert history[0].message == "message 44"
        assert len(fake.requests("load_comments")) == 3

    async def test_new_comments_during_iteration_not_repeated(self, env):
        """Comments arriving mid-iteration shift pages but are not yielded twice."""
        fake, client, _ = env
        room = await client.create_room("Live", [BOB], ALICE)
        ids = [fake.add_comment(room.id, BOB, f"m{i}") for i in range(10)]
        seen = []
        async for comment in client.iter_comments(room.id, page_size=4):
            seen.append(comment.id)
            if len(seen) == 2:
                fake.add_comment(room.id, BOB, "late")
        assert seen == ids[::-1]

    async def test_empty_room(self, env):
        """A room without comments yields nothing after one request."""
        fake, client, _ = env
        room = await client.create_room("Quiet", [BOB], ALICE)
        assert [c async for c in client.iter_comments(room.id)] == []
        assert len(fake.requests("load_comments")) == 1

    async def test_unknown_room(self, env):
        """History of an unknown room is a NotFoundError."""
        _, client, _ = env
        with pytest.raises(NotFoundError):
            [c async for c in client.iter_comments("999999")]


class TestSystemEvents:
    async def test_add_member(self, env):
        """An add_member event names its subject and object in both dialects."""
        _, client, _ = env
        room = await client.create_room("Team", [BOB], ALICE)
        comment = await client.post_system_event(
            room.id, SystemEventType.ADD_MEMBER, subject=ALICE, objects=[CAROL]
        )
        assert comment.type == "system_event"
        assert comment.message == "Alice added Carol"
        assert comment.payload == SystemEvent(
            SystemEventType.ADD_MEMBER,
            subject_id=ALICE,
            subject_name="Alice",
            object_ids=(CAROL,),
            object_names=("Carol",),
            room_name="Team",
        )

    async def test_rename(self, env):
        """change_room_name renames the room."""
        fake, client, _ = env
        room = await client.create_room("Old", [BOB], ALICE)
        await client.post_system_event(
            room.id, "change_room_name", subject=ALICE, room_name="New"
        )
        assert fake.room(room.id).name == "New"

    async def test_custom(self, env):
        """A custom event carries the application's payload."""
        _, client, _ = env
        room = await client.create_room("Team", [BOB], ALICE)
        comment = await client.post_system_event(
            room.id,
            SystemEventType.CUSTOM,
            message="Admin is being set!",
            payload={"type": "add_admin", "admin": BOB},
        )
        assert comment.message == "Admin is being set!"
        assert comment.payload.event is SystemEventType.CUSTOM
        assert comment.payload.payload == {"type": "add_admin", "admin": BOB}


class TestSearch:
    async def test_search_where_v2_is_served(self, env, monkeypatch):
        """Search works wherever v2 is served, and is refused where it is not."""
        fake, client, _ = env
        room = await client.create_room("Support", [BOB], ALICE)
        await client.post_text(room.id, BOB, "Need support integration")
        await client.post_text(room.id, BOB, "unrelated")
        if "v2" not in fake.dialects:
            # One bare 404 proves nothing (a proxy may answer one by
            # accident); a second, however soon here, does.
            monkeypatch.setattr(aioqiscus._negotiate, "EVIDENCE_SECONDS", 0.0)
            with pytest.raises(NotFoundError):
                await client.search_messages("support", user_id=ALICE)
            with pytest.raises(UnsupportedOperationError, match="does not serve v2"):
                await client.search_messages("support", user_id=ALICE)
            report = client.negotiation_report()
            assert report.route(Operation.SEARCH_MESSAGES).dialect is None
            # known now: the next call is refused without a request
            before = len(fake.journal)
            with pytest.raises(UnsupportedOperationError):
                await client.search_messages("support", user_id=ALICE)
            assert len(fake.journal) == before
            return
        found = await client.search_messages("SUPPORT", user_id=ALICE)
        assert [c.message for c in found] == ["Need support integration"]
        assert found[0].room_id == room.id
        assert (
            client.negotiation_report().route(Operation.SEARCH_MESSAGES).dialect
            is Dialect.V2
        )


class TestServerValidation:
    async def test_unknown_sender(self, env):
        """An unknown sender is a NotFoundError from the server."""
        _, client, _ = env
        room = await client.create_room("G", [BOB], ALICE)
        with pytest.raises(NotFoundError):
            await client.post_text(room.id, "ghost@example.com", "boo")

    async def test_client_validates_first(self, env):
        """Invalid payloads never reach the server."""
        fake, client, _ = env
        room = await client.create_room("G", [BOB], ALICE)
        before = len(fake.journal)
        with pytest.raises(InvalidArgumentError):
            await client.post_buttons(room.id, ALICE, "x", [])
        assert len(fake.journal) == before
