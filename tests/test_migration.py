"""Migration helpers: import planning (rules and chunking) and dialect comparison."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioqiscus import InvalidArgumentError, QiscusClient
from aioqiscus.migration import (
    IMPORT_LIMIT,
    ImportComment,
    ImportPlanError,
    ImportRoom,
    ImportUser,
    compare_dialects,
    plan_import,
)
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BOB, CAROL, sample

REPLY = {"text": "Maaf mau tanya..", "replied_comment_id": 1}


def users(*emails):
    return [ImportUser(e, e.split("@")[0]) for e in emails]


class TestRules:
    def test_valid_plan_orders_resources(self):
        """Users, then rooms, then comments, whatever the input order."""
        records = [
            ImportComment("c1", "r1", ALICE, "Halo doc"),
            ImportRoom("r1", "", "single", ALICE, [ALICE, BOB]),
            *users(ALICE, BOB),
        ]
        chunks = plan_import(records)
        assert [c.resource for c in chunks] == ["users", "rooms", "comments"]
        assert [c.records for c in chunks] == [2, 1, 1]
        rooms = json.loads(chunks[1].data)
        assert rooms[0]["ParticipantEmails"] == [ALICE, BOB]

    @pytest.mark.parametrize(
        ("record", "name"),
        [
            (ImportUser(ALICE, "A", authentication_token="t", password="p"), "user"),
            (ImportRoom("r", "", "single", ALICE, [ALICE, BOB]), "room_single"),
            (ImportComment("c", "r", ALICE, "x"), "comment_text"),
        ],
    )
    def test_records_have_documented_keys(self, record, name):
        """Each record serialises with exactly the documented keys."""
        assert set(record.to_json()) == set(sample(f"imports/{name}"))

    def test_documented_comment_records(self):
        """The document's example comments (a text and its reply) plan cleanly."""
        records = [
            *users(ALICE),
            ImportRoom("4e6c208b", "Family", "group", ALICE, [ALICE]),
            ImportComment("android_1", "4e6c208b", ALICE, "Halo doc"),
            ImportComment(
                "android_2",
                "4e6c208b",
                ALICE,
                "Maaf mau tanya..",
                type="reply",
                payload=REPLY,
                parent_unique_id="android_1",
            ),
        ]
        comments = json.loads(plan_import(records)[-1].data)
        assert comments[1]["ParentCommentUniqueId"] == "android_1"
        assert comments[1]["Payload"] == REPLY

    def test_every_problem_listed(self):
        """One error lists every broken rule of every record."""
        records = [
            *users(ALICE, ALICE),
            ImportUser(BOB, "b", authentication_token="t"),
            ImportUser(CAROL, "c", authentication_token="t"),
            ImportRoom("r1", "", "single", ALICE, [ALICE, BOB, CAROL]),
            ImportRoom("r1", "dup", "group", "ghost@example.com", [ALICE]),
            ImportRoom("r2", "", "single", ALICE, [BOB, CAROL]),
            ImportComment("c1", "r9", ALICE, "x"),
            ImportComment(
                "c2",
                "r1",
                ALICE,
                "x",
                type="reply",
                payload=REPLY,
                parent_unique_id="c3",
            ),
            ImportComment("c3", "r1", ALICE, "x"),
            ImportComment("c3", "r1", "ghost@example.com", "x"),
            ImportComment(
                "c4",
                "r1",
                ALICE,
                "x",
                type="reply",
                payload={"text": "x", "replied_comment_id": 42},
                parent_unique_id="c3",
            ),
        ]
        with pytest.raises(ImportPlanError) as info:
            plan_import(records)
        messages = [(p.index, p.message) for p in info.value.problems]
        assert (1, f"Email {ALICE} is not unique") in messages
        assert (3, "AuthenticationToken is not unique") in messages
        assert (
            4,
            "a single room needs exactly 2 participants including the creator",
        ) in messages
        assert (5, "UniqueId r1 is not unique") in messages
        assert (5, "ghost@example.com is not an imported or existing user") in messages
        assert (
            6,
            "a single room needs exactly 2 participants including the creator",
        ) in messages
        assert (7, "RoomUniqueId r9 is not an imported room") in messages
        assert any(i == 8 and "earlier or existing" in m for i, m in messages)
        assert (10, "UniqueId c3 is not unique") in messages
        assert (
            10,
            "CreatorEmail ghost@example.com is not an imported user",
        ) in messages
        assert any(i == 11 and "replied_comment_id" in m for i, m in messages)
        assert len(str(info.value).splitlines()) == len(messages) + 1

    def test_existing_objects_count(self):
        """Records may refer to users, rooms and comments already on the server."""
        records = [
            ImportRoom("r1", "", "single", ALICE, [ALICE, BOB]),
            ImportComment(
                "c2",
                "r1",
                ALICE,
                "re",
                type="reply",
                payload=REPLY,
                parent_unique_id="old-comment",
            ),
        ]
        chunks = plan_import(
            records, existing_users=[ALICE, BOB], existing_comments=["old-comment"]
        )
        assert [c.resource for c in chunks] == ["rooms", "comments"]

    def test_documented_room_example_is_rejected(self):
        """The document's two example rooms share a UniqueId: caught."""
        with pytest.raises(ImportPlanError, match="not unique"):
            plan_import(
                [
                    *users(ALICE, BOB, CAROL),
                    ImportRoom("f82e5262", "x", "single", ALICE, [ALICE, BOB]),
                    ImportRoom(
                        "f82e5262", "Family", "group", ALICE, [ALICE, BOB, CAROL]
                    ),
                ]
            )

    def test_oversized_record(self):
        """A single record larger than the limit is a listed problem."""
        with pytest.raises(ImportPlanError, match="over the file limit"):
            plan_import([ImportUser(ALICE, "x" * 200)], limit=100)

    def test_bad_records(self):
        """Only import records are accepted."""
        with pytest.raises(TypeError):
            plan_import(["alice"])
        with pytest.raises(InvalidArgumentError):
            plan_import([], limit=1)

    def test_secrets_not_in_repr(self):
        """Import passwords and tokens stay out of repr."""
        user = ImportUser(ALICE, "A", authentication_token="tok", password="pw")
        assert "tok" not in repr(user)
        assert "pw" not in repr(user)


@st.composite
def datasets(draw):
    n_users = draw(st.integers(1, 6))
    emails = [f"u{i}@example.com" for i in range(n_users)]
    records = [ImportUser(e, draw(st.text(max_size=40))) for e in emails]
    n_rooms = draw(st.integers(1, 4))
    rooms = [f"room-{i}" for i in range(n_rooms)]
    records += [
        ImportRoom(
            r,
            draw(st.text(max_size=30)),
            "group",
            emails[0],
            draw(st.lists(st.sampled_from(emails), max_size=4)),
        )
        for r in rooms
    ]
    comments: list[str] = []
    ordered: list = []
    for i in range(draw(st.integers(0, 60))):
        unique = f"c{i}"
        if comments and draw(st.booleans()):
            record = ImportComment(
                unique,
                draw(st.sampled_from(rooms)),
                draw(st.sampled_from(emails)),
                "re",
                type="reply",
                payload=REPLY,
                parent_unique_id=draw(st.sampled_from(comments)),
            )
        else:
            record = ImportComment(
                unique,
                draw(st.sampled_from(rooms)),
                draw(st.sampled_from(emails)),
                draw(st.text(max_size=300)),
            )
        comments.append(unique)
        ordered.append(record)
    # Users and rooms in any order, comments interleaved but in their order
    # (a reply after its parent, as the rules demand).
    mixed = list(draw(st.permutations(records)))
    positions = sorted(
        draw(
            st.lists(
                st.integers(0, len(mixed)), min_size=len(ordered), max_size=len(ordered)
            )
        )
    )
    for offset, (position, record) in enumerate(zip(positions, ordered, strict=True)):
        mixed.insert(position + offset, record)
    # A comment of 300 four-byte characters needs about 1.4 kB.
    return mixed, draw(st.integers(1600, 6000))


class TestChunkingProperties:
    @settings(max_examples=100, deadline=None)
    @given(datasets())
    def test_chunks(self, data):
        """Chunks stay under the limit, keep every record once and in order,
        and never put a reply in an earlier chunk than its parent."""
        records, limit = data
        chunks = plan_import(records, limit=limit)
        assert all(c.size <= limit for c in chunks)
        order = ["users", "rooms", "comments"]
        assert [c.resource for c in chunks] == sorted(
            (c.resource for c in chunks), key=order.index
        )
        seen = {"users": [], "rooms": [], "comments": []}
        chunk_of = {}
        for n, chunk in enumerate(chunks):
            rows = json.loads(chunk.data)
            assert len(rows) == chunk.records > 0
            for row in rows:
                key = row.get("UniqueId") or row.get("Email")
                seen[chunk.resource].append(key)
                chunk_of[key] = n
                if row.get("Type") == "reply":
                    assert chunk_of[row["ParentCommentUniqueId"]] <= n
        for resource, cls, key in (
            ("users", ImportUser, "email"),
            ("rooms", ImportRoom, "unique_id"),
            ("comments", ImportComment, "unique_id"),
        ):
            expected = [getattr(r, key) for r in records if isinstance(r, cls)]
            assert seen[resource] == expected

    def test_real_limit_split(self):
        """4 MB of comments split into several files of at most 4 MB."""
        records = [*users(ALICE), ImportRoom("r", "R", "group", ALICE, [ALICE])]
        records += [ImportComment(f"c{i}", "r", ALICE, "x" * 1000) for i in range(9000)]
        chunks = plan_import(records)
        comment_chunks = [c for c in chunks if c.resource == "comments"]
        assert len(comment_chunks) == 3
        assert all(c.size <= IMPORT_LIMIT for c in comment_chunks)
        assert sum(c.records for c in comment_chunks) == 9000


class TestCompare:
    async def test_same_data_reads_the_same(self):
        """Through one server, both dialects read users and rooms the same."""
        fake = FakeQiscus()
        for user in (ALICE, BOB, CAROL):
            fake.add_user(
                user, user.split("@")[0].title(), avatar_url="https://a.io/x.png"
            )
        group = fake.store.create_room("Team", "group", ALICE, [BOB], options='{"c":1}')
        single = fake.store.create_room("", "single", ALICE, [CAROL])
        kwargs = {"base_url": "http://127.0.0.1", "http_client": fake.http_client()}
        async with (
            QiscusClient(
                fake.app_id, fake.secret_key, api_version="v2", **kwargs
            ) as old,
            QiscusClient(
                fake.app_id, fake.secret_key, api_version="v2.1", **kwargs
            ) as new,
        ):
            report = await compare_dialects(
                old,
                new,
                user_ids=[ALICE, BOB],
                room_ids=[str(group.id), str(single.id)],
                as_user=ALICE,
            )
        assert report.ok, str(report)
        assert report.checked == 4

    async def test_differences_reported(self):
        """Different data behind the two dialects is listed field by field."""
        fake_old, fake_new = FakeQiscus(), FakeQiscus()
        fake_old.add_user(ALICE, "Alice")
        fake_new.add_user(ALICE, "Alice Renamed")
        async with (
            QiscusClient(
                "fake-app",
                "fake-secret",
                api_version="v2",
                base_url="http://127.0.0.1",
                http_client=fake_old.http_client(),
            ) as old,
            QiscusClient(
                "fake-app",
                "fake-secret",
                api_version="v2.1",
                base_url="http://127.0.0.1",
                http_client=fake_new.http_client(),
            ) as new,
        ):
            report = await compare_dialects(old, new, user_ids=[ALICE, BOB])
        assert not report.ok
        [diff] = report.differences
        assert (diff.field, diff.v2, diff.v21) == ("name", "Alice", "Alice Renamed")
        assert sorted(report.missing) == [("user", BOB, "v2"), ("user", BOB, "v2.1")]
        assert "Alice Renamed" in str(report)

    async def test_needs_pinned_clients(self):
        """Both clients must be pinned, one per dialect."""
        async with (
            QiscusClient("a", "s") as auto,
            QiscusClient("a", "s", api_version="v2.1") as new,
        ):
            with pytest.raises(InvalidArgumentError):
                await compare_dialects(auto, new)
