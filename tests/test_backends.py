"""The aiohttp backend behaves like the httpx one where it matters."""

from __future__ import annotations

import aiohttp
import anyio
import pytest

from aioqiscus import (
    AmbiguousSendError,
    QiscusClient,
    RequestTimeoutError,
    ResponseShapeError,
    RetryPolicy,
    TransportError,
)
from aioqiscus.backends import AiohttpBackend
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
