"""client.download_export: bounded, streamed or read into rows, all or nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import anyio
import attrs
import pytest

from aioqiscus import (
    Button,
    Buttons,
    InvalidArgumentError,
    NotFoundError,
    QiscusClient,
    Reply,
    ResponseTooLargeError,
    ServerError,
)
from aioqiscus.backends import AiohttpBackend, HttpxBackend
from aioqiscus.models import ExportedComment, ExportedRoom, ExportedUser
from aioqiscus.testing import FakeQiscus, Fault, serve

from .helpers import in_process

TODAY = datetime.now(UTC).date()
AROUND_TODAY = (TODAY - timedelta(days=1), TODAY + timedelta(days=1))
ALICE, BOB = "alice@example.com", "bob@example.com"
MENU = Buttons("Pick", (Button.link("Help", "https://x.io/help"),))


def populated() -> FakeQiscus:
    """Two users, a room, a buttons comment and a reply to it."""
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob")
    room = fake.store.create_room("Shop", "group", ALICE, [BOB], options='{"a":1}')
    parent = fake.store.add_comment(
        room, ALICE, "Pick", type="buttons", payload=MENU.to_wire(), unique_temp_id="p"
    )
    fake.store.add_comment(
        room,
        BOB,
        "yes",
        type="reply",
        payload={"text": "yes", "replied_comment_id": parent.id},
        unique_temp_id="r",
    )
    return fake


async def finished(client: QiscusClient, resource: str):
    backup = await client.create_export(resource, *AROUND_TODAY)
    return await client.wait_for_export(backup.id, poll_interval=0.001, timeout=10)


def content(fake: FakeQiscus, backup) -> bytes:
    return fake.backups[backup.id].content


class TestRows:
    @pytest.mark.parametrize("api_version", ["v2", "v2.1"])
    async def test_rows_are_typed(self, api_version):
        """to=None reads users, rooms and comments into typed rows."""
        fake = populated()
        async with in_process(fake, api_version) as client:
            users = await client.download_export(await finished(client, "users"))
            rooms = await client.download_export(await finished(client, "rooms"))
            comments = await client.download_export(await finished(client, "comments"))
        room = next(iter(fake.store.rooms.values()))
        assert [(u.email, u.name) for u in users] == [(ALICE, "Alice"), (BOB, "Bob")]
        assert all(isinstance(u, ExportedUser) and u.created_at for u in users)
        assert rooms == [
            ExportedRoom(
                str(room.id),
                "Shop",
                "group",
                ALICE,
                (ALICE, BOB),
                '{"a":1}',
                "",
                datetime.fromisoformat(room.created_at),
            )
        ]
        parent, reply = comments
        assert isinstance(parent, ExportedComment)
        assert (parent.unique_id, parent.sender, parent.payload) == ("p", ALICE, MENU)
        assert reply.payload == Reply("yes", room.comments[0].id)
        assert (reply.parent_unique_id, reply.room_unique_id) == ("p", str(room.id))

    async def test_by_id(self):
        """An export id is read first, then downloaded."""
        fake = populated()
        async with in_process(fake) as client:
            done = await finished(client, "users")
            rows = await client.download_export(done.id)
        assert [u.email for u in rows] == [ALICE, BOB]


class TestFiles:
    async def test_to_a_path(self, tmp_path):
        """A path gets the file as served, and no .part file is left."""
        fake = populated()
        target = tmp_path / "comments.json"
        async with in_process(fake) as client:
            done = await finished(client, "comments")
            size = await client.download_export(done, to=target)
        assert target.read_bytes() == content(fake, done)
        assert size == len(content(fake, done))
        assert list(tmp_path.iterdir()) == [target]

    async def test_to_a_binary_file(self):
        """A binary file object gets the bytes after what it held."""
        fake = populated()
        handle = io.BytesIO(b"head:")
        handle.seek(0, io.SEEK_END)
        async with in_process(fake) as client:
            done = await finished(client, "users")
            await client.download_export(done, to=handle)
        assert handle.getvalue() == b"head:" + content(fake, done)

    @pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
    async def test_over_loopback(self, tmp_path, backend):
        """Both backends download from a served fake, credentials left out."""
        fake = populated()
        target = tmp_path / "users.json"
        with anyio.fail_after(20), serve(fake) as url:
            chosen = AiohttpBackend() if backend == "aiohttp" else None
            async with QiscusClient(
                fake.app_id, fake.secret_key, base_url=url, backend=chosen
            ) as client:
                done = await finished(client, "users")
                await client.download_export(done, to=target)
        assert json.loads(target.read_text())[0]["Email"] == ALICE
        [entry] = fake.requests("download")
        assert not any("secret" in h.lower() for h in entry.headers)

    async def test_a_backend_that_only_sends(self):
        """A Backend of one's own without download() still downloads."""

        @attrs.define
        class SendOnly:
            inner: HttpxBackend
            max_connections: int = 10

            async def send(self, *args, **kwargs):
                return await self.inner.send(*args, **kwargs)

            async def aclose(self):
                await self.inner.aclose()

        fake = populated()
        backend = SendOnly(HttpxBackend(client=fake.http_client()))
        async with QiscusClient(
            fake.app_id, fake.secret_key, base_url="http://127.0.0.1", backend=backend
        ) as client:
            done = await finished(client, "users")
            rows = await client.download_export(done)
        assert [u.email for u in rows] == [ALICE, BOB]


class TestLimits:
    async def test_declared_size_over_the_limit(self, tmp_path):
        """An export declaring more than max_bytes is refused unrequested."""
        fake = populated()
        async with in_process(fake) as client:
            done = await finished(client, "comments")
            with pytest.raises(ResponseTooLargeError, match="max_bytes") as info:
                await client.download_export(done, to=tmp_path / "c.json", max_bytes=10)
        assert info.value.limit == 10
        assert fake.requests("download") == []
        assert list(tmp_path.iterdir()) == []

    async def test_larger_than_declared(self, tmp_path):
        """A file passing max_bytes as it arrives: an error, nothing kept."""
        fake = populated()
        handle = io.BytesIO(b"keep")
        handle.seek(0, io.SEEK_END)
        async with in_process(fake) as client:
            done = attrs.evolve(await finished(client, "comments"), size=0)
            for to in (tmp_path / "c.json", handle, None):
                with pytest.raises(ResponseTooLargeError, match="over max_bytes"):
                    await client.download_export(done, to=to, max_bytes=50)
        assert list(tmp_path.iterdir()) == []
        assert handle.getvalue() == b"keep"
        assert len(fake.requests("download")) == 3  # too large: never retried


class TestFailures:
    async def test_a_503_is_retried(self):
        """A failed attempt is retried from the start of the file."""
        fake = populated()
        fake.inject(Fault.status(503), endpoints="download", times=1)
        async with in_process(fake) as client:
            done = await finished(client, "users")
            rows = await client.download_export(done)
        assert len(rows) == 2
        assert [e.status for e in fake.requests("download")] == [503, 200]

    async def test_failures_leave_nothing(self, tmp_path):
        """A download that keeps failing raises and leaves no file."""
        fake = populated()
        fake.inject(Fault.status(503), endpoints="download")
        async with in_process(fake) as client:
            done = await finished(client, "users")
            with pytest.raises(ServerError):
                await client.download_export(done, to=tmp_path / "u.json")
        assert list(tmp_path.iterdir()) == []

    async def test_a_deleted_export(self):
        """An export deleted since is a NotFoundError."""
        fake = populated()
        async with in_process(fake) as client:
            done = await finished(client, "users")
            await client.delete_export(done.id)
            with pytest.raises(NotFoundError):
                await client.download_export(done)

    async def test_unfinished_export(self):
        """An export still running is refused, saying to wait for it."""
        fake = populated()
        fake.export_steps = [("started", 0)]
        async with in_process(fake) as client:
            started = await client.create_export("users", *AROUND_TODAY)
            with pytest.raises(InvalidArgumentError, match="wait_for_export"):
                await client.download_export(started.id)
        assert fake.requests("download") == []

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"max_bytes": 0}, "max_bytes"),
            ({"max_bytes": True}, "max_bytes"),
            ({"to": "."}, "directory"),
            ({"to": "missing/u.json"}, "does not exist"),
            ({"to": io.StringIO()}, "binary file"),
            ({"to": 5}, "binary file"),
        ],
    )
    async def test_bad_arguments_before_any_request(self, kwargs, match):
        """Bad arguments raise InvalidArgumentError before any request."""
        fake = populated()
        async with in_process(fake) as client:
            with pytest.raises(InvalidArgumentError, match=match):
                await client.download_export("some-id", **kwargs)
        assert fake.journal == []
