"""Lifecycle: whether a client is closed, and which event loop it runs on.

:class:`Lifecycle` is shared by a client's transport and every
``with_options`` view of it. The closed check is one attribute read per
attempt; the event loop is read once, at first use, and compared again only
when the backend fails with a ``RuntimeError``, so the hot path pays nothing
for the diagnosis.

Strictly private: :class:`~aioqiscus._transport.Transport` owns one.
"""

from __future__ import annotations

import anyio.lowlevel
import attrs

from .errors import ClientClosedError, EventLoopError, QiscusError

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

    def check(self) -> None:
        """Refuse a closed client; remember the first event loop.

        Raises:
            ClientClosedError: The client is closed.
        """
        if self.closed:
            raise ClientClosedError(
                "the client is closed; create a new QiscusClient to send requests"
            )
        if self.loop is None:
            self.loop = anyio.lowlevel.current_token()

    def explain(self) -> QiscusError | None:
        """The lifecycle error behind a backend's ``RuntimeError``, if any.

        httpx and aiohttp answer use after close, and a pool reused from
        another event loop, with bare ``RuntimeError``s ("Event loop is
        closed"); this names the cause.
        """
        if self.closed:
            return ClientClosedError("the client was closed while the request ran")
        if self.loop is not None and anyio.lowlevel.current_token() != self.loop:
            return EventLoopError(
                "this QiscusClient first ran on another event loop, and its "
                "connection pool belongs to that loop; create one client per "
                "event loop (per asyncio.run), inside it"
            )
        return None
