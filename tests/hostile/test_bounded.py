"""Item 2: every response is bounded in time and size, on both backends.

Raw loopback servers drip a body a byte at a time, stream one forever,
declare 100 MB, or send a gzip bomb; each call ends within its attempt's
deadline or at ``max_response_bytes``, with a typed error naming the limit,
and leaves the connection pool clean.
"""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc

import anyio
import httpx
import pytest

from aioqiscus import (
    AmbiguousSendError,
    QiscusClient,
    RequestTimeoutError,
    ResponseShapeError,
    ResponseTooLargeError,
    TransportError,
)
from aioqiscus._contract._live import Settings, tour
from aioqiscus.backends import AiohttpBackend, HttpxBackend

from ._servers import raw_server, read_head, response_head

MiB = 1024 * 1024
BACKENDS = ["httpx", "aiohttp"]


def client_for(
    url: str, backend: str, *, timeout: float = 10.0, limit: int | None = None
):
    """A pinned v2.1 client without retries, bounded by *timeout* and *limit*."""
    kwargs = {} if limit is None else {"max_response_bytes": limit}
    if backend == "aiohttp":
        made = AiohttpBackend(timeout=timeout, **kwargs)
        return QiscusClient(
            "app", "secret", base_url=url, api_version="v2.1", retry=None, backend=made
        )
    return QiscusClient(
        "app",
        "secret",
        base_url=url,
        api_version="v2.1",
        retry=None,
        timeout=httpx.Timeout(timeout),
        **kwargs,
    )


async def drip(reader, writer):
    """A valid JSON head, then the body one byte every 50 ms, forever."""
    await read_head(reader)
    writer.write(
        response_head(content_type="application/json", transfer_encoding="chunked")
    )
    writer.write(b"1\r\n{\r\n")
    while True:
        writer.write(b"1\r\n \r\n")
        await writer.drain()
        await asyncio.sleep(0.05)


async def endless(reader, writer):
    """A chunked body streamed as fast as the client reads, forever."""
    await read_head(reader)
    writer.write(
        response_head(content_type="application/json", transfer_encoding="chunked")
    )
    chunk = b" " * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        writer.write(frame)
        await writer.drain()


async def declared(reader, writer):
    """Declares 100 MB, then sends slowly: refusing must not wait for it."""
    await read_head(reader)
    writer.write(
        response_head(content_type="application/json", content_length=str(100 * MiB))
    )
    while True:
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.5)


BOMB = gzip.compress(b" " * (200 * MiB), compresslevel=9)


async def bomb(reader, writer):
    """200 MiB of spaces gzipped into a few hundred kB."""
    await read_head(reader)
    writer.write(
        response_head(
            content_type="application/json",
            content_encoding="gzip",
            content_length=str(len(BOMB)),
        )
    )
    writer.write(BOMB)
    await writer.drain()
    await asyncio.sleep(10)


async def huge_post_answer(reader, writer):
    """Answers a post_comment with 8 MiB: the send was processed."""
    await read_head(reader)
    body = b'{"results": {"comment": {"message": "' + b"x" * (8 * MiB) + b'"}}}'
    writer.write(
        response_head(content_type="application/json", content_length=str(len(body)))
    )
    writer.write(body)
    await writer.drain()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_drip_ends_at_the_deadline(backend):
    """A body dripped a byte every 50 ms ends at the attempt's deadline, not when the server stops."""
    async with raw_server(drip) as url, client_for(url, backend, timeout=0.5) as client:
        started = anyio.current_time()
        with anyio.fail_after(5), pytest.raises(RequestTimeoutError, match="deadline"):
            await client.get_user("alice")
        assert anyio.current_time() - started < 2


@pytest.mark.parametrize("backend", BACKENDS)
async def test_endless_body_stops_at_the_limit(backend):
    """An endless body stops at max_response_bytes with an error naming it."""
    async with (
        raw_server(endless) as url,
        client_for(url, backend, limit=MiB) as client,
    ):
        with anyio.fail_after(5), pytest.raises(ResponseTooLargeError) as info:
            await client.get_user("alice")
    error = info.value
    assert "max_response_bytes" in str(error)
    assert error.limit == MiB
    assert isinstance(error, TransportError)
    assert isinstance(error, ResponseShapeError)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_declared_length_refused_before_reading(backend):
    """A declared Content-Length over the limit is refused at once."""
    async with (
        raw_server(declared) as url,
        client_for(url, backend, limit=MiB) as client,
    ):
        with (
            anyio.fail_after(2),
            pytest.raises(ResponseTooLargeError, match="declares"),
        ):
            await client.get_user("alice")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_gzip_bomb_counted_as_it_inflates(backend):
    """A gzip bomb stops at the limit while inflating: memory stays near the limit."""
    async with (
        raw_server(bomb) as url,
        client_for(url, backend, limit=8 * MiB) as client,
    ):
        tracemalloc.start()
        try:
            with (
                anyio.fail_after(10),
                pytest.raises(ResponseTooLargeError, match="decoded"),
            ):
                await client.get_user("alice")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 40 * MiB


@pytest.mark.parametrize("backend", BACKENDS)
async def test_oversized_answer_to_a_send_is_ambiguous(backend):
    """A send answered with too much was processed: ambiguous, never silently retried."""
    async with (
        raw_server(huge_post_answer) as url,
        client_for(url, backend, limit=MiB) as client,
    ):
        with anyio.fail_after(5), pytest.raises(AmbiguousSendError) as info:
            await client.post_text("1", "alice", "hi", on_ambiguous="raise")
    transport_error = info.value.__cause__.__cause__
    assert isinstance(transport_error, ResponseTooLargeError)


def test_default_limit_is_32_mib():
    """The default limit is 32 MiB on both backends; a client can change its own."""
    assert HttpxBackend().max_response_bytes == 32 * MiB
    assert AiohttpBackend().max_response_bytes == 32 * MiB
    client = QiscusClient("app", "secret", max_response_bytes=MiB)
    assert client._transport.backend.max_response_bytes == MiB


async def slow_headers(reader, writer):
    """Starts the head, then drips a header a byte every 50 ms, forever."""
    await read_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while True:
        writer.write(b"z")
        await writer.drain()
        await asyncio.sleep(0.05)


async def test_deadline_covers_headers_and_leaves_the_pool_clean():
    """Twenty calls whose headers drip in end at the deadline and leave no connection checked out."""
    async with (
        raw_server(slow_headers) as url,
        client_for(url, "httpx", timeout=0.3) as client,
    ):
        failures = []

        async def one():
            try:
                await client.get_user("alice")
            except RequestTimeoutError as exc:
                failures.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(one)
        pool = client._transport.backend.client._transport._pool
        assert len(failures) == 20
        assert all("deadline" in str(f) for f in failures)
        assert [c for c in pool.connections if not c.is_idle()] == []
        assert pool._requests == []


async def test_contract_tour_against_an_endless_stream():
    """aioqiscus contract records through max_response_bytes: an endless body costs bounded memory and time."""
    async with raw_server(endless) as url:
        settings = Settings(
            app_id="app",
            secret_key="secret",
            base_url=url,
            prefix="aioqiscus-contract-endless",
            timeout=2.0,
            max_response_bytes=MiB,
            loopback_only=True,
        )
        tracemalloc.start()
        try:
            with anyio.fail_after(10):
                report = await tour(settings)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 40 * MiB
    assert report.failed
    assert "max_response_bytes" in report.cassette.server["auto_negotiates"]
