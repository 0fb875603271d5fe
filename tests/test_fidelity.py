"""Fidelity: no documented field lost, no input narrowed, a fake like the server.

The parse check of ``tests/samples/tools/fidelity.py`` over every sample,
the fields the model gained (``changed``, bundled comments, the v2 roster of
a participant change, paging totals, read receipts, user times, comment room
facts), v2.1 user ids, and the fake's server behaviours: any comment type,
derived texts, ``postback_text``, payload-less custom events, full system
event payloads and extras, users with ``active``/``extras`` everywhere.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import redirect_stdout
from datetime import datetime
from pathlib import Path

import pytest

from aioqiscus import (
    Button,
    Card,
    Dialect,
    ParticipantChange,
    QiscusClient,
    RawPayload,
    RoomType,
    SystemEvent,
    SystemEventType,
    User,
)
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BOB, CAROL, DAVE

TOOL = Path(__file__).parent / "samples" / "tools" / "fidelity.py"
HEADERS = {"QISCUS_SDK_APP_ID": "fake-app", "QISCUS_SDK_SECRET": "fake-secret"}


def test_every_sample_field_reaches_the_model():
    """The rebuildable parse check finds no lost field in any sample."""
    spec = importlib.util.spec_from_file_location("fidelity_check", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # attrs resolves the tool's classes by module
    try:
        spec.loader.exec_module(module)
        out = io.StringIO()
        with redirect_stdout(out):
            status = module.main()
    finally:
        del sys.modules[spec.name]
    summary = out.getvalue().splitlines()[-1]
    assert status == 0, out.getvalue()
    assert summary.endswith(" exact, 0 with lost fields")
    assert int(summary.split()[0]) >= 94


def v21_only(dialect: Dialect) -> None:
    if dialect is Dialect.V2:
        pytest.skip("v2.1 only")


class TestModel:
    async def test_changed(self, env):
        """update_room says whether it changed the room; == ignores it."""
        _, client, _ = env
        room = await client.create_room("Team", [BOB], ALICE)
        renamed = await client.update_room(room.id, name="Team 2", as_user=ALICE)
        again = await client.update_room(room.id, name="Team 2", as_user=ALICE)
        assert (renamed.changed, again.changed) == (True, False)
        assert renamed == again

    async def test_channel_created(self, env):
        """get_or_create_channel's changed tells a new channel from an old one."""
        _, client, dialect = env
        v21_only(dialect)
        created = await client.get_or_create_channel("news", [ALICE], name="News")
        found = await client.get_or_create_channel("news", [ALICE])
        joined = await client.get_or_create_channel("news", [BOB])
        assert (created.changed, found.changed, joined.changed) == (True, False, True)

    async def test_v2_bundles_newest_comments(self, env):
        """v2's target room and update_room carry the newest comments."""
        fake, client, dialect = env
        target = await client.get_or_create_room_with_target([ALICE, BOB])
        assert target.comments == ()
        for text in ("one", "two"):
            fake.add_comment(target.id, BOB, text)
        again = await client.get_or_create_room_with_target([ALICE, BOB])
        if dialect is Dialect.V2_1:
            assert again.comments == ()
            return
        assert [c.message for c in again.comments] == ["two", "one"]
        assert {c.room_id for c in again.comments} == {target.id}
        assert again.comments[0].sender.id == BOB

    async def test_participant_change_room(self, env):
        """v2 answers the roster after a change; v2.1 only the users concerned."""
        _, client, dialect = env
        room = await client.create_room("Ops", [BOB], ALICE)
        added = await client.add_participants(room.id, [CAROL])
        removed = await client.remove_participants(room.id, [BOB])
        assert isinstance(added, ParticipantChange)
        assert [u.id for u in added] == [CAROL]
        assert [u.id for u in removed] == [BOB]
        if dialect is Dialect.V2_1:
            assert (added.room, removed.room) == (None, None)
            return
        assert [u.id for u in added.room.participants] == [ALICE, BOB, CAROL]
        assert [u.id for u in removed.room.participants] == [ALICE, CAROL]
        assert (removed.room.id, removed.room.name) == (room.id, "Ops")
        assert (removed.room.creator, removed.room.type) == (ALICE, RoomType.GROUP)

    async def test_user_list_totals_and_times(self, env):
        """iter_users reads meta totals, user times, active and extras."""
        fake, client, dialect = env
        v21_only(dialect)
        fake.add_user("e@example.com", "Eve", extras={"team": "ops"})
        users = client.iter_users(page_size=2)
        listed = [u async for u in users]
        assert (users.total, users.total_pages, users.pages) == (5, 3, 3)
        eve = listed[-1]
        assert (eve.id, eve.name, eve.extras, eve.active) == (
            "e@example.com",
            "Eve",
            {"team": "ops"},
            True,
        )
        assert isinstance(eve.created_at, datetime)
        assert eve.updated_at is not None
        assert eve.updated_at >= eve.created_at

    async def test_v2_read_receipts(self, env):
        """v2 participants carry what they read and received."""
        fake, client, dialect = env
        room = await client.create_room("Chat", [BOB], ALICE)
        first = fake.add_comment(room.id, ALICE, "hi")
        last = fake.add_comment(room.id, BOB, "hello")
        [info] = await client.get_rooms_info(
            [room.id], as_user=ALICE, show_participants=True
        )
        if dialect is Dialect.V2_1:
            assert {u.last_comment_read_id for u in info.participants} == {None}
            return
        receipts = {
            u.id: (u.last_comment_read_id, u.last_comment_received_id)
            for u in info.participants
        }
        assert receipts == {ALICE: (first, last), BOB: (last, last)}

    async def test_v2_comment_room_facts(self, env):
        """v2 listings and search name each comment's room."""
        _, client, dialect = env
        room = await client.create_room("Desk", [BOB], ALICE)
        await client.post_text(room.id, BOB, "needle")
        [comment] = [c async for c in client.iter_comments(room.id)]
        if dialect is Dialect.V2_1:
            assert (comment.room_name, comment.room_type) == (None, None)
            return
        assert (comment.room_name, comment.room_type) == ("Desk", RoomType.GROUP)
        [found] = await client.search_messages("needle", user_id=BOB)
        assert (found.room_name, found.room_type) == ("Desk", RoomType.GROUP)


class TestUserIds:
    @pytest.mark.parametrize("user_id", ["a+tag@gmail.com", "John Smith", "Zoë 山田"])
    async def test_any_printable_v21_id(self, env, user_id):
        """v2.1 user ids outside [A-Za-z0-9._@-] reach the server and come back."""
        fake, client, _ = env
        user = await client.login_or_register(user_id, "Someone")
        assert user.id == user_id
        assert (await client.get_user(user_id)).id == user_id
        assert user_id in fake.store.users


class TestFakeComments:
    @pytest.mark.parametrize("dialect", ["v2", "v2.1"])
    async def test_any_type_is_stored_as_given(self, dialect):
        """button_postback_response (an app's tap) and unknown types are kept."""
        fake = FakeQiscus(dialects={dialect})
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        async with QiscusClient(
            fake.app_id, fake.secret_key, http_client=fake.http_client()
        ) as client:
            tap = await client.post_comment(
                str(room.id),
                ALICE,
                "Order status",
                payload=RawPayload("button_postback_response", {"order": 7}),
            )
            odd = await client.post_comment(
                str(room.id), ALICE, payload=RawPayload("sticker", {"pack": ["a", 1]})
            )
        assert tap.type == "button_postback_response"
        assert tap.payload == RawPayload("button_postback_response", {"order": 7})
        assert (odd.type, odd.message, odd.payload) == (
            "sticker",
            "",
            RawPayload("sticker", {"pack": ["a", 1]}),
        )
        stored = fake.room(room.id).comments
        assert [c.payload for c in stored] == [{"order": 7}, {"pack": ["a", 1]}]

    async def test_a_payload_string_is_kept(self):
        """Apps sometimes send the tapped payload as a JSON string: kept so."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            answer = await http.post(
                "/api/v2.1/rest/post_comment",
                json={
                    "user_id": ALICE,
                    "room_id": str(room.id),
                    "type": "button_postback_response",
                    "message": "Yes",
                    "payload": '{"answer": "yes"}',
                },
            )
        assert answer.status_code == 200
        assert answer.json()["results"]["comment"]["payload"] == '{"answer": "yes"}'

    @pytest.mark.parametrize("dialect", ["v2", "v2.1"])
    @pytest.mark.parametrize(
        ("kind", "payload", "text"),
        [
            (
                "file_attachment",
                {"url": "https://example.com/a.png", "caption": "Look"},
                "[file] https://example.com/a.png [/file]",
            ),
            ("card", {"title": "Blouse", "text": "Deal"}, "Deal"),
            ("card", {"title": "Blouse"}, "Blouse"),
            (
                "location",
                {
                    "name": "Mirota",
                    "address": "Jalan C 70",
                    "latitude": 1.5,
                    "longitude": 2.5,
                    "map_url": "https://goo.gl/maps/x",
                },
                "Mirota Jalan C 70 https://goo.gl/maps/x",
            ),
            (
                "contact_person",
                {"name": "Evan", "value": "evan@x.io"},
                "Evan - evan@x.io",
            ),
            ("custom", {"type": "promo", "content": 1}, ""),
        ],
    )
    async def test_derived_texts(self, dialect, kind, payload, text):
        """A comment sent without a message gets the text the documents give."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        who = {"v2": "sender_email", "v2.1": "user_id"}[dialect]
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            answer = await http.post(
                f"/api/{dialect}/rest/post_comment",
                json={
                    who: ALICE,
                    "room_id": str(room.id),
                    "type": kind,
                    "payload": payload,
                },
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["results"]["comment"]["message"] == text

    async def test_v21_card_buttons_say_postback_text(self):
        """v2.1 answers every card button with postback_text, "" if unset."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        card = Card(
            title="Blouse",
            buttons=(
                Button.postback("Buy", "https://shop.example.com/buy"),
                Button.link("Help", "https://shop.example.com/help"),
            ),
        )
        async with QiscusClient(
            fake.app_id, fake.secret_key, http_client=fake.http_client()
        ) as client:
            await client.post_card(str(room.id), ALICE, card)
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            v21 = await http.get(f"/api/v2.1/rest/load_comments?room_id={room.id}")
            v2 = await http.get(f"/api/v2/rest/load_comments?room_id={room.id}")
        [answered] = v21.json()["results"]["comments"]
        assert [b["postback_text"] for b in answered["payload"]["buttons"]] == ["", ""]
        [plain] = v2.json()["results"]["comments"]
        assert all("postback_text" not in b for b in plain["payload"]["buttons"])


class TestFakeSystemEvents:
    async def test_custom_without_payload(self, env):
        """A custom event needs no payload, as the Go SDK and n8n send it."""
        fake, client, dialect = env
        room = await client.create_room("G", [BOB], ALICE)
        event = await client.post_system_event(
            room.id, "custom", message="Shift ended", extras={"k": 1}
        )
        [request] = fake.requests("post_system_event_message")
        assert "payload" not in request.body
        assert (event.message, event.type, event.extras) == (
            "Shift ended",
            "system_event",
            {"k": 1},
        )
        if dialect is Dialect.V2:
            assert event.payload is None
            return
        assert event.payload == SystemEvent(SystemEventType.CUSTOM, room_name="G")

    async def test_null_payload_on_the_wire(self):
        """``"payload": null`` is accepted too, in both dialects."""
        fake = FakeQiscus()
        room = fake.store.create_room("G", "group", "x", [])
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            for dialect in ("v2", "v2.1"):
                answer = await http.post(
                    f"/api/{dialect}/rest/post_system_event_message",
                    json={
                        "room_id": str(room.id),
                        "system_event_type": "custom",
                        "message": "hi",
                        "payload": None,
                    },
                )
                assert answer.status_code == 200, answer.text

    async def test_full_payload_and_extras(self, env):
        """v2.1 custom events carry who, whom and the room; extras are kept."""
        _, client, dialect = env
        room = await client.create_room("Support", [BOB], ALICE)
        custom = await client.post_system_event(
            room.id,
            "custom",
            subject=ALICE,
            payload={"type": "add_admin", "admin": BOB},
            extras={"action": "add_admin"},
        )
        joined = await client.post_system_event(
            room.id, "join_room", subject=DAVE, extras={"source": "bot"}
        )
        assert custom.extras == {"action": "add_admin"}
        assert joined.extras == {"source": "bot"}
        assert joined.payload == SystemEvent(
            SystemEventType.JOIN_ROOM,
            subject_id=DAVE,
            subject_name="Dave",
            room_name="Support",
        )
        if dialect is Dialect.V2:
            # v2 echoes the payload as given (qiscus-rest-v2.md).
            assert custom.payload == SystemEvent(
                SystemEventType.CUSTOM, payload={"type": "add_admin", "admin": BOB}
            )
            return
        assert custom.payload == SystemEvent(
            SystemEventType.CUSTOM,
            subject_id=ALICE,
            subject_name="Alice",
            room_name="Support",
            payload={"type": "add_admin", "admin": BOB},
        )


class TestFakeUsers:
    async def test_v2_profile_has_the_token(self):
        """v2 user_profile answers the documented token."""
        fake = FakeQiscus()
        record = fake.add_user(ALICE)
        async with QiscusClient(
            fake.app_id,
            fake.secret_key,
            http_client=fake.http_client(),
            api_version="v2",
        ) as client:
            user = await client.get_user(ALICE)
        assert user.token == record.token
        assert record.token not in repr(user)

    async def test_v21_user_list_has_active_and_extras(self):
        """get_user_list users carry active and extras, as the Go SDK reads."""
        fake = FakeQiscus()
        fake.add_user(ALICE, extras={"type": "agent"})
        fake.store.users[ALICE].active = False
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            answer = await http.get("/api/v2.1/rest/get_user_list")
        [user] = answer.json()["results"]["users"]
        assert (user["active"], user["extras"]) == (False, {"type": "agent"})


def test_user_repr_masks_the_realtime_key():
    """A v2 user's rtKey, kept in extras, never shows in repr."""
    user = User(id="a", extras={"rtKey": "s3cret", "pn_ios_configured": True})
    assert "s3cret" not in repr(user)
    assert "'pn_ios_configured': True" in repr(user)


async def test_listing_stops_early_without_more_requests():
    """Closing a listing early fetches no further page."""
    fake = FakeQiscus(dialects={"v2.1"})
    for i in range(5):
        fake.add_user(f"u{i}@example.com")
    async with QiscusClient(
        fake.app_id, fake.secret_key, http_client=fake.http_client()
    ) as client:
        users = client.iter_users(page_size=2)
        assert repr(users) == "<Listing pages=0 total=None total_pages=None>"
        first = await anext(users)
        await users.aclose()
        assert first.id == "u0@example.com"
        assert (users.total, users.total_pages) == (5, 3)
        assert len(fake.requests("get_user_list")) == 1
        with pytest.raises(StopAsyncIteration):
            await anext(users)
