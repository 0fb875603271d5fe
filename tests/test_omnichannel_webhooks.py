"""Omnichannel rooms and webhooks: typed views, parsers, the URL-token guard.

Deliveries are the samples of ``tests/samples/omnichannel/`` (written from
``omnichannel.md`` section 4), and hostile variants of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aioqiscus.errors import InvalidArgumentError
from aioqiscus.models import RAW_OPTIONS_KEY, Room, RoomType
from aioqiscus.omnichannel import Source, room_info
from aioqiscus.omnichannel.webhooks import (
    AgentAllocationNeeded,
    BotMessage,
    HookGuard,
    NewSession,
    RoomResolved,
    WebhookError,
    parse,
    verify_token,
)

from .conftest import sample

TOKEN = "a-long-url-token-0123456789"


def _body(name: str, **changes: object) -> bytes:
    data = sample(f"omnichannel/{name}")
    data.update(changes)
    return json.dumps(data).encode()


def _room(options: object) -> Room:
    return Room(id="12345", name="Budi", type=RoomType.GROUP, options=options)  # type: ignore[arg-type]


class TestRoomInfo:
    """room_info: the typed view of a room's Omnichannel options."""

    def test_documented_options(self):
        """The decoded options of 4.1 read as typed values."""
        info = room_info(
            _room(
                {
                    "channel": "wa",
                    "channel_details": {
                        "channel_id": 12,
                        "name": "Support WA",
                        "phone": "6281111111",
                    },
                    "is_resolved": False,
                    "is_waiting": True,
                    "source": "wa",
                }
            )
        )
        assert info.channel is Source.WHATSAPP
        assert info.source is Source.WHATSAPP
        assert (info.is_resolved, info.is_waiting, info.is_omnichannel) == (
            False,
            True,
            True,
        )
        assert info.channel_details is not None
        assert info.channel_details.channel_id == "12"
        assert info.channel_details.phone == "6281111111"
        assert info.extras == {}

    def test_unknown_channel_is_kept_as_text(self):
        """A channel the reference does not name stays its text."""
        info = room_info(_room({"channel": "tiktok", "source": "tiktok"}))
        assert (info.channel, info.source) == ("tiktok", "tiktok")

    def test_missing_details_and_string_flags(self):
        """No channel_details is None; older "true"/"false" strings are read."""
        info = room_info(_room({"channel": "line", "is_waiting": "false"}))
        assert info.channel is Source.LINE
        assert info.channel_details is None
        assert info.is_waiting is False
        assert info.is_resolved is None

    def test_options_that_are_not_json(self):
        """Options that were not a JSON object are kept under _raw."""
        info = room_info(_room({RAW_OPTIONS_KEY: "not json {"}))
        assert info.is_omnichannel is False
        assert info.extras == {RAW_OPTIONS_KEY: "not json {"}

    def test_wrong_types_are_kept(self):
        """Options of unforeseen types are None on the view and kept in extras."""
        info = room_info(
            _room({"channel": 7, "is_resolved": "maybe", "channel_details": "x"})
        )
        assert (info.channel, info.is_resolved, info.channel_details) == (
            None,
            None,
            None,
        )
        assert info.extras == {
            "channel": 7,
            "is_resolved": "maybe",
            "channel_details": "x",
        }

    def test_plain_chat_room(self):
        """A Chat SDK room without Omnichannel options says so."""
        info = room_info(_room({"color": "red"}))
        assert info.is_omnichannel is False
        assert info.extras == {"color": "red"}


class TestParse:
    """parse tells the four deliveries apart by their shape."""

    def test_bot_webhook(self):
        """The Chat SDK shape plus app_code and channel; options parsed."""
        event = parse(_body("webhook_bot"))
        assert isinstance(event, BotMessage)
        assert event.app_code == "kovof-123"
        assert event.channel is not None
        assert (event.channel.id, event.channel.source) == ("12", "wa")
        assert event.comment.message == "hello"
        assert event.sender.id == "6281234567890"
        assert event.room.id == "12345"
        assert event.info.channel is Source.WHATSAPP
        assert event.info.is_resolved is False
        assert event.comment.timestamp == datetime(2025, 7, 11, 5, 46, 37, tzinfo=UTC)

    def test_bot_webhook_near_the_size_limit_with_non_ascii_text(self):
        """A body within MAX_BODY stays within it when its Chat SDK part is read
        (the re-encoding neither escapes non-ASCII nor adds spaces)."""
        from aioqiscus.webhooks import MAX_BODY

        data = sample("omnichannel/webhook_bot")
        data["payload"]["message"]["text"] = ""
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        text = "é" * ((MAX_BODY - size - 64) // 2)  # 2 UTF-8 bytes, 6 escaped
        data["payload"]["message"]["text"] = text
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        assert MAX_BODY - 256 <= len(body) <= MAX_BODY
        event = parse(body)
        assert event.comment.message == text

    def test_old_bot_webhook_with_object_options(self):
        """Older deliveries: integer room id, options as an object (5.5)."""
        data = sample("omnichannel/webhook_bot")
        data["payload"]["room"]["id"] = 12345
        data["payload"]["room"]["options"] = {"channel": "wa", "is_waiting": "false"}
        event = parse(json.dumps(data))
        assert isinstance(event, BotMessage)
        assert event.room.id == "12345"
        assert event.info.is_waiting is False

    def test_allocation_webhook(self):
        """Custom agent allocation: the room, candidate agent, latest service."""
        event = parse(_body("webhook_allocation"))
        assert isinstance(event, AgentAllocationNeeded)
        assert (event.room_id, event.app_code, event.source) == (
            "12345",
            "kovof-123",
            "wa",
        )
        assert event.candidate_agent is not None
        assert event.candidate_agent.id == "101"
        assert event.candidate_agent.created_at == datetime(2022, 1, 10, 3, tzinfo=UTC)
        assert "agent-auth-token-1234" not in repr(event)
        assert event.latest_service is not None
        assert event.latest_service.last_comment_id == "720"
        assert event.customer_extras == '{"timezone_offset":7}'
        assert event.extras == {"app_id": "kovof-123"}

    def test_resolved_webhook(self):
        """Mark as resolved: service, who resolved, the customer."""
        event = parse(_body("webhook_resolved"))
        assert isinstance(event, RoomResolved)
        assert event.room_id == "12345"
        assert event.resolved_by is not None
        assert (event.resolved_by.id, event.resolved_by.type) == ("101", "agent")
        assert event.customer is not None
        assert event.customer.user_id == "6281234567890"
        assert event.service.extras == {"source": "wa"}

    @pytest.mark.parametrize(
        ("name", "key", "attr"),
        [
            ("webhook_bot", "channel", "channel"),
            ("webhook_resolved", "resolved_by", "resolved_by"),
        ],
    )
    def test_nested_value_not_an_object_is_kept(self, name, key, attr):
        """A nested object sent as another type is None, kept in extras."""
        event = parse(_body(name, **{key: "Support WA"}))
        assert getattr(event, attr) is None
        assert event.extras[key] == "Support WA"
        absent = parse(_body(name, **{key: None}))
        assert getattr(absent, attr) is None
        assert key not in absent.extras

    def test_resolved_webhook_int_comment_id(self):
        """ADI's integer last_comment_id reads as its text (5.4)."""
        data = sample("omnichannel/webhook_resolved")
        data["service"]["last_comment_id"] = 790
        event = parse(json.dumps(data))
        assert isinstance(event, RoomResolved)
        assert event.service.last_comment_id == "790"

    def test_new_session_webhook(self):
        """New session: the message, the room log (zone-less time as UTC)."""
        event = parse(_body("webhook_new_session"))
        assert isinstance(event, NewSession)
        assert event.is_new_session is True
        assert event.room_id == "12345"
        assert event.event is not None
        assert event.event.comment.message == "hi"
        assert event.info is not None
        assert event.info.is_waiting is True
        assert event.room_log is not None
        assert event.room_log.created_at == datetime(2022, 11, 30, 2, 10, 2, tzinfo=UTC)
        assert event.extras == {"webhook_type": "NEW_SESSION_WEBHOOK"}

    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"not json",
            b"[1, 2]",
            b'{"hello": "world"}',
            b'{"type": "post_comment_mobile", "payload": {"room": 1}}',
            b'{"service": 5, "resolved_by": {}}',
            b'{"room_id": {"x": 1}, "app_id": "a"}',
            b"{" * 100_000,
            b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        ],
    )
    def test_bad_deliveries_raise_webhook_error(self, body):
        """Anything else is a WebhookError, never another exception."""
        with pytest.raises(WebhookError):
            parse(body)


class TestGuard:
    """The URL token and source allow-list of unsigned hooks."""

    def test_verify_token(self):
        """The right token passes; a wrong, missing or short one does not."""
        assert verify_token(TOKEN, TOKEN)
        assert not verify_token(TOKEN + "x", TOKEN)
        assert not verify_token(None, TOKEN)
        assert not verify_token("short", "short")
        assert not verify_token("é" * 20, TOKEN)

    def test_guard_with_sources(self):
        """With an allow-list, the token and the source must both pass."""
        guard = HookGuard(TOKEN, allowed_sources=["203.0.113.0/24", "::1"])
        assert guard.allows(TOKEN, "203.0.113.9")
        assert guard.allows(TOKEN, "::1")
        assert not guard.allows(TOKEN, "198.51.100.1")
        assert not guard.allows(TOKEN, None)
        assert not guard.allows(TOKEN, "not an address")
        assert not guard.allows("wrong-token-0123456789", "203.0.113.9")
        assert guard.allows_url_query([("token", TOKEN)], "203.0.113.9")
        assert not guard.allows_url_query([("other", TOKEN)], "203.0.113.9")
        assert TOKEN not in repr(guard)

    def test_guard_without_sources(self):
        """Without an allow-list, any source with the token passes."""
        assert HookGuard(TOKEN).allows(TOKEN)

    def test_short_token_refused(self):
        """A guessable token is refused when the guard is built."""
        with pytest.raises(InvalidArgumentError):
            HookGuard("short")


def test_nested_objects_of_another_type_are_kept():
    """A candidate_agent or latest_service that is not an object stays in extras."""
    data = sample("omnichannel/webhook_allocation")
    data["candidate_agent"] = "agent-101"
    data["latest_service"] = [1]
    event = parse(json.dumps(data))
    assert isinstance(event, AgentAllocationNeeded)
    assert (event.candidate_agent, event.latest_service) == (None, None)
    assert event.extras["candidate_agent"] == "agent-101"
    assert event.extras["latest_service"] == [1]
