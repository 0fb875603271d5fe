"""get_or_create_channel: the documented GET first, the Go SDK's POST learned.

``v2.1/room.md`` says ``GET get_or_create_channel`` with ``unique_id`` and
``participants[]``; the official Go SDK sends a ``POST`` with a JSON body.
The client tries GET, learns POST from a bare 404 or a 405, keeps using the
verb the server took, and ``negotiation_report()`` shows it.
"""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from aioqiscus import NotFoundError, Operation, QiscusClient, RoomType
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BOB, sample

PATH = "/api/v2.1/rest/get_or_create_channel"
PROBE_PATH = "/api/v2.1/rest/user_profile"
HEADERS = {"QISCUS_SDK_APP_ID": "fake-app", "QISCUS_SDK_SECRET": "fake-secret"}


@pytest.fixture(name="v21")
async def _v21():
    async with QiscusClient("my-app", "s3cr3t-key-value-0123", api_version="v2.1") as c:
        yield c


def _verb(client: QiscusClient) -> str:
    return client.negotiation_report().route(Operation.GET_OR_CREATE_CHANNEL).method


class TestVerbs:
    async def test_documented_get_first(self, mock, v21):
        """A server serving the documented GET gets a GET with the query."""
        route = mock.get(PATH).respond(json=sample("v21/get_or_create_channel"))
        post = mock.post(PATH).respond(500)
        room = await v21.get_or_create_channel(
            "test123", ["a", "b"], name="News", options={"k": 1}
        )
        assert room.channel_id == "test123"
        assert list(route.calls.last.request.url.params.multi_items()) == [
            ("unique_id", "test123"),
            ("participants[]", "a"),
            ("participants[]", "b"),
            ("room_name", "News"),
            ("room_options", '{"k":1}'),
        ]
        assert not post.called
        assert _verb(v21) == "GET"

    @pytest.mark.parametrize(
        "refusal",
        [
            httpx.Response(405, text="Method Not Allowed"),
            httpx.Response(404, text="<html>404 page not found</html>"),
            httpx.Response(405, json={"status": 405, "error": {"message": "nope"}}),
        ],
        ids=["bare-405", "bare-404", "envelope-405"],
    )
    async def test_learns_post(self, mock, v21, refusal):
        """A GET refused as a verb is sent again as the Go SDK's POST, once."""
        get = mock.get(PATH).mock(return_value=refusal)
        post = mock.post(PATH).respond(json=sample("v21/get_or_create_channel"))
        room = await v21.get_or_create_channel("test123", ["a"], name="test123")
        assert room.channel_id == "test123"
        assert json.loads(post.calls.last.request.content) == {
            "unique_id": "test123",
            "participants": ["a"],
            "room_name": "test123",
        }
        assert _verb(v21) == "POST"
        await v21.get_or_create_channel("test123", ["a"])
        assert (get.call_count, post.call_count) == (1, 2)

    async def test_envelope_404_is_the_callers(self, mock, v21):
        """A Qiscus 404 (unknown user) is an answer, not a wrong verb."""
        mock.get(PATH).respond(
            404, json={"status": 404, "error": {"message": "user not found"}}
        )
        post = mock.post(PATH).respond(json=sample("v21/get_or_create_channel"))
        with pytest.raises(NotFoundError, match="user not found"):
            await v21.get_or_create_channel("c", ["ghost"])
        assert not post.called
        assert _verb(v21) == "GET"

    async def test_both_refused(self, mock, v21):
        """When POST is refused too, the POST's error is raised; GET stays."""
        mock.get(PATH).respond(405, text="no")
        mock.post(PATH).respond(404, text="no")
        with pytest.raises(NotFoundError):
            await v21.get_or_create_channel("c", ["a"])
        assert _verb(v21) == "GET"

    async def test_auto_fallback_does_not_reprobe(self, mock):
        """Under auto, a GET refused as a verb costs no second probe."""
        probe = mock.get(PROBE_PATH).respond(
            404, json={"status": 404, "error": {"message": "user not found"}}
        )
        mock.get(PATH).respond(404, text="404 page not found")
        mock.post(PATH).respond(json=sample("v21/get_or_create_channel"))
        async with QiscusClient("my-app", "s3cr3t-key-value-0123") as client:
            await client.get_or_create_channel("test123", ["a"])
            assert _verb(client) == "POST"
        assert probe.call_count == 1

    async def test_views_share_what_was_learned(self, mock, v21):
        """A client's views (with_options) use the verb the client learned."""
        mock.get(PATH).respond(405, text="no")
        post = mock.post(PATH).respond(json=sample("v21/get_or_create_channel"))
        await v21.get_or_create_channel("test123", ["a"])
        view = v21.with_options(retry=None)
        await view.get_or_create_channel("test123", ["a"])
        assert post.call_count == 2


class TestFake:
    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_fake_serves_both(self, method):
        """The fake answers the documented GET and the Go SDK's POST alike."""
        fake = FakeQiscus(dialects={"v2.1"})
        fake.add_user(ALICE)
        fake.add_user(BOB)
        args: dict[str, object] = (
            {"params": {"unique_id": "news", "participants[]": [ALICE, BOB]}}
            if method == "GET"
            else {"json": {"unique_id": "news", "participants": [ALICE, BOB]}}
        )
        async with fake.http_client(base_url="http://fake") as http:
            with anyio.fail_after(5):
                answer = await http.request(method, PATH, headers=HEADERS, **args)
        assert answer.status_code == 200
        room = answer.json()["results"]["room"]
        assert (room["room_channel_id"], room["room_name"]) == ("news", "news")

    async def test_client_uses_get_on_the_fake(self):
        """Against the fake the client's first GET is taken: no POST sent."""
        fake = FakeQiscus(dialects={"v2.1"})
        fake.add_user(ALICE)
        http = fake.http_client()
        async with QiscusClient(
            fake.app_id, fake.secret_key, http_client=http
        ) as client:
            room = await client.get_or_create_channel("news", [ALICE], name="News")
            assert _verb(client) == "GET"
        await http.aclose()
        assert (room.type, room.name) == (RoomType.GROUP, "News")
        assert [e.method for e in fake.requests("get_or_create_channel")] == ["GET"]
