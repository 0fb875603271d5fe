"""copy_app: a realistic app copied in every dialect pair, resumed, reported."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import anyio
import pytest

from aioqiscus import InvalidArgumentError
from aioqiscus.migration import (
    CheckpointError,
    ImportComment,
    MigrationError,
    MigrationReport,
    copy_app,
)
from aioqiscus.migration._checkpoint import Checkpoint
from aioqiscus.testing import Fault

from ._migration_app import ALICE, app_pair, client, seed, snapshot

PAIRS = [("v2", "v2.1"), ("v2.1", "v2"), ("v2.1", "v2.1"), ("v2", "v2")]


async def run_copy(source_fake, target_fake, path, src="v2.1", dst="v2.1", **kw):
    kw.setdefault("users", [ALICE])
    async with client(source_fake, src) as s, client(target_fake, dst) as t:
        return await copy_app(s, t, path, **kw)


class TestCopy:
    @pytest.mark.parametrize(("src", "dst"), PAIRS)
    async def test_every_pair_copies_and_verifies(self, tmp_path, src, dst):
        """Users, rooms and typed comments arrive, verified field by field."""
        source, target = app_pair()
        await seed(source)
        with anyio.fail_after(30):
            report = await run_copy(source, target, tmp_path / "m.sqlite", src, dst)
        assert report.failures == ()
        assert report.differences == ()
        assert report.verified
        assert report.counts["user"].written == 3
        assert report.counts["room"].written == 2
        assert report.counts["comment"].written == 10
        want = snapshot(source)
        got = snapshot(target)
        assert got["users"] == want["users"]
        assert len(got["comments"]) == len(want["comments"])
        assert sorted(c[:3] for c in got["comments"]) == sorted(
            c[:3] for c in want["comments"]
        )

    async def test_reply_links_to_the_copied_parent(self, tmp_path):
        """A reply quotes the parent's new id on the target."""
        source, target = app_pair()
        await seed(source)
        await run_copy(source, target, tmp_path / "m.sqlite")
        group = next(r for r in target.store.rooms.values() if r.type == "group")
        hello = next(c for c in group.comments if c.message == "hello")
        reply = next(c for c in group.comments if c.type == "reply")
        assert reply.payload["replied_comment_id"] == hello.id

    async def test_group_options_and_extras_survive_v21(self, tmp_path):
        """Between v2.1 apps, room options and user and comment extras arrive."""
        source, target = app_pair()
        await seed(source)
        await run_copy(source, target, tmp_path / "m.sqlite")
        group = next(r for r in target.store.rooms.values() if r.type == "group")
        assert json.loads(group.options) == {"topic": "orders"}
        assert target.store.users[ALICE].extras == {"vip": True}
        hello = next(c for c in group.comments if c.message == "hello")
        assert hello.extras["lang"] == "en"

    async def test_rerun_after_finishing_writes_nothing(self, tmp_path):
        """A second run with the same checkpoint posts no request that writes."""
        source, target = app_pair()
        await seed(source)
        path = tmp_path / "m.sqlite"
        await run_copy(source, target, path)
        before = snapshot(target)
        writes = len(target.journal)
        report = await run_copy(source, target, path)
        assert snapshot(target) == before
        posted = [
            e.endpoint
            for e in target.journal[writes:]
            if e.endpoint
            in {"login_or_register", "create_room", "post_comment", "imports"}
        ]
        assert posted == []
        assert report.counts["comment"].already == 10
        assert report.counts["comment"].written == 0
        assert report.ok

    async def test_new_source_comments_are_copied_by_a_rerun(self, tmp_path):
        """A source that changed between runs gets only its new comments copied."""
        source, target = app_pair()
        ids = await seed(source)
        path = tmp_path / "m.sqlite"
        await run_copy(source, target, path)
        source.add_comment(ids["direct"], ALICE, "after the copy")
        report = await run_copy(source, target, path)
        assert report.counts["comment"].written == 1
        assert len(snapshot(target)["comments"]) == 11

    async def test_lost_checkpoint_still_finds_what_landed(self, tmp_path):
        """Without its checkpoint, a rerun finds everything on the target."""
        source, target = app_pair()
        await seed(source)
        await run_copy(source, target, tmp_path / "one.sqlite")
        before = snapshot(target)
        report = await run_copy(source, target, tmp_path / "two.sqlite")
        assert snapshot(target) == before
        assert [report.counts[k].already for k in ("user", "room", "comment")] == [
            3,
            2,
            10,
        ]
        assert report.ok


class TestImports:
    @pytest.mark.parametrize(("src", "dst"), PAIRS)
    async def test_texts_and_replies_keep_their_time(self, tmp_path, src, dst):
        """Imported comments keep CreatedAt; posted ones are listed as not."""
        source, target = app_pair()
        await seed(source)
        old = {}
        for room in source.store.rooms.values():
            for n, c in enumerate(room.comments):
                c.timestamp = f"2020-01-0{1 + n % 9}T10:00:0{n % 10}Z"
                old[c.message] = c.timestamp
        report = await run_copy(source, target, tmp_path / "m.sqlite", src, dst)
        assert report.ok, report.summary()
        kept = {
            c.message: c.timestamp
            for room in target.store.rooms.values()
            for c in room.comments
        }
        posted = {m for m in old if kept[m] != old[m]}
        # hello carries extras (v2.1 targets), the buttons and the card are
        # no text: those are posted; the rest is imported.
        assert posted in ({"hello", "pick one", "details"}, {"pick one", "details"})
        [stamps] = [n for n in report.not_carried if n.field == "timestamp"]
        assert len(stamps.ids) == len(posted)
        reply = next(
            c
            for r in target.store.rooms.values()
            for c in r.comments
            if c.type == "reply"
        )
        hello = next(
            c
            for r in target.store.rooms.values()
            for c in r.comments
            if c.message == "hello"
        )
        assert reply.payload["replied_comment_id"] == hello.id

    async def test_a_refused_import_is_posted_instead(self, tmp_path):
        """The target refuses the import file: its comments are posted."""
        source, target = app_pair()
        await seed(source)
        target.inject(Fault.status(400), endpoints="imports", times=1)
        report = await run_copy(source, target, tmp_path / "m.sqlite")
        assert report.ok, report.summary()
        assert report.counts["comment"].written == 10
        assert any("was refused" in note for note in report.notes)
        assert len(snapshot(target)["comments"]) == 10

    async def test_row_errors_are_reported_per_comment(self, tmp_path, monkeypatch):
        """A row the import refuses is named with the server's reasons."""
        source, target = app_pair()
        await seed(source)
        direct = next(r for r in source.store.rooms.values() if r.type == "single")
        bad = f"{direct.id}/{direct.comments[2].id}"

        real = ImportComment.to_json

        def to_json(self):
            data = real(self)
            if self.message == "line 2":
                data["CreatorEmail"] = "nobody@example.com"
            return data

        monkeypatch.setattr(ImportComment, "to_json", to_json)
        report = await run_copy(source, target, tmp_path / "m.sqlite")
        [refused] = [n for n in report.not_carried if n.field == "import"]
        assert refused.ids == (bad,)
        assert "CreatorEmail is unknown" in refused.reason
        assert report.counts["comment"].written == 10
        assert report.ok, report.summary()

    async def test_an_unconfirmed_import_is_not_posted_again(self, tmp_path):
        """An import whose answer was lost: failed now, found by the rerun."""
        source, target = app_pair()
        await seed(source)
        # The gateway answers 504 and the server applies the file later.
        target.inject(Fault.lagging(0.3, status=504), endpoints="imports", times=1)
        path = tmp_path / "m.sqlite"
        report = await run_copy(source, target, path, verify=False)
        unsure = [f for f in report.failures if "not confirmed" in f.reason]
        assert unsure
        await anyio.sleep(0.5)  # the held import lands
        report = await run_copy(source, target, path)
        assert report.ok, report.summary()
        assert len(unsure) == 1
        assert report.counts["comment"].written == 0  # found, not written again
        markers = [c[3] for c in snapshot(target)["comments"]]
        assert len(markers) == len(set(markers)) == 10

    async def test_imports_off_posts_everything(self, tmp_path):
        """imports=False: every comment is posted, and its time is listed."""
        source, target = app_pair()
        await seed(source)
        report = await run_copy(source, target, tmp_path / "m.sqlite", imports=False)
        assert [e for e in target.journal if e.endpoint == "imports"] == []
        [stamps] = [n for n in report.not_carried if n.field == "timestamp"]
        assert len(stamps.ids) == 10


class TestV2Source:
    async def test_users_and_options_come_from_the_exports(self, tmp_path):
        """No user given: a v2 source's exports list them, and hold room options."""
        source, target = app_pair()
        await seed(source)
        report = await run_copy(
            source, target, tmp_path / "m.sqlite", "v2", "v2.1", users=()
        )
        assert report.counts["user"].written == 3
        assert report.ok, report.summary()
        group = next(r for r in target.store.rooms.values() if r.type == "group")
        assert json.loads(group.options) == {"topic": "orders"}
        assert ("room", "options") not in {
            (n.kind, n.field) for n in report.not_carried
        }
        assert any("users export" in note for note in report.notes)

    async def test_without_exports_the_users_given_lead(self, tmp_path):
        """A source refusing exports: the users given and participants suffice."""
        source, target = app_pair()
        await seed(source)
        source.inject(Fault.status(403), endpoints="exports")
        report = await run_copy(source, target, tmp_path / "m.sqlite", "v2", "v2.1")
        assert report.counts["user"].written == 3
        assert any("exports could not be read" in n for n in report.notes)
        fields = {(n.kind, n.field) for n in report.not_carried}
        assert ("room", "options") in fields

    async def test_no_user_at_all_is_refused(self, tmp_path):
        """No export and no user given: a clear error before any write."""
        source, target = app_pair()
        await seed(source)
        source.inject(Fault.status(403), endpoints="exports")
        with pytest.raises(InvalidArgumentError, match="pass users="):
            await run_copy(
                source, target, tmp_path / "m.sqlite", "v2", "v2.1", users=()
            )
        assert target.store.users == {}


class TestReport:
    async def test_not_carried_lists_fields_and_reasons(self, tmp_path):
        """v2 sources lose room options; every comment's time is named too."""
        source, target = app_pair()
        await seed(source)
        report = await run_copy(
            source, target, tmp_path / "m.sqlite", "v2", "v2.1", exports=False
        )
        fields = {(n.kind, n.field) for n in report.not_carried}
        assert ("room", "options") in fields
        assert ("comment", "timestamp") in fields
        assert ("user", "extras") in fields

    async def test_json_and_summary(self, tmp_path):
        """The report renders to JSON data and to readable lines."""
        source, target = app_pair()
        await seed(source)
        report = await run_copy(source, target, tmp_path / "m.sqlite")
        data = json.loads(json.dumps(report.to_json()))
        assert data["counts"]["comment"]["written"] == 10
        assert data["ok"] is True
        text = report.summary()
        assert "comments: 10 read, 10 written, 0 already there" in text
        assert "verified: the target matches" in text
        assert isinstance(report, MigrationReport)

    async def test_one_bad_record_does_not_stop_the_job(self, tmp_path):
        """A comment the target refuses is a failure; the rest is copied."""
        source, target = app_pair()
        await seed(source)
        target.inject(Fault.status(400), endpoints="post_comment", times=1)
        # One room at a time, so the refused comment is the group's first.
        report = await run_copy(source, target, tmp_path / "m.sqlite", workers=1)
        assert [(f.kind, f.id.split("/")[0]) for f in report.failures] == [
            ("comment", next(iter(source.store.rooms)).__str__())
        ]
        assert report.counts["comment"].written == 9
        # The reply to the refused comment is posted as text, and says so.
        relinked = [n for n in report.not_carried if n.field == "payload"]
        assert [len(n.ids) for n in relinked] == [1]
        assert not report.ok


class TestCheckpoint:
    async def test_other_pair_is_refused(self, tmp_path):
        """A checkpoint of another source/target pair is refused before writing."""
        source, target = app_pair()
        await seed(source)
        path = tmp_path / "m.sqlite"
        await run_copy(source, target, path)
        with pytest.raises(CheckpointError, match="belongs to a copy from"):
            await run_copy(target, source, path)

    async def test_corrupted_file_is_refused(self, tmp_path):
        """A damaged checkpoint gives a clear error and writes nothing."""
        source, target = app_pair()
        await seed(source)
        path = tmp_path / "m.sqlite"
        path.write_bytes(b"not a database at all" * 100)
        with pytest.raises(CheckpointError, match="damaged or not a checkpoint"):
            await run_copy(source, target, path)
        assert target.store.users == {}

    async def test_foreign_database_is_refused(self, tmp_path):
        """An SQLite file of something else is not taken for a checkpoint."""
        path = tmp_path / "m.sqlite"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE notes (x)")
        source, target = app_pair()
        with pytest.raises(
            CheckpointError,
            match="not a migration checkpoint; use another checkpoint file",
        ):
            await run_copy(source, target, path)

    async def test_other_schema_is_refused_saying_what_to_do(self, tmp_path):
        """A checkpoint of another schema: refused, naming the way out."""
        source, target = app_pair()
        await seed(source)
        path = tmp_path / "m.sqlite"
        await run_copy(source, target, path)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
        db.close()
        with pytest.raises(
            CheckpointError,
            match=r"has schema '0'.*use another checkpoint file",
        ):
            await run_copy(source, target, path)

    async def test_full_disk_stops_the_job_and_a_rerun_finishes(
        self, tmp_path, monkeypatch
    ):
        """A checkpoint that cannot be written stops the job; the rerun is exact.

        The comment posted just before the failed row is found on the target
        by its marker, not posted again.
        """
        source, target = app_pair()
        await seed(source)
        path = tmp_path / "m.sqlite"
        real = Checkpoint.record
        calls = []

        def record(self, kind, key, target_id, state):
            if kind == "comment":
                calls.append(key)
                if len(calls) == 5:
                    raise CheckpointError("cannot write the checkpoint: disk full")
            real(self, kind, key, target_id, state)

        monkeypatch.setattr(Checkpoint, "record", record)
        with pytest.raises(CheckpointError, match="disk full"):
            await run_copy(source, target, path, imports=False, workers=1)
        monkeypatch.setattr(Checkpoint, "record", real)
        assert len(snapshot(target)["comments"]) == 5
        report = await run_copy(source, target, path, imports=False)
        assert report.counts["comment"].already == 5
        assert report.counts["comment"].written == 5
        markers = [c[3] for c in snapshot(target)["comments"]]
        assert len(markers) == len(set(markers)) == 10
        assert report.ok


class TestRefusals:
    @pytest.mark.parametrize("side", ["source", "target"])
    async def test_a_side_in_the_wrong_dialect_is_refused(self, tmp_path, side):
        """A client pinned to a dialect its server lacks: one clear error."""
        source, target = app_pair()
        await seed(source)
        (source if side == "source" else target).reset(dialects={"v2"})
        with pytest.raises(MigrationError, match=f"the {side} app .* v2.1 dialect"):
            await run_copy(source, target, tmp_path / "m.sqlite")
        assert target.store.users == {}

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"users": "alice@example.com"}, TypeError),
            ({"workers": 0}, InvalidArgumentError),
            ({"since": datetime(2024, 1, 1)}, InvalidArgumentError),  # noqa: DTZ001
            ({"poll_interval": -1}, InvalidArgumentError),
        ],
    )
    async def test_bad_arguments_raise_before_any_request(
        self, tmp_path, kwargs, error
    ):
        """A bare string of users, no worker, a naive time, a negative poll."""
        source, target = app_pair()
        with pytest.raises(error):
            await run_copy(source, target, tmp_path / "m.sqlite", **kwargs)
        assert source.journal == target.journal == []

    async def test_same_app_is_refused(self, tmp_path):
        """Copying an app onto itself is refused before any request."""
        source, _ = app_pair()
        with pytest.raises(InvalidArgumentError, match="same app"):
            await run_copy(source, source, tmp_path / "m.sqlite", "v2", "v2.1")
