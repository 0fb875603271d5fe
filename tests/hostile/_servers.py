"""Hostile servers for the hostile suite, all on 127.0.0.1.

- :func:`raw_server`: an ``asyncio`` TCP server whose handler writes the
  bytes it likes (slow drips, endless bodies, gzip bombs), cleaned up on exit
  however the handler loops.
- :class:`Gateway`: an ASGI app in front of a :class:`FakeQiscus` that lets a
  test rewrite, hold back or drop the fake's answers (a busy room, a server
  answering its own ``unique_id``, JSON 404s), served on a loopback socket
  with :func:`aioqiscus.testing.serve` like the fake itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio

from aioqiscus.testing import ConnectionDropped, FakeQiscus

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def until(done: Callable[[], object], interval: float = 0.02) -> None:
    """Poll *done* until it is true: for state another thread's loop changes.

    Bound the wait with ``anyio.fail_after`` around the call.
    """
    for _ in itertools.count():
        if done():
            return
        await anyio.sleep(interval)


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """The request line and headers, and the body its Content-Length gives."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return head


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """Serve *handler* on a loopback port; yield the base URL.

    Handler tasks still running when the block exits are cancelled and their
    connections closed, so an endless handler never outlives its test.
    """
    tasks: set[asyncio.Task[Any]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        writers.add(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # The client went away, or the server is stopping (below).
            pass
        finally:
            tasks.discard(task)
            writer.close()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        for writer in list(writers):
            writer.transport.abort()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def response_head(status: int = 200, **headers: str) -> bytes:
    """A status line and headers (underscores in names become dashes)."""
    lines = [f"HTTP/1.1 {status} X"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ---------------------------------------------------------------- the gateway

Scope = dict[str, Any]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


async def call(app: Any, scope: Scope, body: bytes) -> Answer | None:
    """Run *app* on one request; its answer, or ``None`` if it dropped it."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        else:
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except ConnectionDropped:
        return None
    return started["status"], list(started.get("headers", [])), b"".join(chunks)


async def answer(send: Any, status: int, body: bytes, ctype: bytes) -> None:
    """Send a whole answer."""
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def drop(send: Any, path: str) -> None:
    """Start a 200 answer, send half a body and drop the connection."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send(
        {"type": "http.response.body", "body": b'{"status": 2', "more_body": True}
    )
    raise ConnectionDropped(path)


#: A gateway hook: ``await hook(scope, body, send)`` is true when it answered
#: the request itself, false to let the fake answer.
Hook = Callable[[Scope, bytes, Any], Awaitable[bool]]


class Gateway:
    """An ASGI app in front of *fake*; *hook* may take over any request.

    *hook(scope, body, send)* returns ``True`` when it answered (or dropped)
    the request itself, ``False`` to let the fake answer.
    """

    def __init__(self, fake: FakeQiscus, hook: Hook) -> None:
        self.fake = fake
        self.hook = hook

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.fake(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if await self.hook(scope, body, send):
            return

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.fake(scope, replay, send)


def endpoint(scope: Scope) -> str:
    """The endpoint a request names (``post_comment``)."""
    return scope["path"].rstrip("/").rsplit("/", 1)[-1]


def rewrite_comments(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """A ``load_comments`` answer with *change* applied to every comment."""
    document = json.loads(data)
    for comment in document["results"]["comments"]:
        change(comment)
    return json.dumps(document).encode()
