"""compare_dialects: a reader per room, or one it finds; why a room is unreadable."""

from __future__ import annotations

import pytest

from aioqiscus import InvalidArgumentError
from aioqiscus.migration import compare_dialects
from aioqiscus.testing import FakeQiscus

from ._migration_app import ALICE, BOB, CAROL, client


@pytest.fixture(name="fake")
def _fake():
    """Two rooms no single user is in: Alice and Bob's, Carol and Bob's."""
    fake = FakeQiscus()
    for user in (ALICE, BOB, CAROL):
        fake.add_user(user)
    fake.store.create_room("AB", "group", ALICE, [BOB])
    fake.store.create_room("CB", "group", CAROL, [BOB])
    fake.store.create_room("C", "group", CAROL, [])
    return fake


async def compare(fake, **kwargs):
    async with client(fake, "v2") as old, client(fake, "v2.1") as new:
        return await compare_dialects(old, new, room_ids=["1001", "1002"], **kwargs)


async def test_finds_a_participant_per_room(fake):
    """Without as_user, each room is read as one of its own participants."""
    report = await compare(fake)
    assert report.ok, str(report)
    assert report.checked == 2


async def test_reader_per_room(fake):
    """A mapping gives each room its reader; one call compares both rooms."""
    report = await compare(fake, as_user={"1001": ALICE, "1002": CAROL})
    assert report.ok, str(report)


async def test_says_why_a_room_is_unreadable(fake):
    """A reader who is not a participant: the room is missing, with the reason."""
    report = await compare(fake, as_user=ALICE)
    assert report.missing == (("room", "1002", "v2"),)
    why = report.reasons[("room", "1002", "v2")]
    assert "read as alice@example.com answered no room 1002" in why
    assert f"room 1002: unreadable through v2: {why}" in str(report)


async def test_unknown_room_names_both_reasons(fake):
    """A room neither dialect knows: v2.1's error, and why v2 had no reader."""
    async with client(fake, "v2") as old, client(fake, "v2.1") as new:
        report = await compare_dialects(old, new, room_ids=["9999"])
    assert sorted(report.missing) == [("room", "9999", "v2"), ("room", "9999", "v2.1")]
    assert report.reasons[("room", "9999", "v2.1")].startswith("NotFoundError: 404")
    assert "v2.1 could not list one" in report.reasons[("room", "9999", "v2")]


async def test_as_user_of_another_type_is_refused(fake):
    """as_user must be a user id or a mapping."""
    with pytest.raises(InvalidArgumentError, match="as_user"):
        await compare(fake, as_user=42)
