"""The bot as an aiohttp handler, with its own body cap (asyncio only).

aiohttp's ``client_max_size`` caps ``request.read()`` only, and an app may
raise it for its other routes; the handler therefore reads the body itself,
refusing a declared ``Content-Length`` over the cap before reading
anything, and a chunked body as soon as it passes the cap, so an unsigned
100 MB body costs at most the cap (the bot's ``max_body``, 1 MiB by
default, as for the ASGI app) before its 413.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from ..webhooks import SIGNATURE_HEADER
from ._asgi import extra_headers

if TYPE_CHECKING:
    from aiohttp import web

    from ._bot import Bot

__all__ = ["CHUNK", "handle_aiohttp", "read_capped"]

#: How much of a body is read at a time (bytes).
CHUNK = 64 * 1024


async def read_capped(request: web.BaseRequest, cap: int) -> bytes | None:
    """The body, or ``None`` once it is known to be over *cap* bytes."""
    declared = request.content_length
    if declared is not None and declared > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(CHUNK):
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def handle_aiohttp(bot: Bot, request: web.BaseRequest) -> web.StreamResponse:
    """Answer one aiohttp request as :meth:`Bot.aiohttp_handler` documents."""
    from aiohttp import web  # noqa: PLC0415 - aiohttp is an optional extra

    status: int
    if request.method != "POST":
        status = HTTPStatus.METHOD_NOT_ALLOWED
    else:
        body = await read_capped(request, bot.max_body)
        if body is None:
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        else:
            status = await bot.handle(
                body,
                request.headers.get(SIGNATURE_HEADER),
                url_token=request.query.get("token"),
                client_host=request.remote,
            )
    return web.Response(
        status=int(status),
        text=HTTPStatus(status).phrase,
        headers={k.decode(): v.decode() for k, v in extra_headers(status)},
    )
