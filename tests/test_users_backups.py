"""Users and backups: samples, requests, and behaviour against the fake."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import anyio
import pytest

from aioqiscus import (
    Backup,
    BackupFailedError,
    BackupTimeoutError,
    Dialect,
    InvalidArgumentError,
    NotFoundError,
    QiscusClient,
    UnsupportedOperationError,
    User,
)
from aioqiscus.dialects import v2, v21
from aioqiscus.dialects._backups import parse_backup

from .conftest import sample


def results(name):
    return sample(name)["results"]


class TestUserSamples:
    @pytest.mark.parametrize(
        "name",
        ["v2/login_or_register", "v2/login_or_register_early", "v2/user_profile"],
    )
    def test_v2_user(self, name):
        """v2 users: the email is the id, the numeric id kept apart, token hidden."""
        user = v2.get_user("x").parse(results(name))
        assert user.name == "Johnny Cage"
        assert user.internal_id == 1
        assert user.avatar_url == "https://myimagebucket.com/image.jpg"
        assert user.token == "abcde1234defgh"
        assert "abcde1234defgh" not in repr(user)
        assert "@" in user.id

    def test_v2_reset_token_reads_the_whole_user(self):
        """v2 reset answers a whole user: its other keys land in extras."""
        user = v2.reset_user_token("x").parse(results("v2/reset_user_token"))
        assert (user.id, user.internal_id) == ("yusuf@kiwari.id", 144)
        assert user.token == "kj2oLfL9CwzKZXxkHfHE"
        assert user.extras == {
            "last_comment_id": 443376,
            "pn_android_configured": True,
            "pn_ios_configured": True,
            "rtKey": "somestring",
        }
        assert "somestring" not in repr(user)
        assert "'rtKey': '***'" in repr(user)

    def test_v21_users(self):
        """v2.1 users carry user_id and extras."""
        user = v21.get_user("x").parse(results("v21/login_or_register"))
        assert user == User(
            id="user@email.com",
            name="Johnny Cage",
            avatar_url="https://myimagebucket.com/image.jpg",
            extras={"key": "value", "key1": "value1"},
        )
        assert v21.get_user("x").parse(results("v21/user_profile")).extras == {}

    def test_v21_tokens(self):
        """v2.1 answers results.token."""
        assert (
            v21.get_user_token("x").parse(results("v21/get_user_token"))
            == "abcdef09876"
        )
        user = v21.reset_user_token("x").parse(results("v21/reset_user_token"))
        assert (user.id, user.token) == ("x", "qwerty12345")

    def test_v21_user_list(self):
        """get_user_list's email/id/name shape; meta.total_page decides paging."""
        page = v21.list_users(1, 2, None).parse(results("v21/get_user_list"))
        assert [u.id for u in page.items] == ['""', "081111111111@qiscuswa.com"]
        assert page.items[1].internal_id == 178
        assert page.items[1].name == "iPhone test User"
        assert page.has_more is True
        last = v21.list_users(1573, 2, None).parse(results("v21/get_user_list"))
        assert last.has_more is False

    def test_token_must_be_string(self):
        """A missing token is a shape error."""
        from aioqiscus import ResponseShapeError

        with pytest.raises(ResponseShapeError):
            v21.get_user_token("x").parse({"token": None})


class TestBackupSamples:
    @pytest.mark.parametrize("dialect", ["v2", "v21"])
    def test_create_export(self, dialect):
        """create_export answers the backup itself as results."""
        backup = v2.BACKUPS.create_export(
            "comments", date(2017, 7, 1), date(2017, 7, 17)
        ).parse(results(f"{dialect}/create_export"))
        assert backup == Backup(
            id="dd2c46a8-0921-4b75-837c-cee1b9804787",
            resource="comments",
            status="started",
            filename="2017-07-17T10:19:44+07:00_exported_comments.json",
            created_at=datetime(2017, 7, 17, 3, 19, 44, tzinfo=UTC),
        )
        assert backup.done is False

    @pytest.mark.parametrize("dialect", ["v2", "v21"])
    def test_list_and_get(self, dialect):
        """A finished export has its size, rows and download URL."""
        [listed] = v2.BACKUPS.list_exports(1).parse(results(f"{dialect}/list_exports"))
        got = v2.BACKUPS.get_export("c44c").parse(results(f"{dialect}/get_export"))
        assert listed == got
        assert got.percentage == 100
        assert got.total_rows == 119963
        assert got.size == 43044263
        assert got.download_url.endswith("_exported_comments.json")
        assert got.done is True

    def test_delete(self):
        """delete_export answers the deleted backup."""
        assert (
            v2.BACKUPS.delete_export("c44c").parse(results("v2/delete_export")).status
            == "finished"
        )

    @pytest.mark.parametrize("dialect", ["v2", "v21"])
    def test_imports(self, dialect):
        """Imports carry an errors object."""
        created = v2.BACKUPS.create_import("comments", b"[]", "c.json").parse(
            results(f"{dialect}/create_import")
        )
        assert created.errors == {"Message": "", "Data": None}
        assert created.size == 926
        [listed] = v2.BACKUPS.list_imports(1).parse(results(f"{dialect}/list_imports"))
        assert listed.status == "finished"
        assert listed.total_rows == 1

    def test_export_path_is_quoted(self):
        """Backup ids go into the path URL-quoted."""
        call = v21.BACKUPS.get_export("a/b c")
        assert call.request.path == "/api/v2.1/rest/exports/a%2Fb%20c"

    def test_unknown_status_still_parses(self):
        """A status we do not know is kept as it came."""
        data = {**results("v2/get_export")["backup_history"], "status": "processing"}
        assert parse_backup(data).status == "processing"


class TestRequests:
    async def test_login_v2(self, mock):
        """v2 login_or_register sends email and device fields."""
        route = mock.post("/api/v2/rest/login_or_register").respond(
            json=sample("v2/login_or_register")
        )
        async with QiscusClient("a", "s", api_version="v2") as client:
            user = await client.login_or_register(
                "johnny@example.com",
                "Johnny Cage",
                password="pw",
                device_token="dev",
                device_platform="ios",
            )
        assert json.loads(route.calls.last.request.content) == {
            "email": "johnny@example.com",
            "username": "Johnny Cage",
            "password": "pw",
            "device_token": "dev",
            "device_platform": "ios",
        }
        assert user.token == "abcde1234defgh"

    async def test_login_v21(self, mock):
        """v2.1 login_or_register sends user_id and extras."""
        route = mock.post("/api/v2.1/rest/login_or_register").respond(
            json=sample("v21/login_or_register")
        )
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            await client.login_or_register("user@email.com", "Johnny", extras={"k": 1})
        assert json.loads(route.calls.last.request.content) == {
            "user_id": "user@email.com",
            "username": "Johnny",
            "extras": {"k": 1},
        }

    @pytest.mark.parametrize(
        ("version", "call", "error"),
        [
            (
                "v2.1",
                lambda c: c.login_or_register("bad\nid", "x"),
                InvalidArgumentError,
            ),
            (
                "v2.1",
                lambda c: c.login_or_register("bad\x00id", "x"),
                InvalidArgumentError,
            ),
            (
                "v2.1",
                lambda c: c.login_or_register("ok", "x", device_platform="web"),
                InvalidArgumentError,
            ),
            (
                "v2",
                lambda c: c.login_or_register("a@x.io", "x", extras={"k": 1}),
                InvalidArgumentError,
            ),
            ("v2", lambda c: c.get_user_token("a@x.io"), UnsupportedOperationError),
            (
                "v2.1",
                lambda c: c.create_export(
                    "messages", date(2020, 1, 1), date(2020, 1, 2)
                ),
                InvalidArgumentError,
            ),
            (
                "v2.1",
                lambda c: c.create_export("users", date(2020, 1, 2), date(2020, 1, 1)),
                InvalidArgumentError,
            ),
            (
                "v2.1",
                lambda c: c.create_export("users", "2020-01-01", date(2020, 1, 1)),
                TypeError,
            ),
            ("v2.1", lambda c: c.create_import("users", "[]"), TypeError),
            (
                "v2.1",
                lambda c: c.create_import("users", b" " * (4 * 1024 * 1024 + 1)),
                InvalidArgumentError,
            ),
            (
                "v2.1",
                lambda c: c.wait_for_export("x", poll_interval=0),
                InvalidArgumentError,
            ),
        ],
    )
    async def test_refused_before_request(self, mock, version, call, error):
        """Bad user and backup arguments never reach the server."""
        async with QiscusClient("a", "s", api_version=version) as client:
            with pytest.raises(error):
                await call(client)
        assert len(mock.calls) == 0

    def test_iter_users_on_v2_is_unsupported(self):
        """Listing users needs v2.1."""
        client = QiscusClient("a", "s", api_version="v2")

        async def run():
            with pytest.raises(UnsupportedOperationError):
                [u async for u in client.iter_users()]

        anyio.run(run)

    async def test_export_dates(self, mock):
        """Dates go as YYYY-MM-DD."""
        route = mock.post("/api/v2.1/rest/exports").respond(
            json=sample("v21/create_export")
        )
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            await client.create_export("comments", date(2017, 7, 1), date(2017, 7, 17))
        assert json.loads(route.calls.last.request.content) == {
            "type": "comments",
            "start_date": "2017-07-01",
            "end_date": "2017-07-17",
        }


class TestAgainstFake:
    async def test_users(self, env):
        """Register, read, reset and (v2.1) read the token back."""
        fake, client, dialect = env
        user = await client.login_or_register("neo@example.com", "Neo", password="x")
        assert user.id == "neo@example.com"
        assert (await client.get_user("neo@example.com")).name == "Neo"
        token = await client.reset_user_token("neo@example.com")
        assert token == fake.store.users["neo@example.com"].token
        if dialect is Dialect.V2_1:
            assert await client.get_user_token("neo@example.com") == token
        with pytest.raises(NotFoundError):
            await client.get_user("nobody@example.com")

    async def test_iter_users(self, env):
        """All users, lazily paged, where v2.1 is served."""
        fake, client, dialect = env
        for i in range(25):
            fake.add_user(f"user{i}@example.com")
        if dialect is Dialect.V2:
            with pytest.raises(UnsupportedOperationError):
                [u async for u in client.iter_users()]
            return
        users = [u async for u in client.iter_users(page_size=10)]
        assert len(users) == 29
        assert len({u.id for u in users}) == 29
        assert len(fake.requests("get_user_list")) == 3

    async def test_wait_for_export_progress(self, env):
        """Progress 0 -> 40 -> 100 is reported once per change."""
        fake, client, _ = env
        fake.export_steps = [
            ("started", 0),
            ("started", 40),
            ("started", 40),
            ("finished", 100),
        ]
        # The fake exports the rows created in the range: around today.
        today = datetime.now(UTC).date()
        backup = await client.create_export(
            "users", today - timedelta(days=1), today + timedelta(days=1)
        )
        seen = []
        done = await client.wait_for_export(
            backup.id,
            poll_interval=0.001,
            on_progress=lambda b: seen.append(b.percentage),
        )
        assert seen == [0, 40, 100]
        assert done.status == "finished"
        assert done.download_url is not None
        assert done.total_rows == 4

    async def test_wait_for_export_failure(self, env):
        """A failed export raises BackupFailedError carrying the backup."""
        fake, client, _ = env
        fake.export_steps = [("started", 0), ("failed", 40)]
        backup = await client.create_export("rooms", date(2024, 1, 1), date(2024, 1, 1))
        with pytest.raises(BackupFailedError) as info:
            await client.wait_for_export(backup.id, poll_interval=0.001)
        assert info.value.backup.percentage == 40
        assert "failed" in str(info.value)

    async def test_wait_for_export_timeout(self, env):
        """An export that never finishes times out, bounded."""
        fake, client, _ = env
        fake.export_steps = [("started", 10)]
        backup = await client.create_export("rooms", date(2024, 1, 1), date(2024, 1, 1))
        with pytest.raises(BackupTimeoutError) as info:
            await client.wait_for_export(backup.id, poll_interval=0.01, timeout=0.05)
        assert isinstance(info.value, TimeoutError)
        assert info.value.backup.status == "started"

    async def test_list_get_delete_exports(self, env):
        """Exports are listed newest first, read by id and deleted."""
        _, client, _ = env
        first = await client.create_export("users", date(2024, 1, 1), date(2024, 1, 2))
        second = await client.create_export("rooms", date(2024, 1, 1), date(2024, 1, 2))
        assert [b.id for b in await client.list_exports()] == [second.id, first.id]
        assert (await client.get_export(first.id)).resource == "users"
        deleted = await client.delete_export(first.id)
        assert deleted.id == first.id
        with pytest.raises(NotFoundError):
            await client.get_export(first.id)

    async def test_import(self, env):
        """An import file is uploaded as multipart and applied."""
        fake, client, _ = env
        rows = [{"Email": "new@example.com", "Name": "New"}]
        backup = await client.create_import("users", json.dumps(rows).encode())
        assert backup.status == "started"
        assert "new@example.com" in fake.store.users
        [listed] = await client.list_imports()
        assert (listed.id, listed.status) == (backup.id, "started")
        [listed] = await client.list_imports()
        assert (listed.id, listed.status, listed.total_rows) == (
            backup.id,
            "finished",
            1,
        )
        upload = fake.requests("imports")[0].body
        assert upload["type"] == "users"
        assert upload["file"].startswith("<file users.json")


class TestImportOutcome:
    """A failed import raises; wait_for_import mirrors wait_for_export."""

    async def test_failed_import_raises_with_the_servers_errors(self, env):
        """An import the server answers ``failed`` raises BackupFailedError."""
        fake, client, _ = env
        fake.add_user("taken@example.com")
        rows = [{"Email": "new@example.com"}, {"Email": "taken@example.com"}]
        with anyio.fail_after(10), pytest.raises(BackupFailedError) as info:
            await client.create_import("users", json.dumps(rows).encode())
        failed = info.value.backup
        assert failed.status == "failed"
        assert failed.errors == {
            "Message": "row 1: Email already exists",
            "Data": [
                {
                    "Row": 1,
                    "Key": "taken@example.com",
                    "Errors": ["Email already exists"],
                }
            ],
        }
        assert str(info.value) == (
            f"import {failed.id} failed: row 1: Email already exists"
        )
        assert "new@example.com" not in fake.store.users  # all or nothing

    async def test_wait_for_import_reports_progress(self, env):
        """Progress 0 -> 50 -> 100 is reported once per change, read from
        the listing."""
        fake, client, _ = env
        fake.import_steps = [("started", 0), ("started", 50), ("finished", 100)]
        rows = [{"Email": "new@example.com", "Name": "New"}]
        backup = await client.create_import("users", json.dumps(rows).encode())
        seen = []
        with anyio.fail_after(10):
            done = await client.wait_for_import(
                backup.id,
                poll_interval=0.001,
                on_progress=lambda b: seen.append((b.status, b.percentage)),
            )
        assert seen == [("started", 0), ("started", 50), ("finished", 100)]
        assert (done.id, done.total_rows) == (backup.id, 1)
        assert len(fake.requests("imports")) == 4  # one upload, three listings

    async def test_wait_for_import_failure(self, env):
        """An import that fails later raises BackupFailedError on the poll."""
        fake, client, _ = env
        fake.import_steps = [("started", 0), ("failed", 100)]
        backup = await client.create_import("users", b"[]")
        with anyio.fail_after(10), pytest.raises(BackupFailedError) as info:
            await client.wait_for_import(backup.id, poll_interval=0.001)
        assert info.value.backup.id == backup.id
        assert str(info.value) == f"import {backup.id} failed: no reason given"

    async def test_wait_for_import_timeout(self, env):
        """An import that never finishes times out, bounded."""
        fake, client, _ = env
        fake.import_steps = [("started", 10)]
        backup = await client.create_import("users", b"[]")
        with anyio.fail_after(10), pytest.raises(BackupTimeoutError) as info:
            await client.wait_for_import(backup.id, poll_interval=0.01, timeout=0.05)
        assert info.value.backup.status == "started"

    async def test_wait_for_import_finds_an_older_import(self, env):
        """An import beyond the first page of 20 is found on a later page."""
        _, client, _ = env
        first = await client.create_import("users", b"[]")
        for _ in range(20):
            await client.create_import("users", b"[]")
        with anyio.fail_after(10):
            done = await client.wait_for_import(first.id, poll_interval=0.001)
        assert (done.id, done.status) == (first.id, "finished")

    async def test_wait_for_an_unknown_import(self, env):
        """An id the listing never shows is a NotFoundError, after the last page."""
        _, client, _ = env
        await client.create_import("users", b"[]")
        with anyio.fail_after(10), pytest.raises(NotFoundError, match="no import nope"):
            await client.wait_for_import("nope", poll_interval=0.001)
