"""The parsers read what the documents show, and refuse what they do not.

Where ``qiscus-rest-v2.md`` and ``v2.1/*.md`` show a count or a list, a
``null`` or a wrong type is a :class:`ResponseShapeError`, never a made-up
``0`` or empty list; where the model says "unknown", a missing or ``null``
value reads as ``None``. Each case starts from a reference sample.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aioqiscus import RawPayload, ResponseShapeError
from aioqiscus._paging import Listing
from aioqiscus._wire import Operation, Page
from aioqiscus.dialects import v2, v21

from .conftest import sample


def results(name: str) -> Any:
    return copy.deepcopy(sample(name)["results"])


def _v21_user_rooms(data: Any) -> Any:
    return v21.list_user_rooms("u", 1, 20, None, show_participants=False).parse(data)


def _v2_user_rooms(data: Any) -> Any:
    return v2.list_user_rooms("u", 1, 20, None, show_participants=False).parse(data)


class TestCounts:
    @pytest.mark.parametrize("bad", [None, -1, "10", 1.5, True, "many"])
    def test_v21_unread_count_refused(self, bad):
        """get_unread_count's unread_count is a count: null or a wrong type fails."""
        data = results("v21/get_unread_count")
        data["unread_counts"][0]["unread_count"] = bad
        with pytest.raises(ResponseShapeError, match="unread_count"):
            v21.get_unread_counts("u", ["16", "18"]).parse(data)

    @pytest.mark.parametrize("bad", [None, -3, "14"])
    def test_v21_user_unread_count_refused(self, bad):
        """get_user_unread_count's counts are refused when not a count."""
        data = results("v21/get_user_unread_count")
        data["user_unread_count"][0]["unread_count"] = bad
        with pytest.raises(ResponseShapeError, match="unread_count"):
            v21.get_user_unread_counts(["a"], None, None).parse(data)

    @pytest.mark.parametrize("bad", [None, -1, "19"])
    def test_v2_unread_counts_refused(self, bad):
        """v2 reads unread counts from rooms info: no made-up 0 for a null one."""
        data = results("v2/get_rooms_info")
        data["rooms_info"][0]["unread_count"] = bad
        with pytest.raises(ResponseShapeError, match="unread_count"):
            v2.get_unread_counts("u", ["1"]).parse(data)

    def test_room_unread_count_null_is_unknown(self):
        """A room's null unread_count is unknown (None), as the model says."""
        data = results("v2/get_user_rooms")
        data["rooms_info"][0]["unread_count"] = None
        assert _v2_user_rooms(data).items[0].unread_count is None

    @pytest.mark.parametrize("bad", [-1, "19", 2.5])
    def test_room_unread_count_wrong_type_refused(self, bad):
        """A room's unread_count that is not a count is refused."""
        data = results("v2/get_user_rooms")
        data["rooms_info"][0]["unread_count"] = bad
        with pytest.raises(ResponseShapeError, match="unread_count"):
            _v2_user_rooms(data)

    @pytest.mark.parametrize("bad", ["2", "many", -2, 1.0, True, [2]])
    @pytest.mark.parametrize("key", ["total_room", "current_page"])
    def test_meta_counts_refused(self, key, bad):
        """meta.total_room and meta.current_page are counts, not text."""
        data = results("v21/get_user_rooms")
        data["meta"][key] = bad
        with pytest.raises(ResponseShapeError, match=key):
            _v21_user_rooms(data)

    def test_meta_count_null_is_unknown(self):
        """A null or missing total means the server did not say: None."""
        data = results("v21/get_user_rooms")
        data["meta"]["total_room"] = None
        assert _v21_user_rooms(data).total is None
        del data["meta"]
        assert _v21_user_rooms(data).total is None

    def test_total_page_refused(self):
        """get_user_list's meta.total_page is refused when not a count."""
        data = results("v21/get_user_list")
        data["meta"]["total_page"] = "1573"
        with pytest.raises(ResponseShapeError, match="total_page"):
            v21.list_users(1, 2, None).parse(data)


class TestLists:
    @pytest.mark.parametrize(
        ("name", "key", "call"),
        [
            ("v21/load_comments", "comments", v21.list_comments("1", 1, 20)),
            ("v2/load_comments", "comments", v2.list_comments("1", 1, 20)),
            (
                "v21/load_comments_with_range",
                "comments",
                v21.load_comments_with_range("1", 1, 9),
            ),
            (
                "v2/search_messages",
                "comments",
                v2.search_messages("u", "q", None),
            ),
            (
                "v21/get_rooms_info",
                "rooms",
                v21.get_rooms_info(["1"], [], None, show_participants=False),
            ),
            (
                "v21/get_user_rooms",
                "rooms",
                v21.list_user_rooms("u", 1, 20, None, show_participants=False),
            ),
            (
                "v2/get_user_rooms",
                "rooms_info",
                v2.list_user_rooms("u", 1, 20, None, show_participants=False),
            ),
            (
                "v2/get_rooms_info",
                "rooms_info",
                v2.get_rooms_info(["1"], [], "u", show_participants=False),
            ),
            (
                "v21/get_unread_users",
                "user_ids",
                v21.list_unread_users(1, 20, None, None),
            ),
            ("v21/get_user_list", "users", v21.list_users(1, 20, None)),
            (
                "v21/get_room_participants",
                "participants",
                v21.list_participants("1", 1, 20, None),
            ),
            (
                "v21/webhook_logs",
                "webhook_logs",
                v21.list_webhook_logs(1, 20, "all"),
            ),
            (
                "v21/list_exports",
                "backup_histories",
                v21.BACKUPS.list_exports(1),
            ),
        ],
    )
    def test_null_list_refused(self, name, key, call):
        """A documented list answered as null is a shape error, not an empty list."""
        data = results(name)
        data[key] = None
        with pytest.raises(ResponseShapeError, match=key):
            call.parse(data)

    def test_empty_list_still_empty(self):
        """An empty list is an empty page."""
        data = results("v21/load_comments")
        data["comments"] = []
        assert v21.list_comments("1", 1, 20).parse(data).items == ()


class TestNothingLost:
    @pytest.mark.parametrize(
        ("name", "parse"),
        [
            ("v21/get_user_rooms", _v21_user_rooms),
            ("v2/get_user_rooms", _v2_user_rooms),
        ],
    )
    def test_current_page_kept(self, name, parse):
        """get_user_rooms' meta.current_page reaches the page."""
        data = results(name)
        data["meta"]["current_page"] = 3
        assert parse(data).current_page == 3

    async def test_listing_current_page(self):
        """A Listing says the page number the latest page said it was."""
        pages = {
            1: Page(("a",), has_more=True, current_page=1),
            2: Page(("b",), has_more=False, current_page=2),
        }

        async def fetch(number: int) -> Page[str]:
            return pages[number]

        listing = Listing(Operation.LIST_USER_ROOMS, fetch, str)
        assert listing.current_page is None
        assert await anext(listing) == "a"
        assert listing.current_page == 1
        assert [x async for x in listing] == ["b"]
        assert listing.current_page == 2

    def test_user_list_keeps_name_and_username(self):
        """get_user_list's name and username are both kept when they differ."""
        data = results("v21/get_user_list")
        data["users"][0]["name"] = "Athaullah, A."
        users = v21.list_users(1, 2, None).parse(data).items
        assert (users[0].name, users[0].listed_name) == (
            "A. Athaullah",
            "Athaullah, A.",
        )
        assert users[0].extras == {}
        assert (users[1].name, users[1].listed_name) == ("iPhone test User",) * 2

    def test_user_name_alone(self):
        """A user with only name (no username) still has it as User.name."""
        data = results("v21/get_user_list")
        del data["users"][0]["username"]
        user = v21.list_users(1, 2, None).parse(data).items[0]
        assert (user.name, user.listed_name) == ("A. Athaullah", "A. Athaullah")

    def test_v21_user_without_name(self):
        """A v2.1 user object without name has listed_name None."""
        user = v21.get_user("u").parse(results("v21/user_profile"))
        assert user.listed_name is None

    def test_carousel_default_action_type_kept(self):
        """The documented postback default action keeps its type and target."""
        comment = v21.parse_comment(results("v21/post_comment_carousel")["comment"])
        action = comment.payload.cards[0].default_action
        assert (action.type, action.url, action.postback_text) == (
            "postback",
            "http://url.com/baju?id=123&track_from_chat_room=123",
            "Load more",
        )

    def test_carousel_link_default_action(self):
        """A link default action reads as a link."""
        data = results("v21/post_comment_carousel")["comment"]
        data["payload"]["cards"][0]["default_action"] = {
            "type": "link",
            "payload": {"url": "http://url.com/x"},
        }
        action = v21.parse_comment(data).payload.cards[0].default_action
        assert (action.type, action.url) == ("link", "http://url.com/x")

    @pytest.mark.parametrize("kind", ["web_url", None, 3])
    def test_unknown_default_action_type_kept_raw(self, kind):
        """An action type we do not model is kept as sent, not coerced to postback."""
        data = results("v21/post_comment_carousel")["comment"]
        action = data["payload"]["cards"][0]["default_action"]
        action["type"] = kind
        payload = v21.parse_comment(data).payload
        assert isinstance(payload, RawPayload)
        assert payload.data["cards"][0]["default_action"]["type"] == kind

    def test_unknown_button_type_kept_raw(self):
        """A button type we do not model degrades the payload to RawPayload."""
        data = results("v21/post_comment_carousel")["comment"]
        data["payload"]["cards"][0]["buttons"][1]["type"] = "call"
        payload = v21.parse_comment(data).payload
        assert isinstance(payload, RawPayload)
        assert payload.data == data["payload"]


class TestWebhookLogBody:
    @pytest.mark.parametrize(
        ("sent", "kept"),
        [
            ('{"type":"post_comment_rest"}', '{"type":"post_comment_rest"}'),
            ({"type": "post_comment_rest"}, '{"type":"post_comment_rest"}'),
            # The Go SDK types request_body as a time.Time.
            ("2021-09-01T10:00:01Z", "2021-09-01T10:00:01Z"),
            ("2021-09-01T17:00:01.5+07:00", "2021-09-01T17:00:01.5+07:00"),
            ("0001-01-01T00:00:00Z", ""),
            (None, ""),
        ],
    )
    def test_request_body_shapes(self, sent, kept):
        """Both shapes read: the delivered JSON as text, or the Go SDK's timestamp."""
        data = results("v21/webhook_logs")
        data["webhook_logs"][0]["request_body"] = sent
        log = v21.list_webhook_logs(1, 20, "all").parse(data).items[0]
        assert log.request_body == kept

    def test_request_body_wrong_type(self):
        """A number is neither shape: a shape error."""
        data = results("v21/webhook_logs")
        data["webhook_logs"][0]["request_body"] = 5
        with pytest.raises(ResponseShapeError, match="request_body"):
            v21.list_webhook_logs(1, 20, "all").parse(data)
