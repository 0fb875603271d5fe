"""Comments: sample-driven parsing in both dialects, and the requests sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import anyio
import cattrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioqiscus import (
    AccountLinking,
    AmbiguousSendError,
    Button,
    Buttons,
    Card,
    Carousel,
    Custom,
    FileAttachment,
    InvalidArgumentError,
    QiscusClient,
    RawPayload,
    ResponseShapeError,
    SystemEvent,
    SystemEventType,
    UnsupportedOperationError,
    User,
)
from aioqiscus._reconcile import Reconciler, marker_time
from aioqiscus.dialects import payload_to_wire, v2, v21
from aioqiscus.dialects._common import MARKER_KEY

from .conftest import sample

AUTHOR = {"user_id": "a"}


def results(name):
    return sample(name)["results"]


class TestV2Parsing:
    def test_post_comment_account_linking(self):
        """The flat v2 comment: sender from email/username/avatar, typed payload."""
        comment = v2.parse_comment(results("v2/post_comment")["comment"])
        assert comment.id == 3
        assert comment.room_id == "1"
        assert comment.sender == User(
            id="asasmoyo@outlook.com",
            name="asasmoyo",
            avatar_url="https://qiscuss3.s3.amazonaws.com/uploads/55c0c6ee486be6b686d52e5b9bbedbbf/2.png",
        )
        assert comment.type == "account_linking"
        assert isinstance(comment.payload, AccountLinking)
        assert comment.timestamp == datetime(2017, 2, 27, 10, 30, 9, tzinfo=UTC)
        assert comment.unique_temp_id == "8I4NUxHkMCut7c1ijJLt"
        assert comment.comment_before_id == 2

    def test_early_post_comment(self):
        """The early revision's comment has no type: it is text."""
        comment = v2.parse_comment(results("v2/post_comment_early")["comment"], "7")
        assert comment.type == "text"
        assert comment.payload is None
        assert comment.room_id == "7"
        assert comment.sender.id == "f1@gmail.com"
        assert comment.timestamp == datetime(2016, 9, 6, 16, 18, 50, tzinfo=UTC)

    @pytest.mark.parametrize("name", ["v2/load_comments", "v2/load_comments_early"])
    def test_load_comments(self, name):
        """Both revisions' history parse, newest first, with string room ids."""
        page = v2.list_comments("234", 1, 20).parse(results(name))
        assert [c.id for c in page.items] == [124974, 124973]
        assert {c.room_id for c in page.items} == {"234"}
        assert page.has_more is False

    def test_system_event(self):
        """A join_room system event is typed."""
        comment = v2.parse_comment(results("v2/post_system_event_message")["comment"])
        assert comment.type == "system_event"
        assert comment.payload == SystemEvent(
            SystemEventType.JOIN_ROOM,
            subject_id="yusuf@kiwari.id",
            subject_name="Yusuf",
            room_name="Test Group",
        )
        assert comment.sender.name == "System"
        assert comment.sender.internal_id == 2905

    def test_search(self):
        """search_messages answers v2 comments with a null payload."""
        [comment] = v2.search_messages("u", "support", None).parse(
            results("v2/search_messages")
        )
        assert comment.message == "Support integration"
        assert comment.room_id == "1275"
        assert comment.payload is None
        assert comment.sender.avatar_url.endswith("fsx7ueheeavclilc5djl.jpg")

    def test_target_room_comments_parse(self):
        """Comments embedded in room answers parse too."""
        data = results("v2/update_room")["comments"][0]
        comment = v2.parse_comment(data, "18")
        assert comment.sender.avatar_url == "http://imagebucket.com/image.jpg"


class TestV21Parsing:
    def test_text(self):
        """v2.1 comments nest the sender; room_id comes from the request."""
        comment = v21.parse_comment(results("v21/post_comment_text")["comment"], "457")
        assert comment.id is None
        assert comment.room_id == "457"
        assert comment.sender == User(
            id="guest@qiscus.com",
            name="Qiscus Demo",
            avatar_url="http://myimage.com/image.jpg",
        )
        assert comment.message == "this is new message"
        assert comment.payload is None

    @pytest.mark.parametrize(
        ("name", "cls"),
        [
            ("v21/post_comment_buttons", Buttons),
            ("v21/post_comment_card", Card),
            ("v21/post_comment_carousel", Carousel),
            ("v21/post_comment_custom", Custom),
            ("v21/post_comment_file_attachment", FileAttachment),
        ],
    )
    def test_typed_payloads(self, name, cls):
        """Every documented v2.1 comment type parses into its payload class."""
        comment = v21.parse_comment(results(name)["comment"], "457")
        assert isinstance(comment.payload, cls)

    def test_card_buttons_with_postback_text(self):
        """A v2.1 card's buttons keep their postback_text."""
        comment = v21.parse_comment(results("v21/post_comment_card")["comment"])
        assert comment.payload.buttons[0] == Button.postback(
            "button1", "http://somewhere.com/button1"
        )
        assert comment.payload.image_url == "http://url.com/gambar.jpg"

    def test_load_comments(self):
        """History parses with senders."""
        page = v21.list_comments("457", 1, 20).parse(results("v21/load_comments"))
        assert [c.sender.name for c in page.items] == ["Liu Kang", "Sonya"]
        assert [c.room_id for c in page.items] == ["457", "457"]

    def test_system_event_custom(self):
        """v2.1 nests a custom system event's payload."""
        comment = v21.parse_comment(results("v21/post_system_event_message")["comment"])
        assert comment.payload == SystemEvent(
            SystemEventType.CUSTOM,
            payload={"admin_user_id": "admin@email.com", "type": "add_admin"},
        )

    def test_marker_moves_from_extras(self):
        """Our send marker is read from extras and removed from them."""
        data = {
            "id": 9,
            "message": "hi",
            "type": "text",
            "extras": json.dumps({MARKER_KEY: "m-1", "mine": True}),
            "user": {"user_id": "a", "username": "A"},
        }
        comment = v21.parse_comment(data, "1")
        assert comment.unique_temp_id == "m-1"
        assert comment.extras == {"mine": True}

    def test_unknown_type_degrades(self):
        """An unknown comment type keeps its payload raw."""
        data = {
            "message": "",
            "type": "poll",
            "payload": {"q": 1},
            "user": {"user_id": "a"},
        }
        assert v21.parse_comment(data).payload == RawPayload("poll", {"q": 1})

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (None, "expected a comment object"),
            ([], "expected a comment object"),
            ({"type": "text", "user": AUTHOR}, "KeyError: 'message'"),
            ({"message": 5, "user": AUTHOR}, "expected a string"),
            ({"message": "x", "type": 3, "user": AUTHOR}, "type must be a string"),
            ({"message": "x", "user": {"username": "no id"}}, "user"),
            ({"message": "x", "timestamp": "yesterday", "user": AUTHOR}, "yesterday"),
            ({"message": "x", "extras": "not json", "user": AUTHOR}, "JSON object"),
            ({"message": "x", "id": "abc", "user": AUTHOR}, "abc"),
            ({"message": "x"}, "comment without its author ('user')"),
            ({"message": "x", "user": None}, "comment without its author ('user')"),
        ],
    )
    def test_malformed(self, data, reason):
        """Malformed comments raise ResponseShapeError saying what is wrong."""
        with pytest.raises(ResponseShapeError, match=re.escape(reason)):
            v21.parse_comment(data)


class TestSender:
    """Comment.sender is a User in both dialects, never None."""

    @pytest.mark.parametrize(
        ("dialect", "author"),
        [
            (v2, {"email": "a@x.io", "username": "A"}),
            (v21, {"user": {"user_id": "a@x.io", "username": "A"}}),
        ],
    )
    def test_sender_is_a_user(self, dialect, author):
        """The author's fields become the sender, whatever the dialect."""
        comment = dialect.parse_comment({"message": "hi", "id": 7, **author}, "1")
        assert (comment.sender.id, comment.sender.name, comment.id) == (
            "a@x.io",
            "A",
            7,
        )

    @pytest.mark.parametrize(
        ("dialect", "key", "author"),
        [
            (v2, "email", {}),
            (v2, "email", {"email": ""}),
            (v2, "email", {"email": None, "username": "A"}),
            (v21, "user", {}),
            (v21, "user", {"user": None}),
        ],
    )
    def test_comment_without_author_is_malformed(self, dialect, key, author):
        """A comment naming no author is a ResponseShapeError, not sender=None."""
        with pytest.raises(
            ResponseShapeError, match=f"without its author \\('{key}'\\)"
        ):
            dialect.parse_comment({"message": "hi", **author}, "1")


class TestPages:
    """A page is read with each distinct sender structured once."""

    @pytest.mark.parametrize(
        ("codec", "name"),
        [
            (v2, "v2/load_comments"),
            (v2, "v2/load_comments_early"),
            (v2, "v2/search_messages"),
            (v21, "v21/load_comments"),
            (v21, "v21/gosdk/load_comments"),
            (v21, "v21/load_comments_with_range"),
        ],
    )
    def test_page_reads_as_comment_by_comment(self, codec, name):
        """Every documented listing reads to the models its comments read to alone."""
        found = results(name)["comments"]
        page = list(codec.list_comments("457", 1, 20).parse({"comments": found}).items)
        assert page == [codec.parse_comment(d, "457") for d in found]
        assert repr(page) == repr([codec.parse_comment(d, "457") for d in found])

    def v21_page(self, *users):
        return {
            "comments": [
                {"id": i, "message": f"m{i}", "type": "text", "user": user}
                for i, user in enumerate(users)
            ]
        }

    def test_one_user_per_sender(self):
        """Comments by one sender share one User; another sender gets its own."""
        alice = {"user_id": "a", "username": "Alice", "extras": {"k": [1]}}
        bob = {"user_id": "b", "username": "Bob"}
        page = v21.list_comments("1", 1, 20).parse(
            self.v21_page(alice, bob, dict(alice))
        )
        first, second, third = (c.sender for c in page.items)
        assert first is third
        assert first == User(id="a", name="Alice", extras={"k": [1]})
        assert second == User(id="b", name="Bob")

    def test_changed_sender_is_read_again(self):
        """The same id with other details (a renamed user) reads as sent."""
        page = v21.list_comments("1", 1, 20).parse(
            self.v21_page(
                {"user_id": "a", "username": "Alice"},
                {"user_id": "a", "username": "Alice B."},
            )
        )
        assert [c.sender.name for c in page.items] == ["Alice", "Alice B."]

    @pytest.mark.parametrize(
        "second",
        [
            {"user_id": "a", "username": "A", "active": 1},
            {"username": "A", "user_id": "a", "active": True},
        ],
    )
    def test_equal_is_not_the_same_document(self, second):
        """``true == 1`` in Python: a sender equal but typed otherwise is read
        again (and refused), and another key order is read again."""
        first = {"user_id": "a", "username": "A", "active": True}
        call = v21.list_comments("1", 1, 20)
        if second["active"] is True:
            page = call.parse(self.v21_page(first, second))
            assert page.items[0].sender is not page.items[1].sender
            assert page.items[0].sender == page.items[1].sender
        else:
            with pytest.raises(ResponseShapeError):
                call.parse(self.v21_page(first, second))

    def test_v2_flat_senders(self):
        """v2 senders, flat in each comment, are shared too, and typed strictly."""
        one = {"email": "a@x.com", "username": "A", "user_id": 1, "message": "m"}
        page = v2.list_comments("1", 1, 20).parse({"comments": [one, dict(one)]})
        assert page.items[0].sender is page.items[1].sender
        assert page.items[0].sender.internal_id == 1
        with pytest.raises(ResponseShapeError):
            v2.list_comments("1", 1, 20).parse(
                {"comments": [one, {**one, "user_id": True}]}
            )


AUTHOR_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=5)
    | st.floats(allow_nan=False)
    | st.sampled_from(["", "a", "https://x.io/a.png", '{"k": 1}', "[1]"])
    | st.dictionaries(st.sampled_from(["k", "type"]), st.integers() | st.none())
    | st.lists(st.integers(), max_size=2)
)


class TestAuthor:
    """A v2.1 comment's author, read by hand, reads as the converter reads it."""

    @settings(max_examples=500, deadline=None)
    @given(
        st.dictionaries(
            st.sampled_from(["user_id", "username", "avatar_url", "active", "extras"]),
            AUTHOR_VALUES,
        )
    )
    def test_same_as_the_converter(self, data):
        """Same user, or a failure, for any author of the usual keys."""

        def outcome(read):
            try:
                return read(data)
            except (TypeError, ValueError, KeyError, cattrs.BaseValidationError):
                return "refused"

        assert outcome(v21._sender) == outcome(
            lambda d: v21._shapes.hook(User)(d, User)
        )

    @pytest.mark.parametrize(
        "name",
        ["v21/load_comments", "v21/gosdk/load_comments", "v21/gosdk/post_comment"],
    )
    def test_documented_authors(self, name):
        """Every documented author reads alike both ways."""
        data = sample(name)["results"]
        found = data.get("comments") or [data["comment"]]
        for comment in found:
            author = comment["user"]
            assert v21._sender(author) == v21._shapes.hook(User)(author, User)


def body(route):
    return json.loads(route.calls.last.request.content)


class TestRequests:
    def test_post_comment_bodies_in_order(self):
        """Each send body holds its fields in one order: the same bytes every time."""
        card = Card(text="t", title="T", url="https://example.com")
        wire = {d: payload_to_wire(card, d) for d in (v2.DIALECT, v21.DIALECT)}
        cases = [
            (
                v21.post_comment("1", "a", "m", "text", None, None, "x", False),
                [
                    ("user_id", "a"),
                    ("room_id", "1"),
                    ("message", "m"),
                    ("type", "text"),
                    ("extras", {MARKER_KEY: "x"}),
                    ("unique_temp_id", "x"),
                ],
            ),
            (
                v21.post_comment("1", "a", "", "card", card, {"k": 1}, "x", True),
                [
                    ("user_id", "a"),
                    ("room_id", "1"),
                    ("message", "t"),
                    ("type", "card"),
                    ("payload", wire[v21.DIALECT]),
                    ("extras", {"k": 1, MARKER_KEY: "x"}),
                    ("unique_temp_id", "x"),
                    ("disable_link_preview", True),
                ],
            ),
            (
                v21.post_comment(
                    "1", "a", "m", "text", None, {}, "x", False, marker_in_extras=False
                ),
                [
                    ("user_id", "a"),
                    ("room_id", "1"),
                    ("message", "m"),
                    ("type", "text"),
                    ("extras", {}),
                    ("unique_temp_id", "x"),
                ],
            ),
            (
                v2.post_comment("1", "a", "m", "text", None, None, "x", False),
                [
                    ("sender_email", "a"),
                    ("room_id", "1"),
                    ("message", "m"),
                    ("type", "text"),
                    ("unique_temp_id", "x"),
                    ("disable_link_preview", False),
                ],
            ),
            (
                v2.post_comment("1", "a", "", "card", card, {"k": 1}, "x", True),
                [
                    ("sender_email", "a"),
                    ("room_id", "1"),
                    ("message", "t"),
                    ("type", "card"),
                    ("payload", wire[v2.DIALECT]),
                    ("unique_temp_id", "x"),
                    ("disable_link_preview", True),
                    ("extras", {"k": 1}),
                ],
            ),
        ]
        for call, expected in cases:
            assert call.request.json is not None
            assert list(call.request.json.items()) == expected

    async def test_v21_post_buttons(self, mock):
        """v2.1 sends user_id, the payload and the marker in extras."""
        route = mock.post("/api/v2.1/rest/post_comment").respond(
            json=sample("v21/post_comment_buttons")
        )
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            comment = await client.post_buttons(
                "457",
                "guest@qiscus.com",
                "silahkan pencet",
                [Button.postback("button1", "http://somewhere.com/button1")],
                extras={"mine": 1},
            )
        sent = body(route)
        marker = sent["extras"][MARKER_KEY]
        assert sent == {
            "user_id": "guest@qiscus.com",
            "room_id": "457",
            "message": "silahkan pencet",
            "type": "buttons",
            "payload": {
                "text": "silahkan pencet",
                "buttons": [
                    {
                        "label": "button1",
                        "type": "postback",
                        "payload": {
                            "url": "http://somewhere.com/button1",
                            "method": "get",
                            "payload": None,
                        },
                    }
                ],
            },
            "extras": {"mine": 1, MARKER_KEY: marker},
            "unique_temp_id": marker,
        }
        assert comment.room_id == "457"
        assert isinstance(comment.payload, Buttons)

    async def test_v2_post_card(self, mock):
        """v2 sends sender_email, unique_temp_id and the card's image_url."""
        route = mock.post("/api/v2/rest/post_comment").respond(
            json=sample("v2/post_comment")
        )
        async with QiscusClient("a", "s", api_version="v2") as client:
            await client.post_card(
                "1",
                "a@x.io",
                Card(title="T", image_url="https://i.io/a.png"),
                unique_temp_id="my-id",
            )
        assert body(route) == {
            "sender_email": "a@x.io",
            "room_id": "1",
            "message": "T",
            "type": "card",
            "payload": {
                "text": "",
                "title": "T",
                "description": "",
                "buttons": [],
                "image_url": "https://i.io/a.png",
            },
            "unique_temp_id": "my-id",
            "disable_link_preview": False,
        }

    async def test_load_comments_query(self, mock):
        """load_comments is GET with room_id, page and limit."""
        route = mock.get("/api/v2.1/rest/load_comments").respond(
            json=sample("v21/load_comments")
        )
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            comments = [c async for c in client.iter_comments("457", page_size=5)]
        assert len(comments) == 2
        assert list(route.calls.last.request.url.params.multi_items()) == [
            ("room_id", "457"),
            ("page", "1"),
            ("limit", "5"),
        ]

    @pytest.mark.parametrize(
        ("version", "expected"),
        [
            (
                "v2",
                {
                    "system_event_type": "add_member",
                    "room_id": "1",
                    "subject_email": "a@x.io",
                    "object_email": ["b@x.io"],
                },
            ),
            (
                "v2.1",
                {
                    "system_event_type": "add_member",
                    "room_id": "1",
                    "subject_user_id": "a@x.io",
                    "object_user_id": "b@x.io",
                },
            ),
        ],
    )
    async def test_system_event_bodies(self, mock, version, expected):
        """System events name people by email (v2) or user_id (v2.1)."""
        path = "v2" if version == "v2" else "v2.1"
        route = mock.post(f"/api/{path}/rest/post_system_event_message").respond(
            json=sample("v2/post_system_event_message")
            if version == "v2"
            else sample("v21/post_system_event_message")
        )
        async with QiscusClient("a", "s", api_version=version) as client:
            await client.post_system_event(
                "1", SystemEventType.ADD_MEMBER, subject="a@x.io", objects=["b@x.io"]
            )
        assert body(route) == expected

    async def test_search_v2(self, mock):
        """search_messages is POST with user_email and query."""
        route = mock.post("/api/v2/rest/search_messages").respond(
            json=sample("v2/search_messages")
        )
        async with QiscusClient("a", "s", api_version="v2") as client:
            found = await client.search_messages(
                "support", user_id="evan@qiscus.com", room_id="1275"
            )
        assert body(route) == {
            "user_email": "evan@qiscus.com",
            "query": "support",
            "room_id": "1275",
        }
        assert len(found) == 1

    async def test_search_pinned_v21_unsupported(self, mock):
        """Pinned to v2.1, search is refused before any request."""
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            with pytest.raises(UnsupportedOperationError, match="auto"):
                await client.search_messages("q", user_id="u")
        assert len(mock.calls) == 0

    async def test_reconcile_finds_landed_send(self, mock):
        """After a dropped answer, the comment found by marker is returned."""
        post = mock.post("/api/v2.1/rest/post_comment").mock(
            side_effect=httpx.ReadError("dropped")
        )

        def history(request):
            marker = json.loads(post.calls.last.request.content)["unique_temp_id"]
            found = {
                "id": 77,
                "message": "hi",
                "type": "text",
                "extras": {MARKER_KEY: marker},
                "user": {"user_id": "a"},
            }
            return httpx.Response(
                200, json={"status": 200, "results": {"comments": [found]}}
            )

        load = mock.get("/api/v2.1/rest/load_comments").mock(side_effect=history)
        async with QiscusClient(
            "a", "s", api_version="v2.1", reconcile_delay=0
        ) as client:
            comment = await client.post_text("1", "a", "hi")
        assert comment.id == 77
        assert post.call_count == 1
        assert load.call_count == 1

    async def test_reconcile_resends_once_when_absent(self, mock):
        """If the marker is absent, the send is repeated once with the same marker."""
        post = mock.post("/api/v2.1/rest/post_comment").mock(
            side_effect=[
                httpx.Response(502),
                httpx.Response(200, json=sample("v21/post_comment_text")),
            ]
        )
        mock.get("/api/v2.1/rest/load_comments").respond(
            json={"status": 200, "results": {"comments": []}}
        )
        async with QiscusClient(
            "a", "s", api_version="v2.1", reconcile_delay=0
        ) as client:
            await client.post_text("1", "a", "hi")
        markers = [json.loads(c.request.content)["unique_temp_id"] for c in post.calls]
        assert len(markers) == 2
        assert markers[0] == markers[1]

    async def test_unresolved_raises_with_marker(self, mock):
        """Two ambiguous failures and no trace: AmbiguousSendError with the marker."""
        mock.post("/api/v2.1/rest/post_comment").mock(
            side_effect=httpx.ReadTimeout("slow")
        )
        mock.get("/api/v2.1/rest/load_comments").respond(
            json={"status": 200, "results": {"comments": []}}
        )
        async with QiscusClient(
            "a", "s", api_version="v2.1", reconcile_delay=0.01
        ) as client:
            with pytest.raises(AmbiguousSendError) as info:
                await client.post_text("1", "a", "hi", unique_temp_id="m-42")
        assert info.value.marker == "m-42"

    async def test_grace_before_lookup_after_timeout(self, mock):
        """After a timeout the lookup waits reconcile_delay; the late comment is found."""
        post = mock.post("/api/v2.1/rest/post_comment").mock(
            side_effect=httpx.ReadTimeout("slow")
        )
        started = anyio.current_time()
        seen_at = []

        def history(request):
            seen_at.append(anyio.current_time() - started)
            marker = json.loads(post.calls.last.request.content)["unique_temp_id"]
            found = {
                "id": 5,
                "message": "hi",
                "type": "text",
                "extras": {MARKER_KEY: marker},
                "user": {"user_id": "a"},
            }
            return httpx.Response(
                200, json={"status": 200, "results": {"comments": [found]}}
            )

        mock.get("/api/v2.1/rest/load_comments").mock(side_effect=history)
        async with QiscusClient(
            "a", "s", api_version="v2.1", reconcile_delay=0.2
        ) as client:
            comment = await client.post_text("1", "a", "hi")
        assert comment.id == 5
        assert seen_at[0] >= 0.2
        assert post.call_count == 1

    def test_default_grace_is_read_timeout(self):
        """By default the grace period is the read timeout."""
        client = QiscusClient("a", "s", timeout=httpx.Timeout(7.0, connect=1.0))
        assert client.reconcile_delay == 7.0

    async def test_raise_policy(self, mock):
        """on_ambiguous='raise' raises at once, without looking or resending."""
        post = mock.post("/api/v2.1/rest/post_comment").respond(504)
        load = mock.get("/api/v2.1/rest/load_comments")
        async with QiscusClient(
            "a", "s", api_version="v2.1", ambiguous_sends="raise"
        ) as client:
            with pytest.raises(AmbiguousSendError) as info:
                await client.post_text("1", "a", "hi")
        assert info.value.marker.startswith("aioqiscus-")
        assert post.call_count == 1
        assert load.call_count == 0

    @pytest.mark.parametrize("at", [0.0, 0.035, 0.036, 1_765_432_100.123])
    def test_marker_holds_its_mint_time(self, at):
        """A marker minted at *at* reads back as *at*, to the millisecond."""
        marker = Reconciler(1.0).marker(at)
        assert re.fullmatch(r"aioqiscus-[0-9a-f]{16}-[0-9a-z]+-1", marker)
        assert marker_time(marker) == datetime.fromtimestamp(int(at * 1000) / 1000, UTC)

    async def test_marker_minted_at_the_send(self, mock):
        """The marker of a send holds its start: the look-up reads back to it."""
        mock.post("/api/v2.1/rest/post_comment").respond(504)
        async with QiscusClient(
            "a", "s", api_version="v2.1", ambiguous_sends="raise"
        ) as client:
            with pytest.raises(AmbiguousSendError) as info:
                await client.post_text("1", "a", "hi")
        minted = marker_time(info.value.marker)
        assert minted is not None
        assert abs(minted - info.value.sent_at) < timedelta(milliseconds=1)

    async def test_lookup_failure_is_ambiguous(self, mock):
        """If looking for the send fails, the error says so and keeps the marker."""
        mock.post("/api/v2.1/rest/post_comment").mock(side_effect=httpx.ReadError("x"))
        mock.get("/api/v2.1/rest/load_comments").respond(500)
        async with QiscusClient(
            "a", "s", api_version="v2.1", reconcile_delay=0
        ) as client:
            with pytest.raises(
                AmbiguousSendError, match="looking for it failed"
            ) as info:
                await client.post_text("1", "a", "hi", unique_temp_id="m-1")
        assert info.value.marker == "m-1"


class TestBadInput:
    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (lambda c: c.post_comment("1", "a"), InvalidArgumentError),
            (lambda c: c.post_comment("1", "a", "   "), InvalidArgumentError),
            (
                lambda c: c.post_comment("1", "a", "x", type="buttons"),
                InvalidArgumentError,
            ),
            (lambda c: c.post_comment("1", "a", "x", payload={"text": "x"}), TypeError),
            (
                lambda c: c.post_comment("1", "a", payload=Custom("p"), type="card"),
                InvalidArgumentError,
            ),
            (lambda c: c.post_comment(1, "a", "x"), TypeError),
            (lambda c: c.post_comment("1", "a", "x", extras=[1]), TypeError),
            (
                lambda c: c.post_comment("1", "a", "x", on_ambiguous="retry"),
                InvalidArgumentError,
            ),
            (
                lambda c: c.post_card(
                    "1", "a", Buttons("x", [Button.link("l", "http://a.b")])
                ),
                TypeError,
            ),
            (
                lambda c: c.post_system_event("1", "explode", subject="a"),
                InvalidArgumentError,
            ),
            (
                lambda c: c.post_system_event("1", "add_member", subject="a"),
                InvalidArgumentError,
            ),
            (lambda c: c.post_system_event("1", "join_room"), InvalidArgumentError),
            (
                lambda c: c.post_system_event("1", "change_room_name", subject="a"),
                InvalidArgumentError,
            ),
            (lambda c: c.search_messages("", user_id="u"), InvalidArgumentError),
        ],
    )
    async def test_refused_before_request(self, mock, call, error):
        """Invalid message calls raise before anything is sent."""
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            with pytest.raises(error):
                await call(client)
        assert len(mock.calls) == 0

    async def test_v21_system_event_single_object(self, mock):
        """v2.1 takes one object user per system event."""
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            with pytest.raises(InvalidArgumentError, match="one object"):
                await client.post_system_event(
                    "1", SystemEventType.ADD_MEMBER, subject="a", objects=["b", "c"]
                )
        assert len(mock.calls) == 0

    def test_iter_comments_checks_now(self):
        """iter_comments validates when called."""
        client = QiscusClient("a", "s")
        with pytest.raises(InvalidArgumentError):
            client.iter_comments("1", page_size=0)
