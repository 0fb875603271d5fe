"""Our httpx pools give each HTTP/1.1 connection to one request at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import httpcore
import httpx
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from aioqiscus._pool import _Pool, one_request_per_connection
from aioqiscus.backends import HttpxBackend


class Server:
    """HTTP/1.1 keep-alive on loopback, answering each request after a beat."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while (await reader.readuntil(b"\r\n\r\n")) is not None:
                await asyncio.sleep(0.002)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
            await writer.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listener = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        listener.close()
        await state.close()
        await listener.wait_closed()


@pytest.fixture
def reassignments(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often httpcore took a connection back from a request to re-queue it."""
    count = [0]
    clear = AsyncPoolRequest.clear_connection

    def counted(self: AsyncPoolRequest) -> None:
        count[0] += 1
        clear(self)

    monkeypatch.setattr(AsyncPoolRequest, "clear_connection", counted)
    return count


async def test_bursts_get_one_connection_each(
    server: Server, reassignments: list[int]
) -> None:
    # httpcore's own pool hands an idle connection to every request of a
    # burst, then sends all but one back to the queue (10+ times here).
    backend = HttpxBackend(max_connections=8)
    url = f"http://127.0.0.1:{server.port}/api/v2.1/rest/user_profile"
    try:
        with anyio.fail_after(10):
            for _ in range(6):
                async with anyio.create_task_group() as group:
                    for _ in range(8):
                        group.start_soon(_get, backend, url)
    finally:
        await backend.aclose()
    assert reassignments[0] == 0
    assert server.connections == 8


async def _get(backend: HttpxBackend, url: str) -> None:
    raw = await backend.send(
        "GET", url, query=(), headers={}, content=None, files=None, form=None
    )
    assert raw.status_code == 200


async def test_only_our_pools_and_only_httpcore_1_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = HttpxBackend()
    theirs = httpx.AsyncClient()
    try:
        assert type(backend.client._transport._pool) is _Pool  # type: ignore[attr-defined]
        injected = HttpxBackend(theirs)
        assert type(injected.client._transport._pool) is httpcore.AsyncConnectionPool  # type: ignore[attr-defined]
        monkeypatch.setattr(httpcore, "__version__", "1.1.0")
        other = one_request_per_connection(httpx.AsyncClient())
        assert type(other._transport._pool) is httpcore.AsyncConnectionPool  # type: ignore[attr-defined]
        await other.aclose()
        monkeypatch.undo()
        mocked = one_request_per_connection(
            httpx.AsyncClient(
                transport=httpx.MockTransport(lambda _: httpx.Response(200))
            )
        )
        assert isinstance(mocked._transport, httpx.MockTransport)
        await mocked.aclose()
    finally:
        await theirs.aclose()
        await backend.aclose()
