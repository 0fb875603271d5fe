"""copy_app(dry_run=True): reads both sides, writes nothing, lists conflicts."""

from __future__ import annotations

import sqlite3

import anyio
import pytest

from aioqiscus.migration import copy_app
from aioqiscus.migration._plan import marker
from aioqiscus.models import RoomType

from ._migration_app import ALICE, BOB, CAROL, app_pair, client, seed

WRITES = {
    "login_or_register",
    "create_room",
    "get_or_create_room_with_target",
    "post_comment",
    "imports",
}


async def dry_run(source, target, path, src="v2.1", dst="v2.1"):
    async with client(source, src) as s, client(target, dst) as t:
        return await copy_app(s, t, path, dry_run=True, users=[ALICE])


async def test_plans_everything_and_writes_nothing(tmp_path):
    """Counts say what would be written; no write request; no checkpoint file."""
    source, target = app_pair()
    await seed(source)
    report = await dry_run(source, target, tmp_path / "m.sqlite")
    assert report.dry_run
    assert [report.counts[k].written for k in ("user", "room", "comment")] == [
        3,
        2,
        10,
    ]
    assert [e.endpoint for e in target.journal if e.endpoint in WRITES] == []
    assert not (tmp_path / "m.sqlite").exists()
    assert report.ok


async def test_reports_a_user_already_there_with_other_content(tmp_path):
    """A target user of the same id and another name is a conflict."""
    source, target = app_pair()
    await seed(source)
    target.add_user(ALICE, "Someone Else")
    report = await dry_run(source, target, tmp_path / "m.sqlite")
    [conflict] = [c for c in report.conflicts if c.field == "name"]
    assert (conflict.kind, conflict.id, conflict.source, conflict.target) == (
        "user",
        ALICE,
        "Alice",
        "Someone Else",
    )
    assert report.counts["user"].already == 1
    assert not report.ok
    assert "conflicts:" in report.summary()


@pytest.mark.parametrize("dst", ["v2", "v2.1"])
async def test_reports_ids_the_target_dialect_cannot_hold(tmp_path, dst):
    """v2 names users by email: a v2.1 user id that is not one is a conflict."""
    source, target = app_pair()
    async with client(source, "v2.1") as s:
        await s.login_or_register("dave-42", "Dave")
    report = await dry_run(source, target, tmp_path / "m.sqlite", dst=dst)
    ids = [(c.kind, c.id, c.field) for c in report.conflicts]
    assert ids == ([("user", "dave-42", "id")] if dst == "v2" else [])


def target_room(path, room_key):
    """The target room id the checkpoint at *path* maps *room_key* to."""
    with sqlite3.connect(path) as db:
        (found,) = db.execute(
            "SELECT target_id FROM objects WHERE kind='room' AND source_id=?",
            (room_key,),
        ).fetchone()
    return found


async def first_comment(fake, room_id, text):
    """The comment of *room_id* whose message is *text*, read through v2.1."""
    async with client(fake, "v2.1") as c:
        [found] = [m async for m in c.iter_comments(room_id) if m.message == text]
    return found


class TestWhatTheTargetHolds:
    @pytest.mark.parametrize("dst", ["v2", "v2.1"])
    async def test_reports_checkpointed_objects_changed_on_the_target(
        self, tmp_path, dst
    ):
        """A user renamed and a room renamed after a copy are conflicts."""
        source, target = app_pair()
        ids = await seed(source)
        path = tmp_path / "m.sqlite"
        async with client(source, "v2.1") as s, client(target, dst) as t:
            with anyio.fail_after(30):
                await copy_app(s, t, path, users=[ALICE])
            room = target_room(path, ids["group"])
            await t.login_or_register(BOB, "Robert")
            await t.update_room(room, name="Renamed", as_user=ALICE)
        start = len(target.journal)
        with anyio.fail_after(30):
            report = await dry_run(source, target, path, dst=dst)
        found = {(c.kind, c.id, c.field, c.source, c.target) for c in report.conflicts}
        assert found == {
            ("user", BOB, "name", "Bob", "Robert"),
            ("room", ids["group"], "name", "Support", "Renamed"),
        }
        assert [report.counts[k].already for k in ("user", "room", "comment")] == [
            3,
            2,
            10,
        ]
        assert [report.counts[k].written for k in ("user", "room", "comment")] == [
            0,
            0,
            0,
        ]
        dry = [e.endpoint for e in target.journal[start:]]
        assert [e for e in dry if e in WRITES] == []
        # One read of each copied room's info and history, not one per comment.
        assert dry.count("get_rooms_info") == 2
        assert dry.count("load_comments") == 2

    @pytest.mark.parametrize("dst", ["v2", "v2.1"])
    async def test_reports_a_found_room_and_a_marked_comment_that_differ(
        self, tmp_path, dst
    ):
        """Without a checkpoint, the room found by shape and the comment
        found by its marker are compared with the source's."""
        source, target = app_pair()
        ids = await seed(source)
        hello = await first_comment(source, ids["group"], "hello")
        async with client(target, "v2.1") as t:
            await t.login_or_register(
                ALICE,
                "Alice",
                avatar_url="https://a.example/a.png",
                extras={"vip": True},
            )
            await t.login_or_register(BOB, "Bob")
            await t.login_or_register(CAROL, "Carol")
            room = await t.create_room(
                "Support",
                [ALICE, BOB, CAROL],
                ALICE,
                avatar_url="https://a.example/other.png",
                options={"topic": "orders"},
            )
            await t.post_comment(
                room.id,
                ALICE,
                "hello, edited",
                extras={"lang": "en"},
                unique_temp_id=marker(ids["group"], hello),
            )
        with anyio.fail_after(30):
            report = await dry_run(source, target, tmp_path / "m.sqlite", dst=dst)
        key = f"{ids['group']}/{hello.id}"
        found = [(c.kind, c.id, c.field, c.source, c.target) for c in report.conflicts]
        assert found == [
            (
                "room",
                ids["group"],
                "avatar_url",
                "https://a.example/room.png",
                "https://a.example/other.png",
            ),
            ("comment", key, "message", "hello", "hello, edited"),
        ]
        assert report.counts["room"].already == 1
        assert report.counts["comment"].already == 1
        assert report.counts["comment"].written == 9
        assert not (tmp_path / "m.sqlite").exists()

    async def test_reports_a_channel_id_the_target_already_uses(self, tmp_path):
        """A v2.1 target channel of the same unique id and other content is
        a conflict: creating it would return that channel as it is."""
        source, target = app_pair()
        async with client(source, "v2.1") as s, client(target, "v2.1") as t:
            for c in (s, t):
                for user in (ALICE, BOB, CAROL):
                    await c.login_or_register(user, user.split("@")[0])
            channel = await s.get_or_create_channel("news", [ALICE, BOB], name="News")
            await t.get_or_create_channel("news", [CAROL], name="Old news")
        # A source room read as a channel (RoomType.CHANNEL) is recreated
        # with get_or_create_channel under its unique id.
        for room in source.store.rooms.values():
            room.type = "channel"
        with anyio.fail_after(30):
            report = await dry_run(source, target, tmp_path / "m.sqlite")
        found = [(c.kind, c.id, c.field, c.source, c.target) for c in report.conflicts]
        assert found == [
            ("room", channel.id, "type", RoomType.CHANNEL, RoomType.GROUP),
            ("room", channel.id, "participants", [ALICE, BOB], [CAROL]),
            ("room", channel.id, "name", "News", "Old news"),
        ]
        assert report.counts["room"].already == 1
        assert report.counts["room"].written == 0
