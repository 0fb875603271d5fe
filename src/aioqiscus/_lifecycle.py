"""Lifecycle: whether a client is closed.

:class:`Lifecycle` is shared by a client's transport and every
``with_options`` view of it. (Which event loop a request runs on is
:mod:`aioqiscus._loops`' business: each has its own connections.)

Strictly private: :class:`~aioqiscus._transport.Transport` owns one.
"""

from __future__ import annotations

import attrs

from .errors import ClientClosedError, EventLoopError

__all__ = ["LIFECYCLE_ERRORS", "Lifecycle"]

#: Errors that say how the client is used, not what the server answered.
LIFECYCLE_ERRORS = (ClientClosedError, EventLoopError)


@attrs.define
class Lifecycle:
    """The closed flag.

    Attributes:
        closed: Whether ``aclose`` was called.
    """

    closed: bool = False

    def admit(self, method: str, path: str) -> None:
        """Refuse a call on a closed client.

        Raises:
            ClientClosedError: ``aclose`` was called.
        """
        if self.closed:
            msg = (
                f"{method} {path}: the client was closed by aclose(); "
                "create a new QiscusClient"
            )
            raise ClientClosedError(msg)
