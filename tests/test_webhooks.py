"""Webhooks: parsing the documented deliveries, signatures, and a web app
receiving signed deliveries from the fake server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aioqiscus import Button, Buttons, RoomType, User, webhooks

from .conftest import ALICE, BOB, SAMPLES

TOKEN = "dashboard-signature-token"


def body(name: str) -> bytes:
    return (SAMPLES / "webhooks" / f"{name}.json").read_bytes()


class TestParse:
    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("post_comment_rest", "post_comment_mobile"),
            ("post_comment_v21", "post_comment_mobile"),
            ("post_comment_early", "post_comment"),
        ],
    )
    def test_documented_deliveries(self, name, kind):
        """Every documented delivery parses into sender, room and comment."""
        event = webhooks.parse(body(name))
        assert event.type == kind
        assert event.sender == User(id="user1@gmail.com", name="User1", internal_id=1)
        assert event.room.id == "1"
        assert event.room.type is RoomType.GROUP
        assert event.room.name == "ini grup"
        assert [u.id for u in event.room.participants] == [
            "user1@gmail.com",
            "user2@gmail.com",
        ]
        assert event.comment.message == "ini pesan"
        assert event.comment.type == "text"
        assert event.comment.room_id == "1"
        assert event.from_rest_api is False

    def test_participants_optional(self):
        """Channels come without participants."""
        data = json.loads(body("post_comment_rest"))
        del data["payload"]["room"]["participants"]
        data["type"] = "post_comment_rest"
        event = webhooks.parse(json.dumps(data).encode())
        assert event.room.participants == ()
        assert event.from_rest_api is True

    def test_typed_payload(self):
        """A buttons message arrives with a typed payload."""
        data = json.loads(body("post_comment_rest"))
        data["payload"]["message"] = {
            "type": "buttons",
            "text": "pick",
            "payload": {
                "text": "pick",
                "buttons": [
                    {"label": "Go", "type": "link", "payload": {"url": "https://x.io"}}
                ],
            },
        }
        event = webhooks.parse(json.dumps(data))
        assert event.comment.payload == Buttons(
            "pick", (Button.link("Go", "https://x.io"),)
        )

    def test_identity_and_time_when_present(self):
        """The id, unique_temp_id and timestamp real deliveries add to the
        documented message are read into the comment."""
        data = json.loads(body("post_comment_rest"))
        data["payload"]["message"].update(
            id=1207,
            unique_temp_id="bq1630490400",
            timestamp="2021-09-01T10:00:00Z",
            unix_timestamp=1630490400,
        )
        comment = webhooks.parse(json.dumps(data)).comment
        assert (comment.id, comment.unique_temp_id) == (1207, "bq1630490400")
        assert comment.timestamp == datetime(2021, 9, 1, 10, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("extra", "expected"),
        [
            ({}, None),
            ({"unix_timestamp": 1630490400}, datetime(2021, 9, 1, 10, 0, tzinfo=UTC)),
            (
                {"timestamp": "", "unix_timestamp": 1630490400},
                datetime(2021, 9, 1, 10, 0, tzinfo=UTC),
            ),
            (
                {"timestamp": "0001-01-01T00:00:00Z", "unix_timestamp": -62135596800},
                None,
            ),
            (
                {"timestamp": "2021-09-01T17:00:00+07:00"},
                datetime(2021, 9, 1, 10, 0, tzinfo=UTC),
            ),
        ],
        ids=["absent", "unix", "empty-iso", "zero-time", "offset"],
    )
    def test_time_fallbacks(self, extra, expected):
        """ISO timestamp first, else unix_timestamp; absent or zero is None."""
        data = json.loads(body("post_comment_rest"))
        data["payload"]["message"].update(extra)
        comment = webhooks.parse(json.dumps(data)).comment
        assert comment.timestamp == expected
        assert (comment.id, comment.unique_temp_id) == (None, None)

    @pytest.mark.parametrize(
        "extra",
        [
            {"timestamp": "yesterday"},
            {"timestamp": 1630490400},
            {"unix_timestamp": 10**20},
            {"unix_timestamp": "soon"},
        ],
    )
    def test_malformed_time(self, extra):
        """A time that is not one makes the delivery malformed, typed."""
        data = json.loads(body("post_comment_rest"))
        data["payload"]["message"].update(extra)
        with pytest.raises(webhooks.WebhookError):
            webhooks.parse(json.dumps(data))

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"<html></html>",
            b"[]",
            b'{"type": "room_created", "payload": {}}',
            b'{"type": "post_comment_rest"}',
            b'{"type": "post_comment_rest", "payload": {"from": {}, "room": {}, "message": {}}}',
            b'{"type": "post_comment_rest", "payload": {"from": {"email": "a"}, "room": {"id": 1, "type": "dm"}, "message": {}}}',
            b"\xff\xfe{}",
            b'{"type": "post_comment_rest", "payload": "x"}',
        ],
    )
    def test_malformed(self, raw):
        """Malformed and unknown deliveries raise WebhookError."""
        with pytest.raises(webhooks.WebhookError):
            webhooks.parse(raw)

    @pytest.mark.parametrize(
        ("path", "value", "read", "expected"),
        [
            (("from", "email"), "", lambda e: e.sender.id, "u1"),
            (("from", "email"), 42, lambda e: e.sender.id, "42"),
            (("from", "name"), None, lambda e: e.sender.name, ""),
            (("from", "avatar_url"), "", lambda e: e.sender.avatar_url, None),
            (("from", "id"), "12", lambda e: e.sender.internal_id, 12),
            (("room", "id"), 7, lambda e: (e.room.id, e.comment.room_id), ("7", "7")),
            (("room", "name"), None, lambda e: e.room.name, ""),
            (("room", "type"), "single", lambda e: e.room.type, RoomType.SINGLE),
            (("room", "options"), '{"a": 1}', lambda e: e.room.options, {"a": 1}),
            (("room", "options"), None, lambda e: e.room.options, {}),
            (("room", "participants"), None, lambda e: e.room.participants, ()),
            (("message", "type"), None, lambda e: e.comment.type, "text"),
            (("message", "id"), "99", lambda e: e.comment.id, 99),
            (("message", "text"), None, lambda e: e.comment.message, ""),
            (
                ("message", "unique_temp_id"),
                "",
                lambda e: e.comment.unique_temp_id,
                None,
            ),
        ],
    )
    def test_values_read_through_hooks(self, path, value, read, expected):
        """Values not already of their type are read as the field hooks read them."""
        data = json.loads(body("post_comment_v21"))
        data["payload"]["from"]["user_id"] = "u1"
        data["payload"][path[0]][path[1]] = value
        assert read(webhooks.parse(json.dumps(data).encode())) == expected

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("from", "email"), ["a"]),
            (("from", "name"), 5),
            (("from", "id"), True),
            (("room", "id"), ""),
            (("room", "type"), 1),
            (("room", "participants"), {"a": 1}),
            (("message", "text"), 3),
            (("message", "id"), "x"),
        ],
    )
    def test_wrong_values_are_malformed(self, path, value):
        """A value of the wrong type makes the delivery malformed, typed."""
        data = json.loads(body("post_comment_v21"))
        data["payload"][path[0]][path[1]] = value
        with pytest.raises(webhooks.WebhookError, match="malformed"):
            webhooks.parse(json.dumps(data).encode())

    def test_oversized(self):
        """Bodies over 1 MiB are refused before decoding."""
        with pytest.raises(webhooks.WebhookError, match="limit"):
            webhooks.parse(b" " * (webhooks.MAX_BODY + 1))


class TestSignature:
    def test_valid(self):
        """The hex HMAC-SHA256 of the body verifies (any hex case)."""
        raw = body("post_comment_rest")
        signature = webhooks.sign(raw, TOKEN)
        assert webhooks.verify_signature(raw, signature, TOKEN)
        assert webhooks.verify_signature(raw, signature.upper(), TOKEN)

    @pytest.mark.parametrize(
        ("raw", "signature", "token"),
        [
            (b"tampered", webhooks.sign(b"original", TOKEN), TOKEN),
            (b"original", webhooks.sign(b"original", "other"), TOKEN),
            (b"original", None, TOKEN),
            (b"original", "", TOKEN),
            (b"original", webhooks.sign(b"original", TOKEN), ""),
        ],
    )
    def test_invalid(self, raw, signature, token):
        """Tampered bodies, wrong tokens and missing signatures fail."""
        assert webhooks.verify_signature(raw, signature, token) is False

    def test_known_vector(self):
        """The signature is plain HMAC-SHA256 hex, as documented."""
        assert webhooks.sign(b"hello", "key") == (
            "9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
        )


def receiver() -> tuple[Starlette, list[webhooks.WebhookEvent]]:
    """A FastAPI-style app: verify, parse, act."""
    received: list[webhooks.WebhookEvent] = []

    async def hook(request: Request) -> Response:
        raw = await request.body()
        signature = request.headers.get(webhooks.SIGNATURE_HEADER)
        if not webhooks.verify_signature(raw, signature, TOKEN):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            event = webhooks.parse(raw)
        except webhooks.WebhookError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        received.append(event)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])]), received


class TestDeliveries:
    async def test_fake_delivers_signed_webhooks(self, qiscus_fake, qiscus_client):
        """Comments posted through the API reach the app, signed and typed."""
        app, received = receiver()
        qiscus_fake.deliver_webhooks(
            "http://bot.test/hook", TOKEN, transport=httpx.ASGITransport(app=app)
        )
        qiscus_fake.add_user(ALICE, "Alice")
        qiscus_fake.add_user(BOB, "Bob")
        room = await qiscus_client.create_room("Support", [BOB], ALICE)
        await qiscus_client.post_buttons(
            room.id, BOB, "pick", [Button.link("Docs", "https://docs.example.com")]
        )
        [delivery] = qiscus_fake.webhook_deliveries
        assert delivery.status == 200
        [event] = received
        assert event.type == "post_comment_rest"
        assert event.sender.id == BOB
        assert event.room.id == room.id
        assert isinstance(event.comment.payload, Buttons)

    async def test_tampered_delivery_rejected(self, qiscus_fake, qiscus_client):
        """A delivery altered in transit is rejected with 401."""
        app, received = receiver()
        qiscus_fake.deliver_webhooks(
            "http://bot.test/hook", TOKEN, transport=httpx.ASGITransport(app=app)
        )
        qiscus_fake.add_user(ALICE)
        room = await qiscus_client.create_room("R", [ALICE], ALICE)
        await qiscus_client.post_text(room.id, ALICE, "pay 10")
        [delivery] = qiscus_fake.webhook_deliveries
        tampered = delivery.body.replace(b"pay 10", b"pay 99")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot.test"
        ) as http:
            response = await http.post(
                "/hook",
                content=tampered,
                headers={webhooks.SIGNATURE_HEADER: delivery.signature},
            )
        assert response.status_code == 401
        assert [e.comment.message for e in received] == ["pay 10"]

    async def test_unreachable_receiver_recorded(self, qiscus_fake, qiscus_client):
        """A receiver that cannot be reached is recorded with status 0."""
        qiscus_fake.deliver_webhooks("http://127.0.0.1:9/hook", TOKEN)
        qiscus_fake.add_user(ALICE)
        room = await qiscus_client.create_room("R", [ALICE], ALICE)
        await qiscus_client.post_text(room.id, ALICE, "hi")
        assert [d.status for d in qiscus_fake.webhook_deliveries] == [0]


def test_samples_exist():
    """The webhook samples are present (guards the parametrised tests)."""
    assert len(list(Path(SAMPLES, "webhooks").glob("*.json"))) == 3
