"""The fake's exports: date ranges, and the files it serves at their URLs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient
from aioqiscus.errors import BackupFailedError
from aioqiscus.payloads import Reply
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


# The import document's example comments ("Data Backup and Import",
# qiscus-rest-v2.md and v2.1/data-backup-and-import.md), into a room and by
# a user imported first.
DOC_EMAIL = "userid_844_6285868233422@kiwari-stag.com"
DOC_ROOM = "4e6c208b-3436-46a0-a6d7-add9b90dfc77"
DOC_COMMENTS = [
    {
        "Message": "Halo doc",
        "DisableLinkPreview": False,
        "Type": "text",
        "UniqueId": "android_14945300625232b81ffc0520f961",
        "CreatorEmail": DOC_EMAIL,
        "RoomUniqueId": DOC_ROOM,
        "CreatedAt": "2017-05-11T19:14:24Z",
        "Payload": None,
        "ParentCommentUniqueId": "",
    },
    {
        "Message": "Maaf mau tanya..",
        "DisableLinkPreview": False,
        "Type": "reply",
        "UniqueId": "android_14945300625232b81ffc0520f962",
        "CreatorEmail": DOC_EMAIL,
        "RoomUniqueId": DOC_ROOM,
        "CreatedAt": "2017-05-11T19:14:24Z",
        "Payload": {"text": "Maaf mau tanya..", "replied_comment_id": 1},
        "ParentCommentUniqueId": "android_14945300625232b81ffc0520f961",
    },
]
DOC_USERS = [
    {
        "Email": DOC_EMAIL,
        "Name": "Nama",
        "AvatarUrl": "https://placehold.it/20x20",
        "AuthenticationToken": "randomstring",
        "Password": "password",
        "CreateAt": "2017-05-10T11:46:30Z",
    },
    {"Email": ALICE, "Name": "Alice", "CreateAt": "2017-05-10T11:46:30Z"},
]
DOC_ROOMS = [
    {
        "Name": "Qiscus Family Super",
        "Type": "group",
        "Options": "",
        "CreatorEmail": DOC_EMAIL,
        "CreatedAt": "2017-05-11T06:35:27Z",
        "AvatarUrl": "",
        "UniqueId": DOC_ROOM,
        "ParticipantEmails": [DOC_EMAIL, ALICE],
    }
]


async def imported(client: QiscusClient, resource: str, rows: list) -> None:
    started = await client.create_import(resource, json.dumps(rows).encode())
    await client.wait_for_import(started.id, poll_interval=0.001, timeout=10)


async def import_document(client: QiscusClient) -> None:
    """The users, room and comments of the import document."""
    await imported(client, "users", DOC_USERS)
    await imported(client, "rooms", DOC_ROOMS)
    await imported(client, "comments", DOC_COMMENTS)


async def read_back(client: QiscusClient, fake: FakeQiscus):
    room_id = str(fake.imported_rooms[DOC_ROOM])
    return [c async for c in client.iter_comments(room_id)][::-1]


class TestImportsAsDocumented:
    @pytest.mark.parametrize("api_version", ["v2", "v2.1"])
    async def test_comments_keep_their_created_at(self, api_version):
        """Imported comments read back with their CreatedAt, not the import time."""
        fake = FakeQiscus()
        async with in_process(fake, api_version) as client:
            await import_document(client)
            comments = await read_back(client, fake)
        stamp = datetime(2017, 5, 11, 19, 14, 24, tzinfo=UTC)
        assert [c.timestamp for c in comments] == [stamp, stamp]
        room = fake.room(fake.imported_rooms[DOC_ROOM])
        assert room.created_at == "2017-05-11T06:35:27Z"
        assert fake.store.users[DOC_EMAIL].created_at == "2017-05-10T11:46:30Z"
        assert fake.store.users[DOC_EMAIL].token == "randomstring"

    @pytest.mark.parametrize("api_version", ["v2", "v2.1"])
    async def test_reply_names_its_parents_new_id(self, api_version):
        """ParentCommentUniqueId becomes the reply's replied_comment_id."""
        fake = FakeQiscus()
        async with in_process(fake, api_version) as client:
            await import_document(client)
            parent, reply = await read_back(client, fake)
        assert parent.id != 1
        assert reply.payload == Reply("Maaf mau tanya..", parent.id)
        assert reply.unique_temp_id in (None, "android_14945300625232b81ffc0520f962")

    async def test_parent_from_an_earlier_import(self):
        """A parent imported by an earlier file is found too; a later one is not."""
        fake = FakeQiscus()
        parent, reply = DOC_COMMENTS
        async with in_process(fake) as client:
            await imported(client, "users", DOC_USERS)
            await imported(client, "rooms", DOC_ROOMS)
            with pytest.raises(BackupFailedError) as info:
                await imported(client, "comments", [reply, parent])
            await imported(client, "comments", [parent])
            await imported(client, "comments", [reply])
            comments = await read_back(client, fake)
        assert info.value.backup.errors["Data"] == [
            {
                "Row": 0,
                "Key": reply["UniqueId"],
                "Errors": [
                    "ParentCommentUniqueId must name an existing or earlier comment"
                ],
            }
        ]
        assert comments[1].payload == Reply("Maaf mau tanya..", comments[0].id)

    async def test_row_errors_are_kept_per_record(self):
        """A failed import lists each bad record with its row, key and reasons."""
        fake = FakeQiscus()
        rows = [
            {**DOC_COMMENTS[0], "RoomUniqueId": "nowhere"},
            {**DOC_COMMENTS[0], "UniqueId": "fine"},
            {
                **DOC_COMMENTS[0],
                "UniqueId": "fine",
                "CreatorEmail": "ghost@example.com",
                "CreatedAt": "yesterday",
            },
        ]
        async with in_process(fake) as client:
            await imported(client, "users", DOC_USERS)
            await imported(client, "rooms", DOC_ROOMS)
            with pytest.raises(BackupFailedError) as info:
                await imported(client, "comments", rows)
        errors = info.value.backup.errors
        assert errors["Data"] == [
            {
                "Row": 0,
                "Key": DOC_COMMENTS[0]["UniqueId"],
                "Errors": ["RoomUniqueId is unknown"],
            },
            {
                "Row": 2,
                "Key": "fine",
                "Errors": [
                    "UniqueId already exists",
                    "CreatorEmail is unknown",
                    "CreatedAt must be a time like 2017-05-11T19:14:24Z",
                ],
            },
        ]
        assert errors["Message"].startswith("row 0: RoomUniqueId is unknown; row 2: ")
        assert fake.room(fake.imported_rooms[DOC_ROOM]).comments == []

    async def test_a_unique_id_imports_once(self):
        """A comment UniqueId already stored is refused, as the document says."""
        fake = FakeQiscus()
        async with in_process(fake) as client:
            await import_document(client)
            with pytest.raises(BackupFailedError, match="UniqueId already exists"):
                await imported(client, "comments", DOC_COMMENTS[:1])
        assert len(fake.room(fake.imported_rooms[DOC_ROOM]).comments) == 2

    async def test_single_rooms_are_named_from_their_participants(self):
        """A single room takes the name "email1 email2"; 3 people are refused."""
        fake = FakeQiscus()
        single = {
            **DOC_ROOMS[0],
            "Type": "single",
            "Name": "ignored",
            "UniqueId": "s1",
            "ParticipantEmails": [DOC_EMAIL, ALICE],
        }
        crowded = {**single, "UniqueId": "s2", "ParticipantEmails": [ALICE, BOB]}
        async with in_process(fake) as client:
            await imported(client, "users", DOC_USERS)
            with pytest.raises(BackupFailedError) as info:
                await imported(client, "rooms", [crowded])
            await imported(client, "rooms", [single])
        assert fake.room(fake.imported_rooms["s1"]).name == f"{DOC_EMAIL} {ALICE}"
        assert [r["Errors"] for r in info.value.backup.errors["Data"]] == [
            [
                f"unknown CreatorEmail or participant: {BOB}",
                "a single room needs exactly 2 participants, the creator one",
            ]
        ]


class TestExportsCarryWhatImportsTake:
    async def test_comments_export_what_was_imported(self):
        """An export of imported comments gives back the imported rows."""
        fake = FakeQiscus()
        async with in_process(fake) as client:
            await import_document(client)
            done = await finished_export(
                client, "comments", date(2017, 5, 11), date(2017, 5, 11)
            )
            async with fake.http_client() as http:
                rows = (await http.get(done.download_url)).json()
        parent_id = fake.store.comments_by_unique_id[DOC_COMMENTS[0]["UniqueId"]].id
        expected = [
            DOC_COMMENTS[0],
            {
                **DOC_COMMENTS[1],
                "Payload": {
                    "text": "Maaf mau tanya..",
                    "replied_comment_id": parent_id,
                },
            },
        ]
        assert rows == expected

    async def test_rooms_and_users_export_their_created_at(self):
        """Rooms and users export the creation times they were imported with."""
        fake = FakeQiscus()
        async with in_process(fake) as client:
            await import_document(client)
            day = date(2017, 5, 10), date(2017, 5, 11)
            users = await finished_export(client, "users", *day)
            rooms = await finished_export(client, "rooms", *day)
            async with fake.http_client() as http:
                users_rows = (await http.get(users.download_url)).json()
                rooms_rows = (await http.get(rooms.download_url)).json()
        assert [(u["Email"], u["CreateAt"]) for u in users_rows] == [
            (DOC_EMAIL, "2017-05-10T11:46:30Z"),
            (ALICE, "2017-05-10T11:46:30Z"),
        ]
        assert "AuthenticationToken" not in users_rows[0]
        assert rooms_rows == DOC_ROOMS
