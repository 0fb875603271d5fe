"""Tier 1: the pure dialects, driven by the reference samples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aioqiscus import ResponseShapeError, Room, RoomType, User
from aioqiscus._wire import Dialect, Operation
from aioqiscus.dialects import CODECS, v2, v21
from aioqiscus.models import RAW_OPTIONS_KEY

from .conftest import sample

#: The operations only v2.1 documents (v2.1/users.md, v2.1/more-endpoints.md).
V21_ONLY = {
    Operation.LIST_UNREAD_USERS,
    Operation.GET_USER_UNREAD_COUNTS,
    Operation.DEACTIVATE_USERS,
    Operation.REACTIVATE_USERS,
    Operation.GET_AVERAGE_REPLY_TIME,
    Operation.LOAD_COMMENTS_WITH_RANGE,
    Operation.LIST_WEBHOOK_LOGS,
}


def results(name: str):
    return sample(name)["results"]


class TestV21Rooms:
    def test_create_room(self):
        """Parses the documented create_room answer, options JSON string included."""
        call = v21.create_room("Group Room", ["a", "b"], "a", None, None)
        room = call.parse(results("v21/create_room"))
        assert room == Room(
            id="16",
            name="Group Room",
            type=RoomType.GROUP,
            avatar_url="https://myimagebucket.com/image.jpg",
            options={},
            channel_id=None,
        )

    def test_update_room_options_string(self):
        """Decodes room_options from its JSON string."""
        call = v21.update_room("16", "x", None, None, None, None)
        room = call.parse(results("v21/update_room"))
        assert room.options == {"option1": True, "string_option2": "value"}
        assert room.channel_id == "831dfb71-1e5b-42cd-bf81-f303e6e988eb"
        assert room.name == "Group Room Renamed"

    def test_target_room(self):
        """A single room with an empty name and avatar."""
        room = v21.get_or_create_room_with_target(["a", "b"], None).parse(
            results("v21/get_or_create_room_with_target")
        )
        assert room == Room(id="17", name="", type=RoomType.SINGLE)

    def test_rooms_info(self):
        """Reads the rooms list."""
        call = v21.get_rooms_info(["16", "17"], [], None, show_participants=False)
        rooms = call.parse(results("v21/get_rooms_info"))
        assert [r.id for r in rooms] == ["16", "17"]
        assert [r.type for r in rooms] == [RoomType.GROUP, RoomType.SINGLE]
        assert rooms[0].name == "My Favorite Room"

    def test_rooms_info_accepts_rooms_info_key(self):
        """Servers answering ``rooms_info`` instead of ``rooms`` still parse."""
        data = {"rooms_info": results("v21/get_rooms_info")["rooms"]}
        call = v21.get_rooms_info(["16"], [], None, show_participants=False)
        assert len(call.parse(data)) == 2

    def test_participants_added_and_removed(self):
        """Both answers list users by user_id."""
        added = v21.add_participants("16", ["user1@email.com"]).parse(
            results("v21/add_room_participants")
        )
        removed = v21.remove_participants("16", ["user1@email.com"]).parse(
            results("v21/remove_room_participants")
        )
        expected = User(
            id="user1@email.com",
            name="Liu Kang",
            avatar_url="https://myimagebucket.com/image.jpg",
        )
        assert added == [expected]
        assert removed == [expected]

    def test_room_participants_page(self):
        """A short page of participants says no more pages follow."""
        page = v21.list_participants("16", 1, 100, None).parse(
            results("v21/get_room_participants")
        )
        assert [u.id for u in page.items] == ["guest2@qiscus.com", "guest@qiscus.com"]
        assert page.items[0].extras == {}
        assert page.has_more is False

    def test_room_participants_full_page_has_more(self):
        """A full page without meta may be followed by another."""
        page = v21.list_participants("16", 1, 2, None).parse(
            results("v21/get_room_participants")
        )
        assert page.has_more is True

    def test_user_rooms_meta(self):
        """meta.total_room ends the listing."""
        page = v21.list_user_rooms("u", 1, 2, None, show_participants=False).parse(
            results("v21/get_user_rooms")
        )
        assert [r.id for r in page.items] == ["16", "17"]
        assert page.has_more is False

    def test_unread_counts(self):
        """Maps room ids to counts."""
        counts = v21.get_unread_counts("u", ["16", "18"]).parse(
            results("v21/get_unread_count")
        )
        assert counts == {"16": 10, "18": 12}

    def test_channel(self):
        """Reads the channel id of get_or_create_channel."""
        room = v21.get_or_create_channel("test123", ["a"], None, None, None).parse(
            results("v21/get_or_create_channel")
        )
        assert room == Room(
            id="787233", name="test123", type=RoomType.GROUP, channel_id="test123"
        )


class TestV2Rooms:
    def test_create_room(self):
        """Integer room ids become strings; bare emails become users."""
        room = v2.create_room("gege", ["a"], "a", None, None).parse(
            results("v2/create_room")
        )
        assert room == Room(
            id="16",
            name="gege",
            type=RoomType.GROUP,
            creator="abc@outlook.com",
            participants=(User(id="abc@outlook.com"), User(id="kotak@outlook.com")),
        )

    def test_create_room_later_document(self):
        """The later v2 document's create_room answer parses the same way."""
        room = v2.create_room("gege", ["a"], "a", None, None).parse(
            results("v2/create_room_later")
        )
        assert room.id == "16"
        assert [u.id for u in room.participants] == [
            "abc@outlook.com",
            "kotak@outlook.com",
        ]

    def test_target_room_chat_type_shape(self):
        """The chat_type/id shape, with participant objects and null options."""
        room = v2.get_or_create_room_with_target(["a", "b"], None).parse(
            results("v2/get_or_create_room_with_target")
        )
        assert room.id == "234"
        assert room.type is RoomType.SINGLE
        assert room.name == "abc@outlook.com kotak@outlook.com"
        assert room.options == {}
        assert room.avatar_url is None
        assert room.last_comment_id == 124974
        assert room.participants[1] == User(
            id="kotak@outlook.com",
            name="kotak",
            avatar_url="https://qiscuss3.s3.amazonaws.com/uploads/55c0c6ee486be6b686d52e5b9bbedbbf/2.png",
        )

    def test_rooms_info_zero_time(self):
        """Go's zero time reads as None."""
        rooms = v2.get_rooms_info(
            ["13", "14"], [], "abc", show_participants=False
        ).parse(results("v2/get_rooms_info"))
        assert [r.id for r in rooms] == ["13", "14"]
        assert rooms[0].last_comment_at is None
        assert rooms[0].unread_count == 123
        assert rooms[0].last_comment_message is None

    def test_update_room(self):
        """update_room answers the chat_type shape under ``room``."""
        room = v2.update_room("18", "uwooo", None, None, None, "a").parse(
            results("v2/update_room")
        )
        assert room.id == "18"
        assert room.name == "uwooo"
        assert room.avatar_url == "http://avatar.jpg"
        assert room.options == {}
        assert [u.name for u in room.participants] == ["asasmoyo", "kotak"]

    def test_add_participants_returns_requested(self):
        """Returns the requested users present in the updated room."""
        users = v2.add_participants("16", ["kotak@outlook.com", "nobody@x.io"]).parse(
            results("v2/add_room_participants")
        )
        assert users == [User(id="kotak@outlook.com")]

    def test_remove_participants_returns_gone(self):
        """Returns the requested users no longer in the room."""
        users = v2.remove_participants("16", ["gone@x.io", "kotak@outlook.com"]).parse(
            results("v2/remove_room_participants")
        )
        assert users == [User(id="gone@x.io")]

    def test_user_rooms_pages(self):
        """total_room 39 at 20 per page: page 1 has more, page 2 does not."""
        data = results("v2/get_user_rooms")
        first = v2.list_user_rooms("u", 1, 5, None, show_participants=False).parse(data)
        second = v2.list_user_rooms("u", 2, 5, None, show_participants=False).parse(
            data
        )
        assert first.has_more is True
        assert second.has_more is False
        assert first.items[1].avatar_url is not None
        assert first.items[0].last_comment_at == datetime(
            2017, 8, 4, 15, 45, 7, tzinfo=UTC
        )

    def test_user_rooms_with_participants(self):
        """Participant objects carry the numeric id separately from the email."""
        page = v2.list_user_rooms("u", 1, 20, None, show_participants=True).parse(
            results("v2/get_user_rooms_participants")
        )
        yusuf = page.items[0].participants[0]
        assert yusuf.id == "yusuf@kiwari.id"
        assert yusuf.internal_id == 144
        assert yusuf.name == "Yusuf"

    def test_unread_counts_via_rooms_info(self):
        """v2 reads unread counts from rooms info."""
        counts = v2.get_unread_counts("abc", ["13", "14"]).parse(
            results("v2/get_rooms_info")
        )
        assert counts == {"13": 123, "14": 123}

    def test_list_participants_single_page(self):
        """v2 lists every participant in one page."""
        data = {
            "rooms_info": [results("v2/get_user_rooms_participants")["rooms_info"][0]]
        }
        page = v2.list_participants("1275", 1, 10, "yusuf@kiwari.id").parse(data)
        assert len(page.items) == 3
        assert page.has_more is False


class TestParity:
    @pytest.mark.parametrize("index", [0, 1])
    def test_rooms_info_same_room(self, index):
        """A room described by both dialects normalises to equal values."""
        new = results("v21/get_rooms_info")["rooms"][index]
        old = {
            "room_id": int(new["room_id"]),
            "room_name": new["room_name"],
            "room_type": new["room_type"],
            "room_avatar_url": new["room_avatar_url"],
            "last_comment_id": 0,
            "last_comment_message": "",
            "last_comment_timestamp": "0001-01-01T00:00:00Z",
        }
        a = v21.parse_room(new)
        b = v2.parse_room(old)
        # channel ids exist only in v2.1; everything else must agree.
        assert b == Room(
            id=a.id,
            name=a.name,
            type=a.type,
            avatar_url=a.avatar_url,
            options=a.options,
            participants=a.participants,
            last_comment_id=0,
        )

    def test_participant_same_user(self):
        """A participant described by both dialects is the same User."""
        new = results("v21/get_room_participants")["participants"][0]
        old = {
            "email": new["user_id"],
            "username": new["username"],
            "avatar_url": new["avatar_url"],
        }
        assert v2.parse_user(old) == v21.parse_user(new)

    def test_added_participants_agree(self):
        """add_participants returns the same user ids in both dialects."""
        old = v2.add_participants("16", ["kotak@outlook.com"]).parse(
            results("v2/add_room_participants")
        )
        new = v21.add_participants("16", ["kotak@outlook.com"]).parse(
            {"participants_added": [{"user_id": "kotak@outlook.com", "username": ""}]}
        )
        assert old == new


class TestOptions:
    @pytest.mark.parametrize("raw", [None, "", "{}", {}])
    def test_empty(self, raw):
        """Empty options in every spelling read as {}."""
        room = v21.parse_room(
            {
                "room_id": "1",
                "room_name": "n",
                "room_type": "group",
                "room_options": raw,
            }
        )
        assert room.options == {}

    @pytest.mark.parametrize("raw", ["background=red", "[1, 2]", "42"])
    def test_non_object_kept_raw(self, raw):
        """Options that are not a JSON object are kept under RAW_OPTIONS_KEY."""
        room = v21.parse_room(
            {
                "room_id": "1",
                "room_name": "n",
                "room_type": "group",
                "room_options": raw,
            }
        )
        assert room.options == {RAW_OPTIONS_KEY: raw}


class TestMalformed:
    @pytest.mark.parametrize(
        "data",
        [
            None,
            [],
            "rooms",
            {"rooms": None},
            {"rooms": "x"},
            {"rooms": [{"room_id": None, "room_name": "x", "room_type": "group"}]},
            {"rooms": [{"room_id": "1", "room_name": 5, "room_type": "group"}]},
            {"rooms": [{"room_id": "1", "room_name": "n", "room_type": "dm"}]},
            {"rooms": [{"room_id": "1", "room_type": "group"}]},
            {"rooms": [{"room_id": True, "room_name": "n", "room_type": "group"}]},
            {
                "rooms": [
                    {
                        "room_id": "1",
                        "room_name": "n",
                        "room_type": "group",
                        "last_comment_timestamp": "yesterday",
                    }
                ]
            },
            {
                "rooms": [
                    {
                        "room_id": "1",
                        "room_name": "n",
                        "room_type": "group",
                        "participants": [{"username": "no id"}],
                    }
                ]
            },
        ],
    )
    def test_v21_rooms_info(self, data):
        """Every malformed answer raises ResponseShapeError, never a bare error."""
        call = v21.get_rooms_info(["1"], [], None, show_participants=False)
        with pytest.raises(ResponseShapeError):
            call.parse(data)

    def test_unread_counts_missing_keys(self):
        """A count entry without room_id is a shape error."""
        call = v21.get_unread_counts("u", ["1"])
        with pytest.raises(ResponseShapeError):
            call.parse({"unread_counts": [{"unread_count": 1}]})


class TestRoutes:
    def test_v21_lacks_search_only(self):
        """v2.1 serves every operation but search."""
        missing = set(Operation) - set(CODECS[Dialect.V2_1].ROUTES)
        assert missing == {Operation.SEARCH_MESSAGES}

    def test_v2_lacks_channels_and_user_listing(self):
        """v2 serves every operation but the v2.1 ones: channels, token
        read-out, user listings and the endpoints only v2.1 documents."""
        missing = set(Operation) - set(CODECS[Dialect.V2].ROUTES)
        assert missing == {
            Operation.GET_OR_CREATE_CHANNEL,
            Operation.GET_USER_TOKEN,
            Operation.LIST_USERS,
            *V21_ONLY,
        }
        assert (
            not set(Operation)
            - set(CODECS[Dialect.V2_1].ROUTES)
            - {Operation.SEARCH_MESSAGES}
        )

    def test_verbs_that_differ(self):
        """get_or_create_room_with_target and get_rooms_info swap GET and POST."""
        op = Operation.GET_OR_CREATE_ROOM_WITH_TARGET
        assert v2.ROUTES[op].method == "GET"
        assert v21.ROUTES[op].method == "POST"
        assert v2.ROUTES[Operation.GET_ROOMS_INFO].method == "POST"
        assert v21.ROUTES[Operation.GET_ROOMS_INFO].method == "GET"


class TestDialectRefusals:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: v2.get_or_create_channel("c", ["a"], None, None, None),
            lambda: v2.get_user_token("a"),
            lambda: v2.list_users(1, 10, None),
            lambda: v21.search_messages("a", "q", None),
            lambda: v2.list_unread_users(1, 10, None, None),
            lambda: v2.get_user_unread_counts(["a"], None, None),
            lambda: v2.deactivate_users(["a"]),
            lambda: v2.reactivate_users(["a"]),
            lambda: v2.get_average_reply_time("a", None, None),
            lambda: v2.load_comments_with_range("1", 1, 2),
            lambda: v2.list_webhook_logs(1, 10, "all"),
        ],
    )
    def test_codec_refuses_what_it_lacks(self, build):
        """A dialect asked directly for an operation it lacks says what to use."""
        from aioqiscus import UnsupportedOperationError

        with pytest.raises(UnsupportedOperationError, match="api_version"):
            build()
