"""The fake answers what the documents show, and says why where it adds keys.

Users' own tests rely on the fake's shapes, so each answer is compared with
the reference samples of its endpoint (the document's example and, for
v2.1, the Go SDK's struct in ``tests/samples/v21/gosdk/``): a key the fake
adds that neither shows must be listed in :data:`ADDED` with the reason it
stays, and docs/testing.md lists the same keys.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from aioqiscus._contract._live import Settings, tour
from aioqiscus._contract._shape import diff
from aioqiscus.testing import FakeQiscus, serve

from .conftest import ALICE, BOB, CAROL

SAMPLES = Path(__file__).parent / "samples"
TESTING_DOC = (Path(__file__).parent.parent / "docs" / "testing.md").read_text()
HEADERS = {"QISCUS_SDK_APP_ID": "fake-app", "QISCUS_SDK_SECRET": "fake-secret"}

#: (dialect, endpoint, key path) the fake answers beyond its endpoint's
#: samples, each with why it stays (docs/testing.md says the same).
ADDED: dict[tuple[str, str, str], str] = {
    ("v2", "get_or_create_room_with_target", "results.room.participants[].last_comment_read_id"): "the same room object in update_room shows it",
    ("v2", "get_or_create_room_with_target", "results.room.participants[].last_comment_received_id"): "the same room object in update_room shows it",
    ("v2", "get_rooms_info", "results.rooms_info[].participants"): "asked for with show_participants, as get_user_rooms shows",
    ("v2", "get_rooms_info", "results.rooms_info[].room_avatar_url"): "the same room object in get_user_rooms shows it",
    ("v2", "load_comments", "results.comments[].chat_type"): "one v2 comment shape: search_messages shows it",
    ("v2", "load_comments", "results.comments[].extras"): "the extras sent are echoed; the contract command reports whether a server does",
    ("v2", "load_comments", "results.comments[].payload"): "one v2 comment shape: post_comment shows it",
    ("v2", "load_comments", "results.comments[].topic_id"): "one v2 comment shape: post_comment shows it",
    ("v2", "load_comments", "results.comments[].type"): "one v2 comment shape: post_comment shows it",
    ("v2", "load_comments", "results.comments[].unix_timestamp"): "one v2 comment shape: post_comment shows it",
    ("v2", "load_comments", "results.comments[].user_avatar"): "one v2 comment shape: post_comment shows it",
    ("v2", "load_comments", "results.comments[].user_id"): "one v2 comment shape: post_comment shows it",
    ("v2", "post_comment", "results.comment.chat_type"): "one v2 comment shape: search_messages shows it",
    ("v2", "post_comment", "results.comment.extras"): "the extras sent are echoed; the contract command reports whether a server does",
    ("v2", "post_comment", "results.comment.room_name"): "one v2 comment shape: load_comments shows it",
    ("v2", "post_comment", "results.comment.user_id"): "one v2 comment shape: post_comment shows it",
    ("v2", "post_system_event_message", "results.comment.chat_type"): "one v2 comment shape: search_messages shows it",
    ("v2", "post_system_event_message", "results.comment.room_name"): "one v2 comment shape: load_comments shows it",
    ("v2", "search_messages", "results.comments[].extras"): "the extras sent are echoed; the contract command reports whether a server does",
    ("v2", "login_or_register", "results.user.avatar"): "the same user object in reset_user_token shows it",
    ("v2", "user_profile", "results.user.avatar"): "the same user object in reset_user_token shows it",
    ("v2.1", "get_rooms_info", "results.rooms[].participants"): "asked for with show_participants",
    ("v2.1", "get_user_rooms", "results.rooms[].participants"): "asked for with show_participants",
    ("v2.1", "load_comments_with_range", "status"): "every envelope carries status; the Go SDK's struct just does not read it",
}  # fmt: skip


def _sample_names(dialect: str, endpoint: str) -> list[str]:
    folder = "v2" if dialect == "v2" else "v21"
    names = [f"{folder}/{endpoint}", f"{folder}/gosdk/{endpoint}"]
    found = [n for n in names if (SAMPLES / f"{n}.json").exists()]
    found += sorted(
        f"{folder}/{p.stem}" for p in (SAMPLES / folder).glob(f"{endpoint}_*.json")
    )
    return found


def _without_payloads(doc: Any) -> Any:
    """*doc* with every comment's payload emptied: payloads are the app's data."""
    doc = copy.deepcopy(doc)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "message" in node and "payload" in node:
                node["payload"] = {}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return doc


@pytest.fixture(scope="module", name="answers")
def _answers() -> dict[tuple[str, str], list[Any]]:
    """Every 200 answer of a contract tour of the fake, by dialect and endpoint."""
    fake = FakeQiscus()
    settings = Settings(
        fake.app_id,
        fake.secret_key,
        "",
        "aioqiscus-contract-fidelity",
        loopback_only=True,
    )
    with serve(fake) as url:

        async def run() -> Any:
            with anyio.fail_after(60):
                return await tour(attrs.evolve(settings, base_url=url))

        report = anyio.run(run)
    found: dict[tuple[str, str], list[Any]] = {}
    for i in report.cassette.interactions:
        if i.status == 200 and isinstance(i.response, dict):
            key = (i.dialect, i.path.rsplit("/", 1)[-1])
            found.setdefault(key, []).append(i.response)
    return found


def test_every_added_key_is_documented(answers):
    """Keys beyond the documents are only those ADDED names, each with a reason."""
    added: set[tuple[str, str, str]] = set()
    for (dialect, endpoint), bodies in answers.items():
        names = _sample_names(dialect, endpoint)
        if not names:
            continue  # exports: documented with no example body
        for body in bodies:
            extra: set[str] | None = None
            for name in names:
                sample = json.loads((SAMPLES / f"{name}.json").read_text())
                paths = {
                    f.path
                    for f in diff(_without_payloads(body), _without_payloads(sample))
                    if f.kind == "extra"
                }
                extra = paths if extra is None else extra & paths
            added |= {(dialect, endpoint, p) for p in extra or ()}
    assert sorted(added - set(ADDED)) == []
    assert len(answers) >= 40
    assert sorted(set(ADDED) - added) == []


def _doc_bullets() -> list[str]:
    section = TESTING_DOC.split("### What the fake adds", 1)[1].split("\n## ", 1)[0]
    return [" ".join(b.split()) for b in section.split("\n- ")[1:]]


@pytest.mark.parametrize("key", sorted(ADDED))
def test_added_key_in_docs(key):
    """docs/testing.md names every key the fake adds, under its endpoint."""
    dialect, endpoint, path = key
    leaf = path.rsplit(".", 1)[-1].removesuffix("[]")
    bullet = next(
        (
            b
            for b in _doc_bullets()
            if b.startswith(f"{dialect} ") and f"`{endpoint}`" in b.split(":", 1)[0]
        ),
        "",
    )
    assert f"`{leaf}`" in bullet, (key, bullet)


async def _post(fake: FakeQiscus, path: str, body: dict[str, Any]) -> Any:
    async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
        with anyio.fail_after(5):
            answer = await http.post(path, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


@pytest.fixture(name="fake")
def _fake() -> FakeQiscus:
    fake = FakeQiscus()
    for user in (ALICE, BOB, CAROL):
        fake.add_user(user)
    return fake


async def _in_group(fake: FakeQiscus, path: str, **fields: Any) -> Any:
    """The results of POST *path* about a new group of alice and bob."""
    room = fake.store.create_room("g", "group", ALICE, [ALICE, BOB])
    return await _post(fake, path, {"room_id": str(room.id), **fields})


class TestShapes:
    @pytest.mark.parametrize(
        ("path", "sender", "payload"),
        [
            ("/api/v2/rest/post_comment", {"sender_email": ALICE}, {}),
            ("/api/v2.1/rest/post_comment", {"user_id": ALICE}, None),
        ],
        ids=["v2", "v2.1"],
    )
    async def test_text_payload_as_documented(self, fake, path, sender, payload):
        """A text comment's payload: {} in v2 (qiscus-rest-v2.md), null in v2.1."""
        posted = await _in_group(fake, path, message="hi", **sender)
        assert posted["comment"]["payload"] == payload

    async def test_v2_update_room_options_empty_string(self, fake):
        """v2 update_room answers options "" when unset (qiscus-rest-v2.md)."""
        path = "/api/v2/rest/update_room"
        updated = await _in_group(fake, path, user_email=ALICE, room_name="h")
        assert updated["room"]["options"] == ""

    async def test_v2_target_room_options_null(self, fake):
        """v2 get_or_create_room_with_target answers options null, as documented."""
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            answer = await http.get(
                "/api/v2/rest/get_or_create_room_with_target",
                params={"emails[]": [ALICE, BOB]},
            )
        assert answer.json()["results"]["room"]["options"] is None

    @staticmethod
    async def _custom_event(fake: FakeQiscus, dialect: str, **fields: Any) -> Any:
        """The comment a custom event in a new group of alice and bob answers."""
        path = f"/api/{dialect}/rest/post_system_event_message"
        found = await _in_group(
            fake, path, system_event_type="custom", message="x", **fields
        )
        return found["comment"]

    async def test_v21_custom_event_by_its_subject(self, fake):
        """A v2.1 custom event is posted by a real user, its subject (comment.md)."""
        comment = await self._custom_event(
            fake,
            "v2.1",
            subject_user_id=BOB,
            payload={"type": "add_admin", "admin_user_id": CAROL},
        )
        author = comment["user"]
        assert (author["user_id"], author["username"]) == (
            BOB,
            fake.store.users[BOB].name,
        )

    async def test_v21_custom_event_without_subject_by_creator(self, fake):
        """Without a subject, the room's creator posts it: never a made-up user."""
        comment = await self._custom_event(fake, "v2.1")
        assert comment["user"]["user_id"] == ALICE

    async def test_v2_events_stay_system(self, fake):
        """v2 events stay by system@qiscus.com, as qiscus-rest-v2.md shows."""
        comment = await self._custom_event(
            fake, "v2", subject_email=BOB, payload={"a": 1}
        )
        assert comment["email"] == "system@qiscus.com"
