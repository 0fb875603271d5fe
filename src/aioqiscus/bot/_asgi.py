"""The bot as an ASGI 3 app: a callable object, not a bound method.

uvicorn tells ASGI 3 from ASGI 2 by looking for a coroutine function; a bound
``async def`` method fails that test (``inspect.isfunction`` is false for
it) and is called the ASGI 2 way, so ``uvicorn.run(bot.asgi)`` would break.
An object with an ``async def __call__`` passes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ..webhooks import SIGNATURE_HEADER

if TYPE_CHECKING:
    from ._bot import Bot

__all__ = ["BUSY_RETRY_AFTER", "ASGIApp", "extra_headers"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: A full queue answers 503 with this ``Retry-After`` (seconds).
BUSY_RETRY_AFTER = 1
_SIGNATURE_HEADER = SIGNATURE_HEADER.lower().encode("latin-1")


def extra_headers(status: int) -> list[tuple[bytes, bytes]]:
    """Headers a status calls for: ``Allow`` on 405, ``Retry-After`` on 503."""
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return [(b"allow", b"POST")]
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        return [(b"retry-after", str(BUSY_RETRY_AFTER).encode())]
    return []


@functools.cache
def _answer(status: int) -> tuple[tuple[tuple[bytes, bytes], ...], bytes]:
    """The headers and body answering *status*: its reason phrase, as text."""
    phrase = HTTPStatus(status).phrase.encode()
    headers = (
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(phrase)).encode()),
        *extra_headers(status),
    )
    return headers, phrase


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The body, read until it ends or passes *cap* bytes; None on disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > cap or not message.get("more_body", False):
            return b"".join(chunks)


class ASGIApp:
    """The bot as an ASGI app: POST a delivery to any path.

    Answers as :meth:`Bot.handle <aioqiscus.bot.Bot.handle>`, plus ``405``
    for other methods and ``413`` for bodies over the bot's ``max_body``
    (1 MiB). Handles ``lifespan`` (startup enters the bot, shutdown drains
    it: :meth:`Bot.aclose <aioqiscus.bot.Bot.aclose>`) and refuses
    websockets. Mounted apps do not get lifespan events from Starlette or
    FastAPI: call ``await bot.aclose()`` in the outer app's lifespan.
    """

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def __repr__(self) -> str:
        return f"ASGIApp({self._bot!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        status: int
        if scope["method"] != "POST":
            status = HTTPStatus.METHOD_NOT_ALLOWED
        else:
            body = await _read_body(receive, self._bot.max_body)
            if body is None:
                return  # the client went away
            if len(body) > self._bot.max_body:
                status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            else:
                signature = None
                for name, value in scope.get("headers", ()):
                    if name.lower() == _SIGNATURE_HEADER:
                        signature = value.decode("latin-1")
                        break
                # Qiscus's own deliveries carry no query: skip parsing one.
                raw_query = scope.get("query_string", b"")
                url_token = None
                if raw_query:
                    query = parse_qs(raw_query.decode("latin-1"))
                    url_token = next(iter(query.get("token", ())), None)
                client = scope.get("client")
                status = await self._bot.handle(
                    body,
                    signature,
                    url_token=url_token,
                    client_host=client[0] if client else None,
                )
        headers, phrase = _answer(status)
        # A new list each time: middleware may add headers to it in place.
        await send(
            {
                "type": "http.response.start",
                "status": int(status),
                "headers": list(headers),
            }
        )
        await send({"type": "http.response.body", "body": phrase})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Enter the bot at startup; drain it (``aclose``) at shutdown.

        uvicorn sends ``lifespan.shutdown`` on SIGTERM once its connections
        are done, so a redeploy finishes what the bot accepted.
        """
        message = await receive()
        if message["type"] != "lifespan.startup":  # pragma: no cover - ASGI order
            return
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self._bot)
            except RuntimeError as exc:  # entered already, or closed
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            while message["type"] != "lifespan.shutdown":
                message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
