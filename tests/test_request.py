"""client.request(): any endpoint, with the client's auth, retries and errors."""

from __future__ import annotations

import math

import anyio
import httpx
import pytest

from aioqiscus import (
    AmbiguousSendError,
    AuthenticationError,
    InvalidArgumentError,
    NotFoundError,
    QiscusClient,
    ResponseShapeError,
)
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BASE, sample
from .helpers import in_process

PROFILE = "/api/v2.1/rest/user_profile"


@pytest.fixture(name="pinned")
async def _pinned():
    async with QiscusClient("my-app", "s3cr3t-key", api_version="v2.1") as client:
        yield client


class TestThroughTheFake:
    @pytest.mark.parametrize("dialects", [{"v2"}, {"v2.1"}])
    async def test_negotiated_prefix(self, dialects):
        """A path is read below the negotiated dialect's prefix; results unwrapped."""
        fake = FakeQiscus(dialects=dialects)
        fake.add_user(ALICE, "Alice")
        key = "user_email" if dialects == {"v2"} else "user_id"
        async with in_process(fake) as client:
            with anyio.fail_after(10):
                results = await client.request(
                    "GET", "user_profile", params={key: ALICE}
                )
        assert results["user"]["username"] == "Alice"
        # The last: the first is the probe.
        assert fake.requests("user_profile")[-1].dialect == next(iter(dialects))

    async def test_raw_body_and_post(self):
        """raw=True returns the whole envelope; a POST body is sent as JSON."""
        fake = FakeQiscus()
        async with in_process(fake, "v2.1") as client:
            with anyio.fail_after(10):
                body = await client.request(
                    "post",
                    "/login_or_register",
                    json={"user_id": ALICE, "username": "Alice", "password": "pw"},
                    raw=True,
                )
        assert body["status"] == 200
        assert body["results"]["user"]["user_id"] == ALICE
        assert fake.store.users[ALICE].name == "Alice"

    async def test_pinned_dialect_on_an_auto_client(self):
        """dialect='v2' uses v2's prefix, without negotiating."""
        fake = FakeQiscus()
        fake.add_user(ALICE, "Alice")
        async with in_process(fake) as client:
            with anyio.fail_after(10):
                results = await client.request(
                    "GET", "user_profile", params={"user_email": ALICE}, dialect="v2"
                )
                assert client.dialect is None
        assert "token" in results["user"]  # v2's profile carries the token
        assert [e.dialect for e in fake.requests("user_profile")] == ["v2"]

    async def test_typed_error(self):
        """A Qiscus error envelope is the mapped error class."""
        fake = FakeQiscus()
        async with in_process(fake, "v2.1") as client:
            with anyio.fail_after(10), pytest.raises(NotFoundError) as info:
                await client.request(
                    "GET", "user_profile", params={"user_id": "nobody"}
                )
        assert info.value.from_envelope


class TestThroughRespx:
    async def test_headers_and_params(self, mock, pinned):
        """Credentials travel in the headers; a list value repeats its key."""
        route = mock.get("/api/v2.1/rest/get_user_unread_count").respond(
            json={"status": 200, "results": {"n": 1}}
        )
        results = await pinned.request(
            "GET",
            "get_user_unread_count",
            params={"user_ids[]": ["a", "b"], "flag": True, "n": 2},
        )
        assert results == {"n": 1}
        request = route.calls.last.request
        assert request.headers["QISCUS-SDK-SECRET"] == "s3cr3t-key"
        assert request.url.query == b"user_ids%5B%5D=a&user_ids%5B%5D=b&flag=true&n=2"

    async def test_get_is_retried(self, mock, pinned):
        """A GET answered 503 twice is retried and returns the third answer."""
        route = mock.get(PROFILE).mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(503),
                httpx.Response(200, json=sample("v21/user_profile")),
            ]
        )
        results = await pinned.request("GET", "user_profile")
        assert results["user"]["username"] == "Johnny Cage"
        assert route.call_count == 3

    @pytest.mark.parametrize("method", ["POST", "PATCH"])
    async def test_non_idempotent_is_not_retried(self, mock, pinned, method):
        """A POST or PATCH that got a 502 may have landed: raised, never repeated."""
        route = mock.route(method=method, path=PROFILE).respond(502)
        with pytest.raises(AmbiguousSendError):
            await pinned.request(method, "user_profile", json={"a": 1})
        assert route.call_count == 1

    async def test_non_json_success(self, mock, pinned):
        """A 200 that is not JSON is a ResponseShapeError naming the status and server."""
        mock.get(PROFILE).respond(200, text="<html>hi</html>")
        with pytest.raises(ResponseShapeError, match="200") as info:
            await pinned.request("GET", "user_profile")
        assert f"does not look like a Qiscus server at {BASE}" in str(info.value)

    async def test_secret_echoed_is_masked(self, mock, pinned):
        """A server echoing the secret key in an error never gets it into the error."""
        mock.get(PROFILE).respond(
            401, json={"status": 401, "error": {"message": "bad key s3cr3t-key"}}
        )
        with pytest.raises(AuthenticationError) as info:
            await pinned.request("GET", "user_profile")
        assert "s3cr3t-key" not in str(info.value)
        assert "s3cr3t-key" not in info.value.body

    async def test_body_without_envelope(self, mock, pinned):
        """A JSON answer without results is returned whole."""
        mock.delete("/api/v2.1/rest/thing").respond(json={"ok": True})
        assert await pinned.request("DELETE", "thing") == {"ok": True}


BAD = [
    ("GET", "https://evil.example/api", InvalidArgumentError),
    ("GET", f"{BASE}/api/v2.1/rest/user_profile", InvalidArgumentError),
    ("GET", "//evil.example/x", InvalidArgumentError),
    ("GET", "javascript:alert(1)", InvalidArgumentError),
    ("GET", "https%3A%2F%2Fevil.example", InvalidArgumentError),
    ("GET", "../../v2/rest/user_profile", InvalidArgumentError),
    ("GET", "a/%2e%2e/b", InvalidArgumentError),
    ("GET", "a\\b", InvalidArgumentError),
    ("GET", "user_profile\r\nX-Evil: 1", InvalidArgumentError),
    ("GET", "user_profile%0d%0a", InvalidArgumentError),
    ("GET", "user_profile?user_id=a", InvalidArgumentError),
    ("GET", "user_profile#top", InvalidArgumentError),
    ("GET", "", InvalidArgumentError),
    ("GET", "/", InvalidArgumentError),
    ("GET", 42, TypeError),
    ("TRACE", "user_profile", InvalidArgumentError),
    ("HEAD", "user_profile", InvalidArgumentError),
    (None, "user_profile", TypeError),
]


class TestRefusedBeforeSending:
    @pytest.mark.parametrize(("method", "path", "error"), BAD)
    async def test_bad_method_or_path(self, mock, pinned, method, path, error):
        """A URL, a path that leaves the prefix or smuggles a header, a bad verb."""
        with pytest.raises(error):
            await pinned.request(method, path)
        assert not mock.calls

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"json": {"when": object()}}, InvalidArgumentError),
            ({"json": {"x": math.nan}}, InvalidArgumentError),
            ({"json": ["a list"]}, TypeError),
            ({"params": {"x": None}}, TypeError),
            ({"params": {"x": {"nested": 1}}}, TypeError),
            ({"params": ["x"]}, TypeError),
            ({"dialect": "v3"}, InvalidArgumentError),
            ({"dialect": "auto"}, InvalidArgumentError),
        ],
    )
    async def test_bad_body_params_dialect(self, mock, pinned, kwargs, error):
        """A body that is not JSON, odd params, an unknown dialect: refused."""
        with pytest.raises(error):
            await pinned.request("POST", "user_profile", **kwargs)
        assert not mock.calls

    async def test_over_long_query_value(self, mock, pinned):
        """A query value too long for a URL is refused with the limit, not sent
        (httpx would raise InvalidURL of its own)."""
        with pytest.raises(InvalidArgumentError, match="8192") as info:
            await pinned.request(
                "GET", "user_profile", params={"user_id": "x" * 70_000}
            )
        assert "params['user_id']" in str(info.value)
        assert not mock.calls

    async def test_circular_body(self, mock, pinned):
        """A body that contains itself is refused, not sent."""
        body: dict = {}
        body["self"] = body
        with pytest.raises(InvalidArgumentError, match="JSON"):
            await pinned.request("POST", "user_profile", json=body)
        assert not mock.calls
