"""Lifecycle: whether a client is closed, and which event loop it runs on.

:class:`Lifecycle` is shared by a client's transport and every
``with_options`` view of it. The event loop is read once, at the first
request, and compared again only when the backend fails with a bare
``RuntimeError``, so the hot path pays nothing for the diagnosis.

Strictly private: :class:`~aioqiscus._transport.Transport` owns one.
"""

from __future__ import annotations

import anyio.lowlevel
import attrs

from .errors import ClientClosedError, EventLoopError

__all__ = ["LIFECYCLE_ERRORS", "Lifecycle"]

#: Errors that say how the client is used, not what the server answered.
LIFECYCLE_ERRORS = (ClientClosedError, EventLoopError)


@attrs.define
class Lifecycle:
    """The closed flag and the event loop a client first ran on.

    Attributes:
        closed: Whether ``aclose`` was called.
        loop: The first event loop's token (anyio's), or ``None`` before
            the first request.
    """

    closed: bool = False
    loop: object | None = None

    def admit(self, method: str, path: str) -> None:
        """Refuse a call on a closed client; remember the first event loop.

        Raises:
            ClientClosedError: ``aclose`` was called.
        """
        if self.closed:
            msg = (
                f"{method} {path}: the client was closed by aclose(); "
                "create a new QiscusClient"
            )
            raise ClientClosedError(msg)
        if self.loop is None:
            self.loop = anyio.lowlevel.current_token()

    def foreign(self) -> EventLoopError | None:
        """The error to raise if the running loop is not the client's own.

        httpx and aiohttp answer a pool reused from another event loop with
        a bare ``RuntimeError`` ("Event loop is closed"); this names the
        cause.
        """
        if self.loop is None or anyio.lowlevel.current_token() == self.loop:
            return None
        return EventLoopError(
            "this QiscusClient first ran on another event loop, and its "
            "connection pool belongs to that loop; create one client per "
            "event loop (per asyncio.run), inside it"
        )
