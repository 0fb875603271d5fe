"""The aiohttp backend behaves like the httpx one where it matters."""

from __future__ import annotations

import ssl

import aiohttp
import anyio
import httpx
import pytest

from aioqiscus import (
    AmbiguousSendError,
    InvalidArgumentError,
    QiscusClient,
    RequestTimeoutError,
    ResponseShapeError,
    RetryPolicy,
    TransportError,
)
from aioqiscus.backends import AiohttpBackend, HttpxBackend, shared_ssl_context
from aioqiscus.testing import FakeQiscus, Fault, serve

from .conftest import ALICE, BOB


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
