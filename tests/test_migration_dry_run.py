"""copy_app(dry_run=True): reads both sides, writes nothing, lists conflicts."""

from __future__ import annotations

import pytest

from aioqiscus.migration import copy_app

from ._migration_app import ALICE, app_pair, client, seed

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
