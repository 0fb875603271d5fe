"""Tier 2: the client's requests and I/O edge cases, with respx."""

from __future__ import annotations

import json

import httpx
import pytest

import aioqiscus
from aioqiscus import (
    AmbiguousSendError,
    AuthenticationError,
    BadRequestError,
    Dialect,
    InvalidArgumentError,
    NotFoundError,
    QiscusClient,
    RateLimitError,
    ResponseShapeError,
    RetryPolicy,
    RoomType,
    ServerError,
    TransportError,
    UnsupportedOperationError,
)

from .conftest import request_at, sample

SECRET = "s3cr3t-key-value-0123456789"


@pytest.fixture(name="v2")
async def _v2():
    async with QiscusClient("my-app", SECRET, api_version="v2") as client:
        yield client


@pytest.fixture(name="v21")
async def _v21():
    async with QiscusClient("my-app", SECRET, api_version="v2.1") as client:
        yield client


def body(route) -> dict:
    return json.loads(route.calls.last.request.content)


def query(route) -> list[tuple[str, str]]:
    return list(route.calls.last.request.url.params.multi_items())


class TestRequestsV21:
    async def test_create_room(self, mock, v21):
        """POST create_room with room_* names and options as a JSON string."""
        route = mock.post("/api/v2.1/rest/create_room").respond(
            json=sample("v21/create_room")
        )
        room = await v21.create_room(
            "Group Room",
            ["a", "b"],
            "a",
            avatar_url="https://x/a.png",
            options={"color": "red"},
        )
        assert room.id == "16"
        assert body(route) == {
            "room_name": "Group Room",
            "participants": ["a", "b"],
            "creator": "a",
            "room_avatar_url": "https://x/a.png",
            "room_options": '{"color":"red"}',
        }

    async def test_headers_both_spellings(self, mock, v21):
        """Sends app id and secret in the dashed and underscored spellings."""
        route = mock.post("/api/v2.1/rest/create_room").respond(
            json=sample("v21/create_room")
        )
        await v21.create_room("n", ["a"], "a")
        headers = route.calls.last.request.headers
        assert headers["QISCUS-SDK-APP-ID"] == "my-app"
        assert headers["QISCUS_SDK_APP_ID"] == "my-app"
        assert headers["QISCUS-SDK-SECRET"] == SECRET
        assert headers["QISCUS_SDK_SECRET"] == SECRET

    async def test_target_room_is_post(self, mock, v21):
        """POST get_or_create_room_with_target with user_ids."""
        route = mock.post("/api/v2.1/rest/get_or_create_room_with_target").respond(
            json=sample("v21/get_or_create_room_with_target")
        )
        await v21.get_or_create_room_with_target(["a", "b"], options={"k": 1})
        assert body(route) == {"user_ids": ["a", "b"], "room_options": '{"k":1}'}

    async def test_channel(self, mock, v21):
        """GET get_or_create_channel (v2.1/room.md) with unique_id and participants[]."""
        route = mock.get("/api/v2.1/rest/get_or_create_channel").respond(
            json=sample("v21/get_or_create_channel")
        )
        room = await v21.get_or_create_channel("test123", ["a"], name="test123")
        assert room.channel_id == "test123"
        assert query(route) == [
            ("unique_id", "test123"),
            ("participants[]", "a"),
            ("room_name", "test123"),
        ]

    async def test_rooms_info_is_get_with_arrays(self, mock, v21):
        """GET get_rooms_info with room_ids[] and room_channel_ids[]."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").respond(
            json=sample("v21/get_rooms_info")
        )
        await v21.get_rooms_info(["16", "17"], channel_ids=["c1"])
        assert query(route) == [
            ("room_ids[]", "16"),
            ("room_ids[]", "17"),
            ("room_channel_ids[]", "c1"),
        ]

    async def test_update_room(self, mock, v21):
        """POST update_room with room_* names; no acting user needed."""
        route = mock.post("/api/v2.1/rest/update_room").respond(
            json=sample("v21/update_room")
        )
        await v21.update_room("16", name="Group Room Renamed", channel_id="c")
        assert body(route) == {
            "room_id": "16",
            "room_name": "Group Room Renamed",
            "room_channel_id": "c",
        }

    async def test_participants(self, mock, v21):
        """add/remove send room_id and user_ids."""
        add = mock.post("/api/v2.1/rest/add_room_participants").respond(
            json=sample("v21/add_room_participants")
        )
        remove = mock.post("/api/v2.1/rest/remove_room_participants").respond(
            json=sample("v21/remove_room_participants")
        )
        await v21.add_participants("16", ["user1@email.com"])
        await v21.remove_participants("16", ["user1@email.com"])
        assert body(add) == {"room_id": "16", "user_ids": ["user1@email.com"]}
        assert body(remove) == {"room_id": "16", "user_ids": ["user1@email.com"]}

    async def test_iter_participants_pages(self, mock, v21):
        """Pages lazily with page/limit and stops after a short page."""
        people = [{"user_id": f"u{i}", "username": f"U{i}"} for i in range(5)]
        route = mock.get("/api/v2.1/rest/get_room_participants").mock(
            side_effect=[
                httpx.Response(
                    200, json={"status": 200, "results": {"participants": people[:2]}}
                ),
                httpx.Response(
                    200, json={"status": 200, "results": {"participants": people[2:4]}}
                ),
                httpx.Response(
                    200, json={"status": 200, "results": {"participants": people[4:]}}
                ),
            ]
        )
        ids = [u.id async for u in v21.iter_participants("16", page_size=2)]
        assert ids == ["u0", "u1", "u2", "u3", "u4"]
        assert route.call_count == 3
        assert query(route) == [("room_id", "16"), ("page", "3"), ("limit", "2")]

    async def test_iter_stops_on_repeated_page(self, mock, v21):
        """A server ignoring ``page`` is reported, not looped over forever."""
        people = [{"user_id": f"u{i}", "username": ""} for i in range(2)]
        mock.get("/api/v2.1/rest/get_room_participants").respond(
            json={"status": 200, "results": {"participants": people}}
        )
        with pytest.raises(ResponseShapeError, match="repeats"):
            [u async for u in v21.iter_participants("16", page_size=2)]

    async def test_iter_user_rooms(self, mock, v21):
        """GET get_user_rooms with user_id, page, limit and room_type."""
        route = mock.get("/api/v2.1/rest/get_user_rooms").respond(
            json=sample("v21/get_user_rooms")
        )
        rooms = [r async for r in v21.iter_user_rooms("u", room_type=RoomType.GROUP)]
        assert [r.id for r in rooms] == ["16", "17"]
        assert route.call_count == 1
        assert query(route) == [
            ("user_id", "u"),
            ("page", "1"),
            ("limit", "20"),
            ("room_type", "group"),
        ]

    async def test_unread_counts(self, mock, v21):
        """GET get_unread_count with user_id and room_ids[]."""
        route = mock.get("/api/v2.1/rest/get_unread_count").respond(
            json=sample("v21/get_unread_count")
        )
        counts = await v21.get_unread_counts("u", ["16", "18"])
        assert counts == {"16": 10, "18": 12}
        assert query(route) == [
            ("user_id", "u"),
            ("room_ids[]", "16"),
            ("room_ids[]", "18"),
        ]


class TestRequestsV2:
    async def test_create_room(self, mock, v2):
        """POST create_room with name/participants/creator."""
        route = mock.post("/api/v2/rest/create_room").respond(
            json=sample("v2/create_room")
        )
        room = await v2.create_room("gege", ["abc@outlook.com"], "abc@outlook.com")
        assert room.id == "16"
        assert body(route) == {
            "name": "gege",
            "participants": ["abc@outlook.com"],
            "creator": "abc@outlook.com",
        }

    async def test_target_room_is_get(self, mock, v2):
        """GET get_or_create_room_with_target with emails[]."""
        route = mock.get("/api/v2/rest/get_or_create_room_with_target").respond(
            json=sample("v2/get_or_create_room_with_target")
        )
        room = await v2.get_or_create_room_with_target(["a@x.io", "b@x.io"])
        assert room.id == "234"
        assert query(route) == [("emails[]", "a@x.io"), ("emails[]", "b@x.io")]

    async def test_rooms_info_is_post_and_needs_as_user(self, mock, v2):
        """POST get_rooms_info with user_email; refused without as_user."""
        route = mock.post("/api/v2/rest/get_rooms_info").respond(
            json=sample("v2/get_rooms_info")
        )
        with pytest.raises(InvalidArgumentError, match="as_user"):
            await v2.get_rooms_info(["13"])
        assert route.call_count == 0
        await v2.get_rooms_info(["13", "14"], as_user="abc@outlook.com")
        assert body(route) == {
            "user_email": "abc@outlook.com",
            "room_id": ["13", "14"],
            "show_participants": False,
        }

    async def test_update_room_needs_as_user(self, mock, v2):
        """v2 update_room sends user_email and options; refused without as_user."""
        route = mock.post("/api/v2/rest/update_room").respond(
            json=sample("v2/update_room")
        )
        with pytest.raises(InvalidArgumentError, match="as_user"):
            await v2.update_room("18", name="uwooo")
        await v2.update_room("18", name="uwooo", options={"a": 1}, as_user="k@x.io")
        assert body(route) == {
            "user_email": "k@x.io",
            "room_id": "18",
            "room_name": "uwooo",
            "options": '{"a":1}',
        }
        assert route.call_count == 1

    async def test_channel_unsupported(self, mock, v2):
        """Channels need v2.1: refused before any request, naming the fix."""
        with pytest.raises(UnsupportedOperationError, match=r"v2\.1") as info:
            await v2.get_or_create_channel("c", ["a"])
        assert info.value.dialect is Dialect.V2
        assert len(mock.calls) == 0

    async def test_channel_ids_refused(self, mock, v2):
        """Channel ids are a v2.1 feature."""
        with pytest.raises(InvalidArgumentError, match=r"v2\.1"):
            await v2.get_rooms_info([], channel_ids=["c"], as_user="a@x.io")
        assert len(mock.calls) == 0

    async def test_participants(self, mock, v2):
        """add/remove send room_id and emails."""
        add = mock.post("/api/v2/rest/add_room_participants").respond(
            json=sample("v2/add_room_participants")
        )
        remove = mock.post("/api/v2/rest/remove_room_participants").respond(
            json=sample("v2/remove_room_participants")
        )
        added = await v2.add_participants("16", ["kotak@outlook.com"])
        removed = await v2.remove_participants("16", ["gone@x.io"])
        assert [u.id for u in added] == ["kotak@outlook.com"]
        assert [u.id for u in removed] == ["gone@x.io"]
        assert body(add) == {"room_id": "16", "emails": ["kotak@outlook.com"]}
        assert body(remove) == {"room_id": "16", "emails": ["gone@x.io"]}

    async def test_iter_participants_via_rooms_info(self, mock, v2):
        """v2 lists participants through get_rooms_info, in one request."""
        data = sample("v2/get_user_rooms_participants")
        data["results"] = {"rooms_info": data["results"]["rooms_info"][:1]}
        route = mock.post("/api/v2/rest/get_rooms_info").respond(json=data)
        users = [
            u async for u in v2.iter_participants("1275", as_user="yusuf@kiwari.id")
        ]
        assert len(users) == 3
        assert body(route) == {
            "user_email": "yusuf@kiwari.id",
            "room_id": ["1275"],
            "show_participants": True,
        }

    async def test_iter_user_rooms_pages_of_20(self, mock, v2):
        """total_room 39 means two requests of 20."""
        first = sample("v2/get_user_rooms")
        second = sample("v2/get_user_rooms")
        for room in second["results"]["rooms_info"]:
            room["room_id"] += 1000
        route = mock.get("/api/v2/rest/get_user_rooms").mock(
            side_effect=[
                httpx.Response(200, json=first),
                httpx.Response(200, json=second),
            ]
        )
        rooms = [r async for r in v2.iter_user_rooms("yusuf@kiwari.id")]
        assert len(rooms) == 4
        assert route.call_count == 2
        assert query(route) == [
            ("user_email", "yusuf@kiwari.id"),
            ("page", "2"),
            ("show_participants", "false"),
        ]

    async def test_unread_counts(self, mock, v2):
        """v2 reads unread counts from get_rooms_info."""
        route = mock.post("/api/v2/rest/get_rooms_info").respond(
            json=sample("v2/get_rooms_info")
        )
        assert await v2.get_unread_counts("abc@outlook.com", ["13", "14"]) == {
            "13": 123,
            "14": 123,
        }
        assert body(route)["user_email"] == "abc@outlook.com"

    async def test_target_room_options_refused(self, mock, v2):
        """v2 cannot set options on a target room; refused, not dropped."""
        with pytest.raises(InvalidArgumentError, match="options"):
            await v2.get_or_create_room_with_target(["a", "b"], options={"k": 1})
        assert len(mock.calls) == 0


class TestBadInput:
    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (lambda c: c.create_room("", ["a"], "a"), InvalidArgumentError),
            (lambda c: c.create_room("  ", ["a"], "a"), InvalidArgumentError),
            (lambda c: c.create_room("n", "a", "a"), TypeError),
            (lambda c: c.create_room("n", [], "a"), InvalidArgumentError),
            (lambda c: c.create_room("n", ["a", "a"], "a"), InvalidArgumentError),
            (lambda c: c.create_room("n", ["a"], 5), TypeError),
            (lambda c: c.create_room("n", ["a"], "a", options=["x"]), TypeError),
            (lambda c: c.get_or_create_room_with_target(["a"]), InvalidArgumentError),
            (
                lambda c: c.get_or_create_room_with_target(["a", "b", "c"]),
                InvalidArgumentError,
            ),
            (lambda c: c.get_rooms_info([16]), TypeError),
            (lambda c: c.get_rooms_info([]), InvalidArgumentError),
            (lambda c: c.update_room("16"), InvalidArgumentError),
            (lambda c: c.update_room(16, name="x"), TypeError),
            (lambda c: c.add_participants("16", []), InvalidArgumentError),
            (lambda c: c.remove_participants("", ["a"]), InvalidArgumentError),
            (lambda c: c.get_unread_counts("u", None), TypeError),
        ],
    )
    async def test_refused_before_request(self, mock, call, error):
        """Invalid arguments raise before anything is sent, even the probe."""
        client = QiscusClient("my-app", SECRET)
        with pytest.raises(error):
            await call(client)
        assert len(mock.calls) == 0
        await client.aclose()

    @pytest.mark.parametrize(
        "call",
        [
            lambda c: c.iter_participants("16", page_size=0),
            lambda c: c.iter_user_rooms("u", page_size=-1),
            lambda c: c.iter_user_rooms("u", page_size=True),
            lambda c: c.iter_user_rooms("u", room_type="group"),
            lambda c: c.iter_participants(16),
        ],
    )
    def test_iterators_check_at_call_time(self, call):
        """Iterators validate when called, not at the first await."""
        client = QiscusClient("my-app", SECRET)
        with pytest.raises((InvalidArgumentError, TypeError)):
            call(client)

    @pytest.mark.parametrize(
        "base_url",
        [
            "http://api.qiscus.com",
            "http://localhost:@evil.com/",
            "https://user:pw@api.qiscus.com",
            "https://api.qiscus.com/?x=1",
            "https://api.qiscus.com/#frag",
            "ftp://api.qiscus.com",
            "not a url",
        ],
    )
    def test_unsafe_base_url(self, base_url):
        """Refuses base URLs that could leak the secret."""
        with pytest.raises(InvalidArgumentError):
            QiscusClient("my-app", SECRET, base_url=base_url)

    @pytest.mark.parametrize(
        "base_url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"]
    )
    async def test_loopback_http_allowed(self, base_url):
        """Plain http is fine on loopback (the fake server): requests go there."""
        request, user_id = await request_at(base_url)
        given = httpx.URL(base_url)
        assert (request.url.scheme, request.url.host, request.url.port) == (
            "http",
            given.host,
            given.port,
        )
        assert user_id == "user@email.com"

    @pytest.mark.parametrize(
        ("given", "base_url"),
        [
            (None, "https://api.qiscus.com"),
            ("https://eu.example.com/", "https://eu.example.com"),
            ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api"),
        ],
    )
    def test_base_url_is_public_and_read_only(self, given, base_url):
        """base_url reads the URL requests go to, without a trailing slash."""
        options = {} if given is None else {"base_url": given}
        client = QiscusClient("my-app", SECRET, **options)
        assert client.base_url == base_url
        with pytest.raises(AttributeError):
            client.base_url = "https://elsewhere.example.com"  # type: ignore[misc]

    @pytest.mark.parametrize("app_id", ["", "-x", "a.b", "a/b", "x" * 64, 5])
    def test_bad_app_id(self, app_id):
        """app_id must be a DNS label."""
        with pytest.raises(InvalidArgumentError):
            QiscusClient(app_id, SECRET)

    def test_bad_api_version(self):
        """Only auto, v2 and v2.1 exist."""
        with pytest.raises(InvalidArgumentError):
            QiscusClient("a", SECRET, api_version="v3")  # type: ignore[arg-type]


class TestErrors:
    async def test_envelope_400(self, mock, v21):
        """The Qiscus envelope's message and details reach the error."""
        mock.post("/api/v2.1/rest/create_room").respond(
            400,
            json={
                "status": 400,
                "error": {
                    "message": "Validation error",
                    "detailed_messages": ["room_name is required"],
                    "errors": {"room_name": "required"},
                },
            },
            headers={"X-Request-Id": "req-1"},
        )
        with pytest.raises(BadRequestError) as info:
            await v21.create_room("n", ["a"], "a")
        assert info.value.status_code == 400
        assert info.value.message == "Validation error"
        assert info.value.detailed_messages == ("room_name is required",)
        assert info.value.request_id == "req-1"

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            (401, AuthenticationError),
            (403, AuthenticationError),
            (404, NotFoundError),
            (502, ServerError),
            (418, BadRequestError),
        ],
    )
    async def test_html_bodies_map_by_status(self, mock, v21, status, error):
        """An HTML error page still maps to the class of its status."""
        mock.get("/api/v2.1/rest/get_rooms_info").respond(
            status, text="<html><body><h1>Oops</h1></body></html>"
        )
        with pytest.raises(error) as info:
            await v21.get_rooms_info(
                ["1"],
            )
        assert info.value.status_code == status
        assert "Oops" in info.value.message

    @pytest.mark.parametrize(
        "content",
        [b"<html>ok</html>", b'{"status": 200}', b'{"results": ', b"[]", b"\xff\xfe"],
    )
    async def test_malformed_success_bodies(self, mock, v21, content):
        """Non-JSON or non-envelope 200 answers raise ResponseShapeError."""
        mock.get("/api/v2.1/rest/get_rooms_info").respond(200, content=content)
        with pytest.raises(ResponseShapeError):
            await v21.get_rooms_info(["1"])

    async def test_body_scrubbed_and_secret_redacted(self, mock, v21):
        """Tokens in error bodies are scrubbed; the secret never appears."""
        mock.get("/api/v2.1/rest/get_rooms_info").respond(
            400,
            json={
                "status": 400,
                "error": {"message": f"bad secret {SECRET}"},
                "user": {"token": "tok-123", "password": "pw"},
            },
        )
        with pytest.raises(BadRequestError) as info:
            await v21.get_rooms_info(["1"])
        err = info.value
        for text in (str(err), err.body, err.message, repr(err.args)):
            assert SECRET not in text
            assert "tok-123" not in text
            assert '"pw"' not in text

    def test_repr_hides_secret(self):
        """repr(client) shows the app id, never the secret."""
        client = QiscusClient("my-app", SECRET)
        assert SECRET not in repr(client)
        assert "my-app" in repr(client)

    def test_token_not_in_user_repr(self):
        """User tokens never appear in repr."""
        user = aioqiscus.User(id="a", token="tok-123")
        assert "tok-123" not in repr(user)


class TestRetries:
    async def test_idempotent_retried_on_503(self, mock, v21):
        """Retries a 503 and returns the rooms."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").mock(
            side_effect=[
                httpx.Response(503, text="busy"),
                httpx.Response(200, json=sample("v21/get_rooms_info")),
            ]
        )
        rooms = await v21.get_rooms_info(["16"])
        assert len(rooms) == 2
        assert route.call_count == 2

    async def test_gives_up_after_max_retries(self, mock, v21):
        """Three 500s with max_retries=2 raise ServerError after 3 attempts."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").respond(500, text="x")
        with pytest.raises(ServerError):
            await v21.get_rooms_info(["16"])
        assert route.call_count == 3

    async def test_connect_error_retried_then_mapped(self, mock, v21):
        """Connect errors are retried, then raise TransportError chained to httpx."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").mock(
            side_effect=httpx.ConnectError("refused")
        )
        with pytest.raises(TransportError) as info:
            await v21.get_rooms_info(["16"])
        assert isinstance(info.value.__cause__, httpx.ConnectError)
        assert route.call_count == 3

    async def test_send_not_retried_after_read_timeout(self, mock, v21):
        """create_room after a read timeout is ambiguous: raised, not resent."""
        route = mock.post("/api/v2.1/rest/create_room").mock(
            side_effect=httpx.ReadTimeout("slow")
        )
        with pytest.raises(AmbiguousSendError):
            await v21.create_room("n", ["a"], "a")
        assert route.call_count == 1

    async def test_send_not_retried_after_500(self, mock, v21):
        """create_room after a 500 is ambiguous: raised, not resent."""
        route = mock.post("/api/v2.1/rest/create_room").respond(500, text="x")
        with pytest.raises(AmbiguousSendError):
            await v21.create_room("n", ["a"], "a")
        assert route.call_count == 1

    async def test_send_retried_after_connect_error(self, mock, v21):
        """A send that never left is retried."""
        route = mock.post("/api/v2.1/rest/create_room").mock(
            side_effect=[
                httpx.ConnectError("refused"),
                httpx.Response(200, json=sample("v21/create_room")),
            ]
        )
        room = await v21.create_room("n", ["a"], "a")
        assert room.id == "16"
        assert route.call_count == 2

    async def test_send_retried_after_429(self, mock, v21):
        """429 means refused before processing: the send is retried."""
        route = mock.post("/api/v2.1/rest/create_room").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "0"}),
                httpx.Response(200, json=sample("v21/create_room")),
            ]
        )
        await v21.create_room("n", ["a"], "a")
        assert route.call_count == 2

    async def test_retry_after_above_cap_raises(self, mock):
        """A Retry-After beyond the cap raises RateLimitError at once."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").respond(
            429, headers={"Retry-After": "3600"}
        )
        policy = RetryPolicy(max_retry_after=10)
        async with QiscusClient("a", SECRET, api_version="v2.1", retry=policy) as c:
            with pytest.raises(RateLimitError) as info:
                await c.get_rooms_info(["1"])
        assert info.value.retry_after == 3600
        assert route.call_count == 1

    async def test_retry_none_disables(self, mock):
        """retry=None makes a single attempt."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").respond(503)
        async with QiscusClient("a", SECRET, api_version="v2.1", retry=None) as c:
            with pytest.raises(ServerError):
                await c.get_rooms_info(["1"])
        assert route.call_count == 1


class TestInjectedClient:
    async def test_not_closed(self, mock):
        """An injected httpx client is used and left open."""
        route = mock.get("/api/v2.1/rest/get_rooms_info").respond(
            json=sample("v21/get_rooms_info")
        )
        http = httpx.AsyncClient()
        async with QiscusClient("a", SECRET, api_version="v2.1", http_client=http) as c:
            await c.get_rooms_info(["16"])
        assert not http.is_closed
        assert route.call_count == 1
        await http.aclose()


class TestEnvelopeFlag:
    async def test_from_envelope(self, mock, v21):
        """Errors say whether the body was a Qiscus envelope or a foreign page."""
        mock.get("/api/v2.1/rest/get_rooms_info").mock(
            side_effect=[
                httpx.Response(
                    404, json={"status": 404, "error": {"message": "x" * 5000}}
                ),
                httpx.Response(404, text="<html>not found</html>"),
            ]
        )
        with pytest.raises(NotFoundError) as long_envelope:
            await v21.get_rooms_info(["1"])
        with pytest.raises(NotFoundError) as html:
            await v21.get_rooms_info(["1"])
        # A long envelope is truncated in .body but still known as an envelope.
        assert long_envelope.value.from_envelope is True
        assert len(long_envelope.value.body) <= 2048
        assert html.value.from_envelope is False
