"""The fake server itself: routing, auth, validation, faults, journal."""

from __future__ import annotations

import json

import httpx
import pytest

from aioqiscus import (
    AmbiguousSendError,
    BadRequestError,
    Dialect,
    QiscusClient,
    RateLimitError,
    ResponseShapeError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from aioqiscus.testing import FakeQiscus, Fault, serve

HEADERS = {"QISCUS_SDK_APP_ID": "fake-app", "QISCUS_SDK_SECRET": "fake-secret"}


@pytest.fixture(name="fake")
def _fake():
    fake = FakeQiscus()
    fake.add_user("alice@example.com", "Alice")
    fake.add_user("bob@example.com", "Bob")
    return fake


@pytest.fixture(name="http")
async def _http(fake):
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://fake", headers=HEADERS
    ) as http:
        yield http


def client_for(fake: FakeQiscus, **kwargs) -> QiscusClient:
    return QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
        **kwargs,
    )


class TestRouting:
    async def test_unknown_endpoint_404(self, http):
        """An endpoint neither dialect has is a 404 envelope."""
        response = await http.get("/api/v2.1/rest/no_such_thing")
        assert response.status_code == 404
        assert response.json()["status"] == 404

    async def test_unknown_prefix_html_404(self, http):
        """Paths outside the REST API answer an HTML 404."""
        response = await http.get("/somewhere")
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html"

    async def test_unserved_dialect_html_404(self):
        """A v2-only server answers v2.1 paths with a plain HTML 404."""
        fake = FakeQiscus(dialects={"v2"})
        async with fake.http_client(base_url="http://fake", headers=HEADERS) as http:
            response = await http.get("/api/v2.1/rest/user_profile?user_id=x")
        assert response.status_code == 404
        assert response.text.startswith("<html>")

    async def test_wrong_verb_405(self, http):
        """v2.1 get_rooms_info is GET; POST is refused."""
        response = await http.post("/api/v2.1/rest/get_rooms_info", json={})
        assert response.status_code == 405

    def test_bad_dialect_modes(self):
        """Only v2 and v2.1 exist."""
        with pytest.raises(ValueError, match="dialects"):
            FakeQiscus(dialects={"v3"})
        with pytest.raises(ValueError, match="dialects"):
            FakeQiscus(dialects=())


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"QISCUS_SDK_SECRET": "wrong"}, {"QISCUS-SDK-SECRET": "wrong"}],
    )
    async def test_bad_secret_401(self, fake, headers):
        """A missing or wrong secret is a 401 envelope."""
        async with fake.http_client(base_url="http://fake", headers=headers) as http:
            response = await http.get(
                "/api/v2.1/rest/user_profile?user_id=alice@example.com"
            )
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Unauthorized"

    async def test_dashed_headers_accepted(self, fake):
        """The v2.1 documents' dashed header spelling works too."""
        headers = {"QISCUS-SDK-APP-ID": "fake-app", "QISCUS-SDK-SECRET": "fake-secret"}
        async with fake.http_client(base_url="http://fake", headers=headers) as http:
            response = await http.get(
                "/api/v2.1/rest/user_profile?user_id=alice@example.com"
            )
        assert response.status_code == 200
        assert response.json()["results"]["user"]["user_id"] == "alice@example.com"

    async def test_wrong_app_400(self, fake):
        """An unknown app is a 400, as observed on live servers."""
        headers = {**HEADERS, "QISCUS_SDK_APP_ID": "other"}
        async with fake.http_client(base_url="http://fake", headers=headers) as http:
            response = await http.get(
                "/api/v2/rest/user_profile?user_email=alice@example.com"
            )
        assert response.status_code == 400


class TestValidation:
    async def test_v2_update_room_needs_user_email(self, fake, http):
        """v2 update_room without user_email is a 400 envelope."""
        room = fake.store.create_room("G", "group", "alice@example.com", [])
        response = await http.post(
            "/api/v2/rest/update_room", json={"room_id": str(room.id), "room_name": "x"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["detailed_messages"] == [
            "user_email is required"
        ]

    async def test_malformed_json_body_400(self, http):
        """A body that is not JSON is a 400, never a crash."""
        response = await http.post(
            "/api/v2.1/rest/create_room",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400

    async def test_form_encoded_body(self, http):
        """Form-encoded bodies with key[] arrays are accepted."""
        response = await http.post(
            "/api/v2/rest/create_room",
            data={
                "name": "Form",
                "creator": "alice@example.com",
                "participants[]": ["bob@example.com"],
            },
        )
        assert response.status_code == 200
        results = response.json()["results"]
        assert results["participants"] == ["alice@example.com", "bob@example.com"]
        assert isinstance(results["room_id"], int)

    async def test_v21_string_ids_and_options_string(self, http):
        """v2.1 answers string room ids and room_options as a JSON string."""
        response = await http.post(
            "/api/v2.1/rest/create_room",
            json={
                "room_name": "R",
                "creator": "alice@example.com",
                "participants": ["bob@example.com"],
                "room_options": '{"a":1}',
            },
        )
        room = response.json()["results"]["room"]
        assert isinstance(room["room_id"], str)
        assert room["room_options"] == '{"a":1}'

    async def test_target_needs_two_users(self, http):
        """get_or_create_room_with_target with one user is a 400."""
        response = await http.post(
            "/api/v2.1/rest/get_or_create_room_with_target",
            json={"user_ids": ["alice@example.com"]},
        )
        assert response.status_code == 400

    async def test_query_arrays(self, fake, http):
        """GET arrays use the name[] form."""
        room = fake.store.create_room("G", "group", "alice@example.com", [])
        response = await http.get(
            "/api/v2.1/rest/get_rooms_info", params=[("room_ids[]", str(room.id))]
        )
        assert [r["room_id"] for r in response.json()["results"]["rooms"]] == [
            str(room.id)
        ]

    async def test_journal_masks_secret(self, fake, http):
        """The journal records every request without the secret."""
        await http.get(
            "/api/v2.1/rest/user_profile", params={"user_id": "alice@example.com"}
        )
        entry = fake.journal[-1]
        assert (entry.method, entry.dialect, entry.endpoint, entry.status) == (
            "GET",
            "v2.1",
            "user_profile",
            200,
        )
        assert "fake-secret" not in json.dumps(entry.headers)

    def test_reset(self, fake):
        """reset() forgets users, rooms, faults and the journal."""
        fake.inject(Fault.status(500))
        fake.reset(dialects={"v2"})
        assert not fake.store.users
        assert not fake.faults
        assert fake.dialects == {"v2"}


class TestNegotiationAgainstFake:
    @pytest.mark.parametrize(
        ("dialects", "expected"),
        [
            ({"v2"}, Dialect.V2),
            ({"v2.1"}, Dialect.V2_1),
            ({"v2", "v2.1"}, Dialect.V2_1),
        ],
    )
    async def test_picks_dialect_with_one_probe(self, dialects, expected):
        """The probe picks the served dialect: one probe, three to confirm v2."""
        fake = FakeQiscus(dialects=dialects)
        async with client_for(fake) as client:
            assert await client.negotiate() is expected
            await client.negotiate()
        assert len(fake.journal) == (3 if expected is Dialect.V2 else 1)

    async def test_bad_secret_is_authentication_error(self):
        """A wrong secret fails negotiation with AuthenticationError."""
        from aioqiscus import AuthenticationError

        fake = FakeQiscus(secret_key="right")
        client = QiscusClient(
            "fake-app",
            "wrong",
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        )
        with pytest.raises(AuthenticationError):
            await client.negotiate()


class TestFaults:
    async def test_503_retried_then_succeeds(self, fake):
        """Two injected 503s are retried away."""
        fake.inject(Fault.status(503), endpoints="get_rooms_info", times=2)
        room = fake.store.create_room("G", "group", "alice@example.com", [])
        async with client_for(fake, api_version="v2.1") as client:
            rooms = await client.get_rooms_info([str(room.id)])
        assert [r.name for r in rooms] == ["G"]
        assert [e.status for e in fake.requests("get_rooms_info")] == [503, 503, 200]

    @pytest.mark.parametrize("code", [500, 502, 503, 504])
    async def test_persistent_5xx_is_server_error(self, fake, code):
        """A status that outlasts the retries surfaces as ServerError."""
        fake.inject(Fault.status(code))
        async with client_for(fake, api_version="v2.1") as client:
            with pytest.raises(ServerError) as info:
                await client.get_rooms_info(["1"])
        assert info.value.status_code == code
        assert len(fake.requests("get_rooms_info")) == 3

    async def test_429_with_retry_after(self, fake):
        """429 with Retry-After is retried; a long one raises RateLimitError."""
        fake.inject(Fault.rate_limited(0), endpoints="get_rooms_info", times=1)
        fake.inject(Fault.rate_limited(999), endpoints="update_room")
        room = fake.store.create_room("G", "group", "alice@example.com", [])
        async with client_for(fake, api_version="v2.1") as client:
            await client.get_rooms_info([str(room.id)])
            with pytest.raises(RateLimitError) as info:
                await client.update_room(str(room.id), name="x")
        assert info.value.retry_after == 999
        assert len(fake.requests("get_rooms_info")) == 2

    @pytest.mark.parametrize(
        "body", ["html", "truncated", "wrong_types", "empty", "not_envelope"]
    )
    async def test_malformed_bodies_are_shape_errors(self, fake, body):
        """Every malformed body becomes ResponseShapeError."""
        fake.inject(Fault.malformed(body))
        async with client_for(fake, api_version="v2.1") as client:
            with pytest.raises(ResponseShapeError):
                await client.get_rooms_info(["1"])

    async def test_delay(self, fake):
        """A delay fault slows the answer but it still arrives."""
        fake.inject(Fault.delay(0.05), times=1)
        room = fake.store.create_room("G", "group", "alice@example.com", [])
        async with client_for(fake, api_version="v2.1") as client:
            counts = await client.get_unread_counts("alice@example.com", [str(room.id)])
        assert counts == {str(room.id): 0}
        assert fake.journal[0].fault == Fault.delay(0.05)

    async def test_drop_in_process(self, fake):
        """In-process, a drop reaches httpx as ReadError: idempotent calls retry."""
        fake.inject(Fault.drop(), endpoints="add_room_participants", times=1)
        room = fake.store.create_room("G", "group", "alice@example.com", [])
        async with client_for(fake, api_version="v2.1") as client:
            added = await client.add_participants(str(room.id), ["bob@example.com"])
        assert [u.id for u in added] == ["bob@example.com"]
        assert len(fake.requests("add_room_participants")) == 2

    async def test_drop_over_socket_send_is_ambiguous(self, fake):
        """Over loopback, a dropped create_room was processed: AmbiguousSendError."""
        fake.inject(Fault.drop(), endpoints="create_room", times=1)
        with serve(fake) as url:
            async with QiscusClient(
                fake.app_id, fake.secret_key, base_url=url, api_version="v2.1"
            ) as client:
                with pytest.raises(AmbiguousSendError):
                    await client.create_room(
                        "G", ["bob@example.com"], "alice@example.com"
                    )
                # the room exists: the request was processed before the drop
                assert [r.name for r in fake.store.rooms.values()] == ["G"]
                # and the client is healthy afterwards
                rooms = [
                    r
                    async for r in client.iter_user_rooms(
                        "alice@example.com", show_empty=True
                    )
                ]
        assert [r.name for r in rooms] == ["G"]

    async def test_probability_is_seeded(self):
        """The same seed hits the same requests."""

        def run(seed):
            fake = FakeQiscus(seed=seed)
            fake.inject(Fault.status(500), probability=0.5)
            return fake

        hits = []
        for _ in range(2):
            fake = run(7)
            async with fake.http_client(base_url="http://f", headers=HEADERS) as http:
                statuses = [
                    (
                        await http.get("/api/v2.1/rest/user_profile?user_id=x")
                    ).status_code
                    for _ in range(20)
                ]
            hits.append(statuses)
        assert hits[0] == hits[1]
        assert 500 in hits[0]
        assert 404 in hits[0]

    async def test_transport_error_when_server_gone(self):
        """Connecting to a stopped server raises TransportError after retries."""
        fake = FakeQiscus()
        with serve(fake) as url:
            pass
        policy = RetryPolicy(max_retries=1)
        async with QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, api_version="v2.1", retry=policy
        ) as client:
            with pytest.raises(TransportError):
                await client.get_rooms_info(["1"])

    async def test_bad_request_from_fake_maps(self, fake):
        """Validation errors reach the client as BadRequestError."""
        room = fake.store.create_room(
            "S", "single", "alice@example.com", ["bob@example.com"]
        )
        async with client_for(fake, api_version="v2.1") as client:
            with pytest.raises(BadRequestError, match="group"):
                await client.update_room(str(room.id), name="x")
