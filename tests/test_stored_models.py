"""Users, rooms and comments stored as JSON and read back: models.to_dict."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import attrs
import pytest

from aioqiscus import (
    AccountLinking,
    Button,
    Buttons,
    Card,
    Carousel,
    CarouselCard,
    ContactPerson,
    Custom,
    FileAttachment,
    InvalidArgumentError,
    Location,
    RawPayload,
    Reply,
    RoomType,
    SystemEventType,
)
from aioqiscus.models import Comment, Room, User, from_dict, to_dict
from aioqiscus.testing import FakeQiscus

from .helpers import in_process

ALICE, BOB = "alice@example.com", "bob@example.com"
LINK = Button.link("Help", "https://bot.example.com/help")
SENT = [
    Buttons("pick", (Button.postback("Go", "https://x.io/go", payload={"a": 1}), LINK)),
    Card(title="Blouse", image_url="https://img.example.com/b.jpg", buttons=(LINK,)),
    Carousel((CarouselCard("A", default_action=LINK, buttons=(LINK,)),)),
    AccountLinking("login", "https://x.io/login", params={"state": "s"}),
    Custom("promo", {"date": "2017-09-09"}),
    Location("Kampus", "Jalan C", -7.78, 110.38),
    ContactPerson("Evan", "evan@qiscus.com", "email"),
    FileAttachment("https://cdn.example.com/f.png", "caption", "f.png", 10, 0),
]


def stored(value):
    """*value* through to_dict, JSON text and from_dict."""
    data = json.loads(json.dumps(to_dict(value)))
    return from_dict(type(value), data)


@pytest.fixture(name="app")
def _app() -> FakeQiscus:
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob")
    return fake


class TestRoundTrip:
    @pytest.mark.parametrize("api_version", ["v2", "v2.1"])
    async def test_comments_of_every_kind(self, app, api_version):
        """Comments read from a server come back equal, payloads and times too."""
        async with in_process(app, api_version) as client:
            room = await client.create_room("Shop", [ALICE], BOB, options={"a": [1]})
            first = await client.post_text(room.id, BOB, "hello")
            for payload in SENT:
                await client.post_comment(room.id, BOB, payload=payload)
            await client.post_comment(room.id, BOB, payload=Reply("yes", first.id))
            await client.post_comment(
                room.id, BOB, "x", payload=RawPayload("poll", {"q": 1})
            )
            await client.post_system_event(
                room.id, SystemEventType.ADD_MEMBER, subject=BOB, objects=[ALICE]
            )
            history = [c async for c in client.iter_comments(room.id)]
            [info] = await client.get_rooms_info(
                [room.id], show_participants=True, as_user=BOB
            )
        assert len(history) == len(SENT) + 4
        assert {type(c.payload) for c in history} >= {RawPayload, Reply, type(None)}
        assert [stored(c) for c in history] == history
        assert stored(info) == info

    def test_json_shape(self):
        """The stored shape: model field names, ISO times, typed payloads."""
        comment = Comment(
            7,
            "1001",
            User(ALICE, "Alice"),
            "",
            "custom",
            Custom("promo", [1]),
            unique_temp_id="u1",
        )
        data = to_dict(comment)
        assert data["payload"] == {
            "type": "custom",
            "data": {"type": "promo", "content": [1]},
        }
        assert data["sender"]["id"] == ALICE
        raw = Comment(8, "1001", User(ALICE), "", "location", RawPayload("location", 1))
        assert to_dict(raw)["payload"] == {"type": "location", "raw": True, "data": 1}
        assert stored(raw) == raw


class TestTokens:
    def test_token_is_left_out(self):
        """to_dict drops a user's token unless asked; include_token keeps it."""
        user = User(
            ALICE,
            "Alice",
            "https://img.example.com/a.png",
            {"plan": "pro"},
            internal_id=3,
            active=True,
            token="s3cret-token",
            created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
        assert "token" not in to_dict(user)
        assert "s3cret-token" not in json.dumps(to_dict(user))
        assert stored(user) == attrs.evolve(user, token=None)
        assert from_dict(User, to_dict(user, include_token=True)) == user

    def test_nested_users_lose_their_tokens_too(self):
        """Participants and senders are stored without their tokens."""
        secret = "s3cret-token"
        room = Room("1", "r", RoomType.GROUP, participants=(User(ALICE, token=secret),))
        comment = Comment(1, "1", User(ALICE, token=secret), "hi")
        assert secret not in json.dumps([to_dict(room), to_dict(comment)])

    def test_attrs_asdict_recipe(self):
        """The documented attrs.asdict filter leaves the token out."""
        user = User(ALICE, "Alice", token="s3cret-token")
        data = attrs.asdict(
            user, filter=attrs.filters.exclude(attrs.fields(User).token)
        )
        assert "token" not in data
        assert "s3cret-token" not in repr(data)


class TestBadInput:
    @pytest.mark.parametrize(
        "data",
        [
            {"name": "no id"},
            {"id": "a", "created_at": "yesterday"},
            {"id": "a", "created_at": 5},
        ],
    )
    def test_malformed_data_raises(self, data):
        """Data that no to_dict gave raises InvalidArgumentError."""
        with pytest.raises(InvalidArgumentError, match="not a stored User"):
            from_dict(User, data)

    def test_malformed_payload_raises(self):
        """A stored payload without a type raises InvalidArgumentError."""
        data = to_dict(Comment(1, "1", User(ALICE), "hi"))
        with pytest.raises(InvalidArgumentError, match="not a stored Comment"):
            from_dict(Comment, {**data, "payload": {"data": {}}})

    def test_other_types_are_refused(self):
        """Only users, rooms and comments are stored."""
        with pytest.raises(InvalidArgumentError, match="to_dict takes"):
            to_dict(object())  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="from_dict builds"):
            from_dict(dict, {})  # type: ignore[type-var]
