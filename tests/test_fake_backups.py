"""The fake's exports: date ranges, and the files it serves at their URLs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient
from aioqiscus.testing import FakeQiscus, Fault, serve

from .helpers import in_process

TODAY = datetime.now(UTC).date()
AROUND_TODAY = (TODAY - timedelta(days=1), TODAY + timedelta(days=1))
ALICE, BOB = "alice@example.com", "bob@example.com"


async def finished_export(client: QiscusClient, resource: str, start, end):
    backup = await client.create_export(resource, start, end)
    return await client.wait_for_export(backup.id, poll_interval=0.001, timeout=10)


def populated() -> tuple[FakeQiscus, str]:
    """A fake with two users, a room and two comments, some of them from 2023."""
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob").created_at = "2023-03-05T10:00:00Z"
    room = fake.store.create_room("Old room", "group", BOB, [ALICE])
    room.created_at = "2023-03-06T00:00:00Z"
    fake.store.create_room("New room", "group", ALICE, [BOB])
    old = fake.store.add_comment(room, BOB, "from 2023")
    old.timestamp = "2023-03-07T23:59:59Z"
    fake.store.add_comment(room, ALICE, "from today")
    return fake, str(room.id)


class TestDateRanges:
    @pytest.mark.parametrize(
        ("resource", "key", "old", "new"),
        [
            ("users", "Email", [BOB], [ALICE]),
            ("rooms", "Name", ["Old room"], ["New room"]),
            ("comments", "Message", ["from 2023"], ["from today"]),
        ],
    )
    async def test_range_selects_rows(self, resource, key, old, new):
        """start_date and end_date (inclusive) select the rows created between."""
        fake, _ = populated()
        async with in_process(fake) as client:
            march = await finished_export(
                client, resource, date(2023, 3, 5), date(2023, 3, 7)
            )
            recent = await finished_export(client, resource, *AROUND_TODAY)
            empty = await finished_export(
                client, resource, date(2020, 1, 1), date(2020, 12, 31)
            )
            async with fake.http_client() as http:
                rows = [
                    (await http.get(b.download_url)).json()
                    for b in (march, recent, empty)
                ]
        assert [[r[key] for r in found] for found in rows] == [old, new, []]
        assert [b.total_rows for b in (march, recent, empty)] == [1, 1, 0]
        assert march.size == len(json.dumps(rows[0], ensure_ascii=False).encode())

    async def test_rows_use_the_import_format(self):
        """Exported comments carry the fields an import of comments takes."""
        fake, room_id = populated()
        async with in_process(fake) as client:
            done = await finished_export(client, "comments", *AROUND_TODAY)
            async with fake.http_client() as http:
                [row] = (await http.get(done.download_url)).json()
        assert row["Message"] == "from today"
        assert row["CreatorEmail"] == ALICE
        assert row["RoomUniqueId"] == room_id
        assert row["Type"] == "text"
        assert set(row) == {
            "Message",
            "DisableLinkPreview",
            "Type",
            "UniqueId",
            "CreatorEmail",
            "RoomUniqueId",
            "CreatedAt",
            "Payload",
            "ParentCommentUniqueId",
        }

    async def test_exported_users_import_elsewhere(self):
        """Users exported from one app import into another as they were."""
        source, _ = populated()
        target = FakeQiscus()
        async with in_process(source) as old, in_process(target) as new:
            done = await finished_export(old, "users", date(2000, 1, 1), TODAY)
            async with source.http_client() as http:
                data = (await http.get(done.download_url)).content
            started = await new.create_import("users", data)
            imported = await new.wait_for_import(started.id, poll_interval=0.001)
        assert imported.status == "finished"
        assert {u: target.store.users[u].name for u in target.store.users} == {
            ALICE: "Alice",
            BOB: "Bob",
        }


class TestDownloads:
    async def test_url_points_at_the_serving_socket(self):
        """Over loopback the download URL is on the server's own host and port."""
        fake, _ = populated()
        with anyio.fail_after(20), serve(fake) as url:
            async with QiscusClient(
                fake.app_id, fake.secret_key, base_url=url
            ) as client:
                done = await finished_export(client, "users", *AROUND_TODAY)
            assert done.download_url.startswith(f"{url}/download/{done.id}/")
            assert done.download_url.endswith("_exported_users.json")
            async with httpx.AsyncClient() as http:
                response = await http.get(done.download_url)  # no credentials
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert [r["Email"] for r in response.json()] == [ALICE]
        assert fake.requests("download")[-1].status == 200

    async def test_nothing_before_it_finishes(self):
        """An unfinished, unknown or misnamed export is a plain 404."""
        fake, _ = populated()
        fake.export_steps = [("started", 0), ("started", 50), ("finished", 100)]
        async with in_process(fake) as client, fake.http_client() as http:
            started = await client.create_export("users", *AROUND_TODAY)
            done = await client.wait_for_export(started.id, poll_interval=0.001)
            url = done.download_url
            fake.export_steps = [("started", 0)]
            pending = await client.create_export("users", *AROUND_TODAY)
            answers = [
                await http.get(f"http://127.0.0.1/download/{pending.id}/x.json"),
                await http.get(url.replace(done.id, "no-such-export")),
                await http.get(url + ".bak"),
                await http.get(url),
            ]
        assert [a.status_code for a in answers] == [404, 404, 404, 200]
        assert answers[0].headers["content-type"] == "text/html"

    async def test_faults_reach_downloads(self):
        """Faults can target the download endpoint, like any other."""
        fake, _ = populated()
        fake.inject(Fault.status(503), endpoints="download", times=1)
        async with in_process(fake) as client, fake.http_client() as http:
            done = await finished_export(client, "users", *AROUND_TODAY)
            first = await http.get(done.download_url)
            second = await http.get(done.download_url)
        assert (first.status_code, second.status_code) == (503, 200)
        assert [e.fault is not None for e in fake.requests("download")] == [
            True,
            False,
        ]
