"""Tier 3: room operations against the fake server, every dialect mode, in
process and over loopback HTTP, with one set of assertions."""

from __future__ import annotations

import pytest

from aioqiscus import (
    Dialect,
    NotFoundError,
    RoomType,
    UnsupportedOperationError,
)
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BOB, CAROL, DAVE


def probes(fake: FakeQiscus) -> int:
    """The dialect probes the fake answered (v2.1 profile reads and v2's)."""
    return len([e for e in fake.journal if e.endpoint == "user_profile"])


def expected_probes(dialect: Dialect) -> int:
    """One probe for v2.1; for v2, the bare 404 is asked twice, then v2 once."""
    return 1 if dialect is Dialect.V2_1 else 3


class TestRoomSuite:
    async def test_create_and_read_back(self, env):
        """A created group reads back with the same name, type and options."""
        fake, client, dialect = env
        room = await client.create_room(
            "Support", [BOB, CAROL], ALICE, options={"color": "blue", "n": 1}
        )
        assert client.dialect is dialect
        assert room.name == "Support"
        assert room.type is RoomType.GROUP
        assert room.id == str(fake.room(room.id).id)
        [info] = await client.get_rooms_info([room.id], as_user=ALICE)
        assert info.id == room.id
        assert info.name == "Support"
        assert info.type is RoomType.GROUP
        assert probes(fake) == expected_probes(dialect)

    async def test_options_round_trip(self, env):
        """Options set by update_room come back as the same mapping."""
        fake, client, _ = env
        room = await client.create_room("Team", [BOB], ALICE)
        updated = await client.update_room(
            room.id,
            name="Team 2",
            options={"color": "red", "pinned": True},
            as_user=ALICE,
        )
        assert updated.name == "Team 2"
        assert updated.options == {"color": "red", "pinned": True}
        assert fake.room(room.id).name == "Team 2"

    async def test_target_room_is_stable(self, env):
        """get_or_create_room_with_target returns the same single room twice."""
        _, client, _ = env
        first = await client.get_or_create_room_with_target([ALICE, BOB])
        again = await client.get_or_create_room_with_target([BOB, ALICE])
        assert first.id == again.id
        assert first.type is RoomType.SINGLE

    async def test_participants_change(self, env):
        """add/remove return the affected users and the listing follows."""
        _, client, _ = env
        room = await client.create_room("Ops", [BOB], ALICE)
        added = await client.add_participants(room.id, [CAROL, DAVE])
        assert sorted(u.id for u in added) == [CAROL, DAVE]
        removed = await client.remove_participants(room.id, [BOB])
        assert [u.id for u in removed] == [BOB]
        members = [
            u.id
            async for u in client.iter_participants(room.id, page_size=2, as_user=ALICE)
        ]
        assert sorted(members) == sorted([ALICE, CAROL, DAVE])

    async def test_user_rooms_paginate(self, env):
        """44 rooms with messages come back once each, over pages, with a total."""
        fake, client, dialect = env
        for i in range(45):
            room = fake.store.create_room(f"room {i}", "group", ALICE, [BOB])
            if i:
                fake.add_comment(room.id, BOB, "hi")
        listing = client.iter_user_rooms(ALICE, page_size=20)
        assert listing.total is None
        rooms = [r async for r in listing]
        assert len(rooms) == 44
        assert len({r.id for r in rooms}) == 44
        assert (listing.total, listing.pages) == (44, 3)
        pages = [e for e in fake.journal if e.endpoint == "get_user_rooms"]
        assert len(pages) == 3
        assert {e.dialect for e in pages} == {dialect.value}

    async def test_user_rooms_without_messages_on_demand(self, env):
        """Rooms without messages are left out unless show_empty asks for them."""
        fake, client, _ = env
        quiet = await client.create_room("Quiet", [BOB], ALICE)
        busy = await client.create_room("Busy", [BOB], ALICE)
        fake.add_comment(busy.id, BOB, "hi")
        listed = [r.id async for r in client.iter_user_rooms(ALICE)]
        everything = client.iter_user_rooms(ALICE, show_empty=True)
        assert listed == [busy.id]
        assert [r.id async for r in everything] == [quiet.id, busy.id]
        assert everything.total == 2
        first, last = fake.requests("get_user_rooms")
        assert [k for k, _ in first.query if k == "show_empty"] == []
        assert ("show_empty", "true") in last.query

    async def test_user_rooms_filter_by_type(self, env):
        """room_type filters the listing."""
        _, client, _ = env
        await client.create_room("G", [BOB], ALICE)
        await client.get_or_create_room_with_target([ALICE, BOB])
        singles = [
            r
            async for r in client.iter_user_rooms(
                ALICE, room_type=RoomType.SINGLE, show_empty=True
            )
        ]
        assert [r.type for r in singles] == [RoomType.SINGLE]

    async def test_unread_counts(self, env):
        """Comments by others count as unread."""
        fake, client, _ = env
        room = await client.create_room("Chat", [BOB], ALICE)
        other = await client.create_room("Quiet", [BOB], ALICE)
        for text in ("hi", "there", "again"):
            fake.add_comment(room.id, BOB, text)
        fake.add_comment(other.id, ALICE, "mine")
        counts = await client.get_unread_counts(ALICE, [room.id, other.id])
        assert counts == {room.id: 3, other.id: 0}

    async def test_channel(self, env):
        """Channels work where v2.1 is served and are refused on v2 servers."""
        fake, client, dialect = env
        if dialect is Dialect.V2:
            with pytest.raises(UnsupportedOperationError):
                await client.get_or_create_channel("news", [ALICE])
            assert not fake.requests("get_or_create_channel")
            return
        room = await client.get_or_create_channel("news", [ALICE], name="News")
        again = await client.get_or_create_channel("news", [BOB])
        assert room.channel_id == "news"
        assert again.id == room.id
        assert sorted(fake.room(room.id).participants) == [ALICE, BOB]

    async def test_unknown_user_is_not_found(self, env):
        """An unknown participant is a NotFoundError with the server's message."""
        _, client, _ = env
        with pytest.raises(NotFoundError) as info:
            await client.create_room("X", ["nobody@example.com"], ALICE)
        assert "not found" in info.value.message.lower()

    async def test_one_probe_for_the_whole_session(self, env):
        """Many operations, one negotiation (three probes on a v2-only server)."""
        fake, client, dialect = env
        room = await client.create_room("A", [BOB], ALICE)
        await client.get_rooms_info([room.id], as_user=ALICE)
        await client.add_participants(room.id, [CAROL])
        assert probes(fake) == expected_probes(dialect)
        calls = [e for e in fake.journal if e.endpoint != "user_profile"]
        assert {e.dialect for e in calls} == {dialect.value}
