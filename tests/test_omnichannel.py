"""OmnichannelClient: every Go SDK operation on the wire, and the client's care.

Wire tests check method, path, headers and parameters as
``../shared/reference/omnichannel.md`` section 2 states them, against
respx routes answering the samples of ``tests/samples/omnichannel/``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from datetime import UTC, datetime

import anyio
import httpx
import pytest
import respx

from aioqiscus import RetryPolicy
from aioqiscus.errors import (
    AmbiguousSendError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    InvalidArgumentError,
    NotFoundError,
    ResponseShapeError,
    ServerError,
)
from aioqiscus.models import RoomType
from aioqiscus.omnichannel import (
    DEFAULT_BASE_URL,
    OmnichannelClient,
    Source,
    room_info,
)
from aioqiscus.payloads import Button, Buttons, Card

from .conftest import sample

APP, SECRET = "kovof-123", "omni-s3cr3t-key"


def _sample(name: str):
    return sample(f"omnichannel/{name}")


@pytest.fixture(name="omni_mock")
def _omni_mock():
    """A respx router on the Go SDK's default Omnichannel host."""
    with respx.mock(base_url=DEFAULT_BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture(name="omni")
async def _omni():
    async with OmnichannelClient(APP, SECRET) as client:
        yield client


def _check_auth(request: httpx.Request) -> None:
    """The App-Id/Secret-Key pair of every Go SDK operation (section 1)."""
    assert request.headers["Qiscus-App-Id"] == APP
    assert request.headers["Qiscus-Secret-Key"] == SECRET
    assert "QISCUS-SDK-SECRET" not in request.headers


def _json_body(request: httpx.Request) -> object:
    assert request.headers["content-type"] == "application/json"
    return json.loads(request.content)


class TestWire:
    """Each operation sends what the reference states and reads its sample."""

    async def test_get_room_tags(self, omni, omni_mock):
        """GET /api/v1/room_tag/{room_id}; the tags' ids are strings."""
        route = omni_mock.get("/api/v1/room_tag/12345").respond(
            json=_sample("get_room_tags")
        )
        tags = await omni.get_room_tags("12345")
        _check_auth(route.calls.last.request)
        assert [(t.id, t.name) for t in tags] == [("1", "vip"), ("2", "complaint")]

    async def test_create_room_tag(self, omni, omni_mock):
        """POST /api/v1/room_tag/create with room_id and tag."""
        route = omni_mock.post("/api/v1/room_tag/create").respond(
            json=_sample("create_room_tag")
        )
        tag = await omni.create_room_tag("12345", "refund")
        request = route.calls.last.request
        _check_auth(request)
        assert _json_body(request) == {"room_id": "12345", "tag": "refund"}
        assert (tag.id, tag.name) == ("3", "refund")

    async def test_get_customer_info(self, omni, omni_mock):
        """GET .../user_info: properties, times, the channel with its secret apart."""
        route = omni_mock.get("/api/v1/qiscus/room/12345/user_info").respond(
            json=_sample("get_customer_info")
        )
        info = await omni.get_customer_info("12345")
        _check_auth(route.calls.last.request)
        assert info.as_dict() == {"city": "Jakarta", "tier": "gold"}
        assert info.user_id == "6281234567890"
        assert info.first_initiated == datetime(2022, 11, 30, 2, 10, 2, tzinfo=UTC)
        assert (info.channel_id, info.channel_name, info.is_blocked) == (
            "12",
            "Support WA",
            False,
        )
        assert info.channel is not None
        assert info.channel.credentials == {"secret_key": "channel-secret-9876"}
        assert info.channel.extras["app_code"] == APP
        assert "channel-secret-9876" not in repr(info)

    async def test_replace_customer_info(self, omni, omni_mock):
        """POST .../user_info with user_properties; PHP date objects are read."""
        route = omni_mock.post("/api/v1/qiscus/room/12345/user_info").respond(
            json=_sample("replace_customer_info")
        )
        info = await omni.replace_customer_info("12345", {"city": "Jakarta"})
        request = route.calls.last.request
        _check_auth(request)
        assert _json_body(request) == {
            "user_properties": [{"key": "city", "value": "Jakarta"}]
        }
        assert info.first_initiated == datetime(2022, 11, 30, 2, 10, 2, tzinfo=UTC)
        # 09:15 in Jakarta (UTC+7) is 02:15 UTC.
        assert info.first_agent_response_time == datetime(
            2022, 11, 30, 2, 15, tzinfo=UTC
        )

    async def test_mark_as_resolved(self, omni, omni_mock):
        """POST mark_as_resolved: room_id, and notes/last_comment_id when given."""
        route = omni_mock.post("/api/v1/admin/service/mark_as_resolved").respond(
            json=_sample("mark_as_resolved")
        )
        done = await omni.mark_as_resolved("12345", notes="done", last_comment_id="790")
        request = route.calls.last.request
        _check_auth(request)
        assert _json_body(request) == {
            "room_id": "12345",
            "notes": "done",
            "last_comment_id": "790",
        }
        assert done.service is not None
        assert done.service.is_resolved is True
        assert done.service.resolved_at == datetime(2022, 11, 30, 3, tzinfo=UTC)
        assert done.service.agent is not None
        assert done.service.agent.id == "101"
        assert "agent-auth-token-1234" not in repr(done)
        assert done.room is not None
        assert done.room.type is RoomType.GROUP
        assert room_info(done.room).channel is Source.WHATSAPP
        await omni.mark_as_resolved("12345")
        assert _json_body(route.calls.last.request) == {"room_id": "12345"}

    async def test_get_customer_room(self, omni, omni_mock):
        """GET /api/v2/customer_rooms/{room_id}."""
        route = omni_mock.get("/api/v2/customer_rooms/12345").respond(
            json=_sample("get_room_by_room_id")
        )
        room = await omni.get_customer_room("12345")
        _check_auth(route.calls.last.request)
        assert (room.room_id, room.id, room.source) == ("12345", "55", "wa")
        assert (room.is_handled_by_bot, room.is_resolved, room.is_waiting) == (
            True,
            False,
            True,
        )
        assert room.last_comment_at == datetime(2022, 11, 30, 2, 10, 2, tzinfo=UTC)
        assert room.contact_id is None
        assert room.extras == {}

    async def test_send_bot_message_text(self, omni, omni_mock):
        """POST /{app_code}/bot with sender_email, message, room_id, type text."""
        route = omni_mock.post(f"/{APP}/bot").respond(text="OK")
        await omni.send_bot_message("12345", "Hello!")
        request = route.calls.last.request
        _check_auth(request)
        assert _json_body(request) == {
            "sender_email": f"{APP}_admin@qismo.com",
            "message": "Hello!",
            "room_id": "12345",
            "type": "text",
        }

    async def test_send_bot_message_payloads(self, omni, omni_mock):
        """Buttons and cards go as their to_wire() with their type."""
        route = omni_mock.post(f"/{APP}/bot").respond(json={})
        buttons = Buttons(
            "Choose",
            [
                Button.postback(
                    "Human", "https://example.com/h", payload={"to": "human"}
                )
            ],
        )
        await omni.send_bot_message("12345", "Choose", payload=buttons)
        body = _json_body(route.calls.last.request)
        assert body["type"] == "buttons"
        assert body["payload"] == buttons.to_wire()
        card = Card("Shoes", description="Red", image_url="https://example.com/s.png")
        await omni.send_bot_message("12345", payload=card, sender_email="a@b.co")
        body = _json_body(route.calls.last.request)
        assert (body["type"], body["sender_email"]) == ("card", "a@b.co")
        assert body["payload"] == card.to_wire()

    async def test_set_bot_active(self, omni, omni_mock):
        """POST /bot/{room_id}/activate (no /api prefix) with is_active."""
        route = omni_mock.post("/bot/12345/activate").respond(
            json=_sample("set_bot_active")
        )
        log = await omni.set_bot_active("12345", False)
        request = route.calls.last.request
        _check_auth(request)
        assert _json_body(request) == {"is_active": False}
        assert (log.room_id, log.is_handled_by_bot, log.channel_id) == (
            "12345",
            False,
            "12",
        )
        assert log.extras_text == '{"timezone_offset":7}'
        assert log.extras["start_service_comment_id"] == "777"

    async def test_iter_agents(self, omni, omni_mock):
        """GET /api/v2/admin/agents: page, limit, search, scope always sent."""
        first = _sample("get_all_agents")
        last = {
            "data": {"agents": [{**first["data"]["agents"][0], "id": 103}]},
            "meta": {"per_page": 2, "total_count": 3},
            "status": 200,
        }
        route = omni_mock.get("/api/v2/admin/agents").mock(
            side_effect=[
                httpx.Response(200, json=first),
                httpx.Response(200, json=last),
            ]
        )
        listing = omni.iter_agents(search="agent", scope="name", page_size=2)
        agents = [a async for a in listing]
        assert [a.id for a in agents] == ["101", "102", "103"]
        queries = [list(c.request.url.params.multi_items()) for c in route.calls]
        assert queries == [
            [("page", "1"), ("limit", "2"), ("search", "agent"), ("scope", "name")],
            [("page", "2"), ("limit", "2"), ("search", "agent"), ("scope", "name")],
        ]
        _check_auth(route.calls.last.request)
        assert listing.total == 3
        one = agents[0]
        assert one.channels[0].name == "Support WA"
        assert one.roles[0].id == "4"
        assert one.sdk_key == "sdk-key-abcdef"
        assert "sdk-key-abcdef" not in repr(one)

    async def test_iter_agents_sends_empty_search(self, omni, omni_mock):
        """Empty search and scope are sent, as the Go SDK does."""
        route = omni_mock.get("/api/v2/admin/agents").respond(
            json={"data": {"agents": []}, "meta": {"per_page": 20, "total_count": 0}}
        )
        assert [a async for a in omni.iter_agents()] == []
        assert route.calls.last.request.url.params.multi_items() == [
            ("page", "1"),
            ("limit", "20"),
            ("search", ""),
            ("scope", ""),
        ]

    async def test_assign_agent(self, omni, omni_mock):
        """POST assign_agent: room_id, agent_id, replace_latest_agent, max_agent."""
        route = omni_mock.post("/api/v1/admin/service/assign_agent").respond(
            json=_sample("assign_agent")
        )
        done = await omni.assign_agent("12345", "101")
        request = route.calls.last.request
        _check_auth(request)
        assert _json_body(request) == {
            "room_id": "12345",
            "agent_id": "101",
            "replace_latest_agent": False,
            "max_agent": 5,
        }
        assert done.agent is not None
        assert done.agent.authentication_token == "agent-auth-token-1234"
        assert "agent-auth-token-1234" not in repr(done)
        assert "qismo-key-xyz" not in repr(done)
        assert done.agent.extras["is_verified"] is True

    async def test_iter_agents_by_division(self, omni, omni_mock):
        """GET by_division: division_ids[] repeated, is_available only when asked."""
        route = omni_mock.get("/api/v2/admin/agents/by_division").respond(
            json=_sample("get_agents_by_division")
        )
        agents = [a async for a in omni.iter_agents_by_division(["4", "5"])]
        assert [a.id for a in agents] == ["101"]
        _check_auth(route.calls.last.request)
        assert route.calls.last.request.url.params.multi_items() == [
            ("page", "1"),
            ("limit", "20"),
            ("division_ids[]", "4"),
            ("division_ids[]", "5"),
            ("sort", "asc"),
        ]
        listing = omni.iter_agents_by_division(["4"], available=True, sort="desc")
        [a async for a in listing]
        assert route.calls.last.request.url.params.multi_items() == [
            ("page", "1"),
            ("limit", "20"),
            ("division_ids[]", "4"),
            ("is_available", "true"),
            ("sort", "desc"),
        ]
        assert (listing.total, listing.total_pages, listing.current_page) == (1, 1, 1)

    async def test_iter_divisions(self, omni, omni_mock):
        """GET /api/v2/divisions with page and limit."""
        route = omni_mock.get("/api/v2/divisions").respond(
            json=_sample("get_all_divisions")
        )
        divisions = [d async for d in omni.iter_divisions()]
        _check_auth(route.calls.last.request)
        assert route.calls.last.request.url.params.multi_items() == [
            ("page", "1"),
            ("limit", "20"),
        ]
        assert [(d.id, d.name, d.is_default) for d in divisions] == [
            ("4", "Billing", True),
            ("5", "Sales", False),
        ]

    async def test_list_channels(self, omni, omni_mock):
        """GET /api/v2/channels: every list, its kind, its secrets apart."""
        route = omni_mock.get("/api/v2/channels").respond(
            json=_sample("get_all_channels")
        )
        channels = await omni.list_channels()
        _check_auth(route.calls.last.request)
        assert [(c.kind, c.id, c.name) for c in channels] == [
            ("custom", "31", "My App"),
            ("fb", "32", "Shop Page"),
            ("line", "33", "Shop LINE"),
            ("qiscus", "34", "Web widget"),
            ("telegram", "35", "Shop bot"),
            ("wa", "12", "Support WA"),
        ]
        text = repr(channels)
        for secret in ("fb-token-1234", "line-secret-5678", "tg-token-0000"):
            assert secret not in text
        assert channels[2].credentials == {
            "access_token": "line-token-5678",
            "secret_key": "line-secret-5678",
        }
        assert channels[5].extras["phone_number"] == "6281111111"

    @pytest.mark.parametrize(
        "name", ["available_agents_list", "available_agents_object"]
    )
    async def test_iter_available_agents(self, omni, omni_mock, name):
        """GET available_agents?room_id=: data as a list or as {agents}."""
        route = omni_mock.get("/api/v2/admin/service/available_agents").respond(
            json=_sample(name)
        )
        agents = [a async for a in omni.iter_available_agents("12345")]
        assert len(agents) == 1
        assert agents[0].is_available is True
        assert route.calls.last.request.url.params.multi_items() == [
            ("room_id", "12345")
        ]
        assert route.call_count == 1


class TestMerge:
    """update_customer_info reads, merges and writes, one merge per room at a time."""

    async def test_merge_keeps_existing_and_replaces_given(self, omni, omni_mock):
        """A given key is replaced in place; a new one is appended."""
        omni_mock.get("/api/v1/qiscus/room/12345/user_info").respond(
            json=_sample("get_customer_info")
        )
        post = omni_mock.post("/api/v1/qiscus/room/12345/user_info").respond(
            json=_sample("replace_customer_info")
        )
        await omni.update_customer_info("12345", {"tier": "platinum", "lang": "id"})
        assert _json_body(post.calls.last.request) == {
            "user_properties": [
                {"key": "city", "value": "Jakarta"},
                {"key": "tier", "value": "platinum"},
                {"key": "lang", "value": "id"},
            ]
        }

    async def test_twenty_concurrent_merges_lose_nothing(self, omni, omni_mock):
        """20 merges at once on one room: every key written survives."""
        stored: list[dict[str, str]] = []

        async def read(request: httpx.Request) -> httpx.Response:
            snapshot = list(stored)
            await asyncio.sleep(0.001)  # another merge may run meanwhile
            return httpx.Response(
                200, json={"data": {"extras": {"user_properties": snapshot}}}
            )

        async def write(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.001)
            stored[:] = json.loads(request.content)["user_properties"]
            return httpx.Response(
                200, json={"data": {"extras": {"user_properties": stored}}}
            )

        omni_mock.get("/api/v1/qiscus/room/12345/user_info").mock(side_effect=read)
        omni_mock.post("/api/v1/qiscus/room/12345/user_info").mock(side_effect=write)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(omni.update_customer_info, "12345", {f"k{i}": str(i)})
        assert sorted(p["key"] for p in stored) == sorted(f"k{i}" for i in range(20))
        assert omni._merging == {}


class TestCare:
    """The machinery QiscusClient has: retries, exactly-once, errors, secrets."""

    async def test_reads_are_retried(self, omni, omni_mock):
        """A 503 on a GET is retried and the answer read."""
        route = omni_mock.get("/api/v1/room_tag/1").mock(
            side_effect=[
                httpx.Response(503, text="busy"),
                httpx.Response(200, json=_sample("get_room_tags")),
            ]
        )
        assert len(await omni.get_room_tags("1")) == 2
        assert route.call_count == 2

    @pytest.mark.parametrize(
        ("method", "path", "call"),
        [
            ("POST", "/api/v1/room_tag/create", lambda o: o.create_room_tag("1", "t")),
            ("POST", f"/{APP}/bot", lambda o: o.send_bot_message("1", "hi")),
            ("POST", "/bot/1/activate", lambda o: o.set_bot_active("1", True)),
            (
                "POST",
                "/api/v1/admin/service/assign_agent",
                lambda o: o.assign_agent("1", "2"),
            ),
            (
                "POST",
                "/api/v1/admin/service/mark_as_resolved",
                lambda o: o.mark_as_resolved("1"),
            ),
            (
                "POST",
                "/api/v1/qiscus/room/1/user_info",
                lambda o: o.replace_customer_info("1", {"a": "b"}),
            ),
        ],
    )
    async def test_writes_that_may_have_landed_are_not_retried(
        self, omni, omni_mock, method, path, call
    ):
        """A 502 or a read timeout on a write raises AmbiguousSendError, sent once."""
        route = omni_mock.route(method=method, path=path).mock(
            side_effect=[httpx.Response(502), httpx.ReadTimeout("slow")]
        )
        with pytest.raises(AmbiguousSendError):
            await call(omni)
        assert route.call_count == 1
        with pytest.raises(AmbiguousSendError):
            await call(omni)
        assert route.call_count == 2

    async def test_connect_errors_on_writes_are_retried(self, omni, omni_mock):
        """A write that never left (connect error) is retried."""
        route = omni_mock.post("/bot/1/activate").mock(
            side_effect=[
                httpx.ConnectError("refused"),
                httpx.Response(200, json=_sample("set_bot_active")),
            ]
        )
        await omni.set_bot_active("1", True)
        assert route.call_count == 2

    async def test_status_errors_are_typed(self, omni, omni_mock):
        """401, 404 and 500 raise the library's errors, the body kept."""
        omni_mock.get("/api/v2/customer_rooms/1").respond(
            404, json={"errors": "room not found"}
        )
        omni_mock.get("/api/v2/customer_rooms/2").respond(401, text="Unauthorized")
        with pytest.raises(NotFoundError) as found:
            await omni.get_customer_room("1")
        assert "room not found" in found.value.body
        with pytest.raises(AuthenticationError):
            await omni.get_customer_room("2")
        async with OmnichannelClient(APP, SECRET, retry=None) as once:
            omni_mock.get("/api/v2/customer_rooms/3").respond(500)
            with pytest.raises(ServerError):
                await once.get_customer_room("3")

    async def test_bot_message_error_status_raises(self, omni, omni_mock):
        """The bot send reads no body, but a 400 is still an error."""
        omni_mock.post(f"/{APP}/bot").respond(400, text="bad room")
        with pytest.raises(BadRequestError):
            await omni.send_bot_message("1", "hi")

    @pytest.mark.parametrize(
        "body",
        [
            b"<html>oops</html>",
            b'{"no": "data"}',
            b'{"data": {"agents": "many"}}',
            b'{"data": {"agents": [{"name": "no id"}]}}',
        ],
    )
    async def test_malformed_answers_raise_shape_errors(self, omni, omni_mock, body):
        """A body that is not the documented shape is a ResponseShapeError."""
        omni_mock.get("/api/v2/admin/agents").respond(200, content=body)
        with pytest.raises(ResponseShapeError):
            await anext(omni.iter_agents())

    async def test_unknown_values_are_kept(self, omni, omni_mock):
        """A field of an unforeseen type, or a new key, stays in extras."""
        data = _sample("get_room_by_room_id")
        data["data"]["customer_room"]["is_waiting"] = {"since": 5}
        data["data"]["customer_room"]["new_key"] = [1, 2]
        data["data"]["customer_room"]["last_comment_timestamp"] = "yesterday"
        omni_mock.get("/api/v2/customer_rooms/1").respond(json=data)
        room = await omni.get_customer_room("1")
        assert room.is_waiting is None
        assert room.last_comment_at is None
        assert room.extras["is_waiting"] == {"since": 5}
        assert room.extras["new_key"] == [1, 2]
        assert room.extras["last_comment_timestamp"] == "yesterday"

    @pytest.mark.parametrize("room_id", ["..", ".", "", " 1", 12345])
    async def test_path_ids_are_checked_before_sending(self, omni, omni_mock, room_id):
        """No path tricks: '..', '.', empty, spaced and non-str ids are refused."""
        for call in (
            omni.get_room_tags,
            omni.get_customer_info,
            omni.get_customer_room,
        ):
            with pytest.raises((InvalidArgumentError, TypeError)):
                await call(room_id)
        assert not omni_mock.calls

    async def test_ids_are_percent_encoded_in_paths(self, omni, omni_mock):
        """A slash or a query in an id stays inside its path segment."""
        route = omni_mock.get("/api/v2/customer_rooms/a%2Fb%3Fc").respond(
            json=_sample("get_room_by_room_id")
        )
        await omni.get_customer_room("a/b?c")
        assert route.called

    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (lambda o: o.replace_customer_info("1", {"a": 1}), TypeError),
            (lambda o: o.replace_customer_info("1", {"": "x"}), InvalidArgumentError),
            (lambda o: o.replace_customer_info("1", [("a", "b")]), TypeError),
            (lambda o: o.set_bot_active("1", "yes"), TypeError),
            (lambda o: o.send_bot_message("1", ""), InvalidArgumentError),
            (lambda o: o.send_bot_message("1", "x", payload={"a": 1}), TypeError),
            (lambda o: o.assign_agent("1", "2", max_agent=0), InvalidArgumentError),
            (lambda o: o.create_room_tag("1", ""), InvalidArgumentError),
        ],
    )
    async def test_bad_arguments_raise_before_sending(
        self, omni, omni_mock, call, error
    ):
        """Invalid arguments raise before any request."""
        with pytest.raises(error):
            await call(omni)
        assert not omni_mock.calls

    def test_bad_listing_arguments(self, omni):
        """Listings check their arguments when created."""
        with pytest.raises(InvalidArgumentError):
            omni.iter_agents(scope="phone")
        with pytest.raises(InvalidArgumentError):
            omni.iter_agents_by_division([])
        with pytest.raises(InvalidArgumentError):
            omni.iter_agents_by_division(["1"], sort="random")
        with pytest.raises(InvalidArgumentError):
            omni.iter_divisions(page_size=0)

    def test_settings_are_checked(self):
        """A bad app code, secret or base URL is refused at construction."""
        with pytest.raises(InvalidArgumentError, match="app_code"):
            OmnichannelClient("bad code", SECRET)
        with pytest.raises(InvalidArgumentError, match="secret_key"):
            OmnichannelClient(APP, "line\nbreak")
        with pytest.raises(InvalidArgumentError, match="https"):
            OmnichannelClient(APP, SECRET, base_url="http://multichannel.qiscus.com")

    async def test_secret_never_shown(self, omni, omni_mock, caplog):
        """The secret is absent from repr, errors and debug logs."""
        omni_mock.get("/api/v2/customer_rooms/1").respond(400, text=f"bad key {SECRET}")
        caplog.set_level(logging.DEBUG, logger="aioqiscus")
        with pytest.raises(Exception) as caught:
            await omni.get_customer_room("1")
        assert SECRET not in str(caught.value)
        assert SECRET not in caught.value.body
        assert SECRET not in repr(omni)
        assert SECRET not in repr(omni._transport._headers)
        assert SECRET not in caplog.text

    async def test_closed_client_refuses_calls(self, omni_mock):
        """After aclose(), calls raise ClientClosedError without a request."""
        client = OmnichannelClient(APP, SECRET)
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await client.get_room_tags("1")
        with pytest.raises(ClientClosedError):
            async with client:
                pass
        assert not omni_mock.calls

    async def test_event_hooks_see_each_attempt(self, omni_mock):
        """Event hooks are called for Omnichannel requests as for Chat SDK ones."""
        seen = []
        omni_mock.get("/api/v2/channels").respond(json=_sample("get_all_channels"))
        async with OmnichannelClient(
            APP, SECRET, event_hooks={"request": [seen.append]}
        ) as client:
            await client.list_channels()
        assert [(e.method, e.operation) for e in seen] == [("GET", "list_channels")]
        assert seen[0].url.endswith("/api/v2/channels")

    async def test_base_url_and_retry_options(self):
        """Another base URL is used as given; retry=None sends once."""
        with respx.mock(base_url="https://omnichannel.qiscus.com") as router:
            route = router.get("/api/v2/channels").respond(503)
            async with OmnichannelClient(
                APP,
                SECRET,
                base_url="https://omnichannel.qiscus.com",
                retry=RetryPolicy(max_retries=0),
            ) as client:
                with pytest.raises(ServerError):
                    await client.list_channels()
            assert route.call_count == 1


def test_import_aioqiscus_does_not_import_omnichannel():
    """``import aioqiscus`` leaves the Omnichannel package unimported."""
    code = (
        "import sys, aioqiscus; "
        "print(any(m.startswith('aioqiscus.omnichannel') for m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


async def test_channels_answer_with_other_keys(omni_mock):
    """Keys of data that are not *_channels lists are no channels, and no error."""
    data = _sample("get_all_channels")
    data["data"]["total"] = 7
    data["data"]["new_channels"] = [{"id": 99, "name": "New"}]
    omni_mock.get("/api/v2/channels").respond(json=data)
    async with OmnichannelClient(APP, SECRET) as omni:
        channels = await omni.list_channels()
    assert [(c.kind, c.id) for c in channels][-1] == ("new", "99")
    assert len(channels) == 7


async def test_customer_info_channel_of_another_type_is_kept(omni_mock):
    """A channel that is not an object is None, kept in extras."""
    data = _sample("get_customer_info")
    data["data"]["channel"] = "Support WA"
    omni_mock.get("/api/v1/qiscus/room/1/user_info").respond(json=data)
    async with OmnichannelClient(APP, SECRET) as omni:
        info = await omni.get_customer_info("1")
    assert info.channel is None
    assert info.extras["channel"] == "Support WA"
