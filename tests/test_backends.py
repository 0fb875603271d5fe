"""The aiohttp backend behaves like the httpx one where it matters."""

from __future__ import annotations

import asyncio
import gzip
import ssl

import aiohttp
import anyio
import httpx
import pytest
import yarl

from aioqiscus import (
    AmbiguousSendError,
    InvalidArgumentError,
    QiscusClient,
    RequestTimeoutError,
    ResponseShapeError,
    ResponseTooLargeError,
    RetryPolicy,
    TransportError,
)
from aioqiscus.backends import (
    POOL_SIZE,
    AiohttpBackend,
    HttpxBackend,
    shared_ssl_context,
)
from aioqiscus.testing import FakeQiscus, Fault, serve

from .conftest import ALICE, BOB, sample
from .hostile._servers import raw_server, read_head, response_head


async def test_shared_session_not_closed(served):
    """An aiohttp app's own session is used and left open."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    async with aiohttp.ClientSession() as session:
        async with QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, backend=AiohttpBackend(session)
        ) as client:
            assert (await client.get_user(ALICE)).id == ALICE
        assert not session.closed


async def test_refused_connection_is_never_sent():
    """A refused connection is retried even for a send, then TransportError."""
    fake = FakeQiscus()
    with serve(fake) as url:
        pass
    async with QiscusClient(
        "fake-app",
        "fake-secret",
        base_url=url,
        api_version="v2.1",
        backend=AiohttpBackend(),
        retry=RetryPolicy(max_retries=2),
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.create_room("R", [BOB], ALICE)
    assert not isinstance(info.value, AmbiguousSendError)
    assert info.value.never_sent is True


async def test_drop_is_ambiguous_for_sends(served):
    """A dropped connection after processing is ambiguous for a send."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    fake.add_user(BOB)
    fake.inject(Fault.drop(), endpoints="create_room", times=1)
    async with QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url=url,
        api_version="v2.1",
        backend=AiohttpBackend(),
    ) as client:
        with pytest.raises(AmbiguousSendError):
            await client.create_room("R", [BOB], ALICE)
    assert len(fake.store.rooms) == 1


async def test_timeout_maps(served):
    """A slow answer beyond the timeout is a RequestTimeoutError."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    fake.inject(Fault.delay(0.5))
    async with QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url=url,
        api_version="v2.1",
        backend=AiohttpBackend(timeout=0.1),
        retry=None,
    ) as client:
        with pytest.raises(RequestTimeoutError):
            await client.get_user(ALICE)


@pytest.mark.parametrize("backend", [None, "aiohttp"])
async def test_redirect_not_followed(backend):
    """Neither backend follows a redirect (with our credentials) anywhere."""
    stolen = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/stolen"):
            stolen.append(dict(scope["headers"]))
        await send(
            {
                "type": "http.response.start",
                "status": 302,
                "headers": [(b"location", b"/stolen"), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    with serve(app) as url:
        async with QiscusClient(
            "a",
            "s",
            base_url=url,
            api_version="v2.1",
            backend=AiohttpBackend() if backend else None,
        ) as client:
            with pytest.raises(ResponseShapeError, match="not followed"):
                await client.get_user(ALICE)
    assert stolen == []


async def test_cancellation_releases_connections(served):
    """Cancelled aiohttp calls leave the connector with nothing in use."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    fake.inject(Fault.delay(0.05), probability=0.5)
    backend = AiohttpBackend()
    async with QiscusClient(
        fake.app_id, fake.secret_key, base_url=url, api_version="v2.1", backend=backend
    ) as client:
        async with anyio.create_task_group() as tg:
            for i in range(50):

                async def one(delay=i / 1000):
                    with anyio.move_on_after(delay):
                        await client.get_user(ALICE)

                tg.start_soon(one)
        await anyio.sleep(0.1)
        connector = backend._get_session().connector
        assert sum(len(v) for v in connector._acquired_per_host.values()) == 0
        fake.faults.clear()
        assert (await client.get_user(ALICE)).id == ALICE


class TestByName:
    async def test_aiohttp_by_name(self, served):
        """backend="aiohttp" is the aiohttp backend, with the client's timeouts."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        async with QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            backend="aiohttp",
            timeout=httpx.Timeout(7.0, connect=2.0),
        ) as client:
            backend = client._transport.backend
            assert isinstance(backend, AiohttpBackend)
            assert backend._timeout.total == 7.0
            assert backend._timeout.sock_connect == 2.0
            assert (await client.get_user(ALICE)).id == ALICE

    def test_same_deadline_as_httpx(self):
        """Both backends bound an attempt by connect, read and write, not pool."""
        timeout = httpx.Timeout(5.0, pool=60.0)
        by_name = QiscusClient(
            "my-app", "s3cr3t-key", backend="aiohttp", timeout=timeout
        )
        default = QiscusClient("my-app", "s3cr3t-key", timeout=timeout)
        assert default._transport.backend.deadline == 5.0
        assert by_name._transport.backend._timeout.total == 5.0

    def test_httpx_by_name(self):
        """backend="httpx" is the default backend."""
        client = QiscusClient("my-app", "s3cr3t-key", backend="httpx", timeout=3.0)
        assert isinstance(client._transport.backend, HttpxBackend)
        assert client._transport.backend.timeout == httpx.Timeout(3.0)

    @pytest.mark.parametrize("name", ["requests", "", "AIOHTTP"])
    def test_unknown_name(self, name):
        """Another name is refused before anything is built."""
        with pytest.raises(InvalidArgumentError, match="'httpx', 'aiohttp'"):
            QiscusClient("my-app", "s3cr3t-key", backend=name)

    def test_not_with_an_http_client(self):
        """A backend name and an httpx client together are refused."""
        with pytest.raises(InvalidArgumentError, match="not both"):
            QiscusClient(
                "my-app",
                "s3cr3t-key",
                backend="aiohttp",
                http_client=httpx.AsyncClient(),
            )


def test_one_ssl_context_per_process():
    """Clients we create share one SSL context, built once."""
    first = QiscusClient("my-app", "s3cr3t-key")._transport.backend.client
    second = QiscusClient("my-app", "other-key")._transport.backend.client
    context = shared_ssl_context()
    for client in (first, second):
        assert client._transport._pool._ssl_context is context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


class TestPools:
    """The httpx backend spreads overlapping requests over pools of 8."""

    async def test_sequential_calls_use_one_connection(self, served):
        """Calls one after another share one pool and one connection."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        async with QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, api_version="v2.1"
        ) as client:
            for _ in range(20):
                await client.get_user(ALICE)
            backend = client._transport.backend
            assert len(backend.pools) == 1
            assert len(backend.client._transport._pool.connections) == 1

    async def test_overlapping_calls_fill_pools_of_eight(self, served):
        """40 calls in flight open 5 pools of 8 connections, and all complete."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        fake.inject(Fault.delay(0.2))
        async with QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, api_version="v2.1"
        ) as client:
            found = []

            async def one():
                found.append(await client.get_user(ALICE))

            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    for _ in range(40):
                        tg.start_soon(one)
            backend = client._transport.backend
            sizes = [len(p._transport._pool.connections) for p in backend.pools]
        assert len(found) == 40
        assert sizes == [POOL_SIZE] * 5
        assert all(p.is_closed for p in backend.pools)

    async def test_max_connections_in_all(self, served):
        """Pools never hold more connections than max_connections together."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        fake.inject(Fault.delay(0.1))
        backend = HttpxBackend(max_connections=12)
        async with QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            api_version="v2.1",
            backend=backend,
            max_in_flight=30,
        ) as client:
            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    for _ in range(30):
                        tg.start_soon(client.get_user, ALICE)
            limits = [p._transport._pool._max_connections for p in backend.pools]
        assert limits == [8, 4]

    async def test_injected_client_is_the_only_pool(self, served):
        """A client passed in is used alone, however many calls overlap."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        async with httpx.AsyncClient() as http:
            async with QiscusClient(
                fake.app_id,
                fake.secret_key,
                base_url=url,
                api_version="v2.1",
                http_client=http,
            ) as client:
                with anyio.fail_after(20):
                    async with anyio.create_task_group() as tg:
                        for _ in range(30):
                            tg.start_soon(client.get_user, ALICE)
                assert client._transport.backend.pools == [http]
            assert not http.is_closed

    async def test_respx_answers_in_new_pools(self, mock):
        """Users' respx routes answer calls in pools opened after the first."""
        route = mock.get("/api/v2.1/rest/user_profile").respond(
            json=sample("v21/user_profile")
        )
        async with QiscusClient("my-app", "s3cr3t-key", api_version="v2.1") as client:
            backend = client._transport.backend
            for _ in range(3):  # as if 24 calls were in flight
                backend._busy[backend._pick()] += POOL_SIZE
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for _ in range(5):
                        tg.start_soon(client.get_user, "user@email.com")
            assert len(backend.pools) == 4
        assert route.call_count == 5


@pytest.mark.parametrize(
    ("backend", "parse"),
    [(HttpxBackend, httpx.URL), (AiohttpBackend, yarl.URL)],
    ids=["httpx", "aiohttp"],
)
def test_parsed_urls_are_bounded(backend, parse):
    """Endpoint URLs are parsed once, and the backend keeps a bounded number."""
    made = backend()
    urls = [f"https://api.qiscus.com/api/v2.1/rest/e{i}" for i in range(200)]
    assert [made._urls[u] for u in urls] == [parse(u) for u in urls]
    assert made._urls[urls[0]] is made._urls[urls[0]]
    assert len(made._urls) == 128


async def test_headers_reused_only_while_unchanged():
    """The aiohttp backend's converted headers follow a changed mapping.

    Converted once and reused (a speed-up), they must never go out stale,
    nor show a secret in their repr.
    """
    seen: list[dict[bytes, bytes]] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        seen.append(dict(scope["headers"]))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    headers = {"QISCUS-SDK-SECRET": "hush", "X-Which": "one"}
    backend = AiohttpBackend()
    with serve(app) as url, anyio.fail_after(10):
        try:
            for which in ("one", "one", "two"):
                headers["X-Which"] = which
                raw = await backend.send(
                    "GET",
                    url + "/",
                    query=(),
                    headers=headers,
                    content=None,
                    files=None,
                    form=None,
                )
                assert raw.status_code == 200
            prepared = backend._multidict(headers)
        finally:
            await backend.aclose()
    assert [h[b"x-which"] for h in seen] == [b"one", b"one", b"two"]
    assert all(h[b"qiscus-sdk-secret"] == b"hush" for h in seen)
    assert backend._multidict(headers) is prepared
    assert "hush" not in repr(prepared)


class TestClone:
    """``clone()``: a backend for another event loop, same settings."""

    async def test_httpx_keeps_settings_not_pools(self):
        """The clone has the settings and a pool of its own."""
        timeout = httpx.Timeout(7.0, connect=2.0)
        backend = HttpxBackend(
            timeout=timeout, max_connections=3, max_response_bytes=1234
        )
        clone = backend.clone()
        try:
            assert isinstance(clone, HttpxBackend)
            assert clone.timeout == timeout
            assert clone.max_connections == 3
            assert clone.max_response_bytes == 1234
            assert clone.client is not backend.client
        finally:
            await backend.aclose()
            if clone is not None:
                await clone.aclose()

    async def test_httpx_injected_client_is_not_cloned(self):
        """An injected client's pool belongs to one loop: no clone."""
        async with httpx.AsyncClient() as http:
            assert HttpxBackend(http).clone() is None

    async def test_aiohttp_keeps_settings(self):
        """The clone has the timeouts and limits, and no session yet."""
        backend = AiohttpBackend(
            timeout=7.0, connect_timeout=2.0, max_connections=3, max_response_bytes=9
        )
        clone = backend.clone()
        assert isinstance(clone, AiohttpBackend)
        assert clone._timeout.total == 7.0
        assert clone._timeout.sock_connect == 2.0
        assert clone.max_connections == 3
        assert clone.max_response_bytes == 9
        assert clone._session is None
        await clone.aclose()
        await backend.aclose()

    async def test_aiohttp_shared_session_is_not_cloned(self):
        """A session of the user's belongs to one loop: no clone."""
        async with aiohttp.ClientSession() as session:
            assert AiohttpBackend(session).clone() is None


async def test_every_answer_gives_its_connection_back():
    """With one connection allowed, no answer keeps it from the next request.

    A raw server answers whole, chunked, gzip'd, too large and cut short; the
    backend awaits aiohttp's response rather than entering it, so its own
    ``release()`` is all that hands the connection back when a read stops
    early. Answers read to the end keep it alive for the next request.
    """
    accepted = []
    gzipped = gzip.compress(b'{"status": 200, "results": {}}')

    async def handle(reader, writer):
        accepted.append(writer)
        while True:
            head = await read_head(reader)
            path = head.split(b" ")[1]
            if path == b"/whole":
                writer.write(response_head(content_length="2") + b"{}")
            elif path == b"/chunked":
                writer.write(response_head(transfer_encoding="chunked"))
                writer.write(b"2\r\n{}\r\n0\r\n\r\n")
            elif path == b"/gzip":
                writer.write(
                    response_head(
                        content_encoding="gzip", content_length=str(len(gzipped))
                    )
                    + gzipped
                )
            elif path == b"/huge":
                writer.write(response_head(transfer_encoding="chunked"))
                writer.write(b"800\r\n" + b"x" * 2048 + b"\r\n")
                await asyncio.Event().wait()  # the rest never comes
            else:  # /short: 100 bytes promised, 10 sent
                writer.write(response_head(content_length="100") + b"0123456789")
                await writer.drain()
                return
            await writer.drain()

    backend = AiohttpBackend(max_connections=1, max_response_bytes=1024, timeout=5)

    async def get(path):
        return await backend.send(
            "GET",
            url + path,
            query=(),
            headers={},
            content=None,
            files=None,
            form=None,
        )

    async with raw_server(handle) as url:
        try:
            with anyio.fail_after(10):
                for path in ("/whole", "/chunked", "/gzip"):
                    assert (await get(path)).status_code == 200
                assert len(accepted) == 1  # one connection, kept alive
                with pytest.raises(ResponseTooLargeError):
                    await get("/huge")
                assert (await get("/whole")).body == b"{}"
                with pytest.raises(TransportError):
                    await get("/short")
                assert (await get("/whole")).body == b"{}"
            connector = backend._get_session().connector
            assert sum(len(v) for v in connector._acquired_per_host.values()) == 0
        finally:
            await backend.aclose()
