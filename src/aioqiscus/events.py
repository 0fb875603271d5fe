"""What a client reports about its HTTP attempts, for logs and metrics.

Pass plain callables to ``QiscusClient(..., event_hooks=...)``; each is
called, in order, with a small frozen event:

- ``"request"``: :class:`RequestEvent`, before each attempt is sent;
- ``"response"``: :class:`ResponseEvent`, when an attempt ends, with the
  status or the error it ended with;
- ``"retry"``: :class:`RetryEvent`, when the client is about to wait and try
  again.

A call that is retried reports ``request``, ``response``, ``retry``,
``request``, ``response``. Hooks are called synchronously on the event loop:
keep them quick (a log line, a counter), and start a task for anything
slower. A hook that raises is logged on the ``aioqiscus`` logger and
ignored: observing never changes what a call does.

URLs are redacted: they never hold the secret key (it travels in headers,
which events do not carry), and the values of credential-like query
parameters read ``REDACTED``. With no hook (and no OpenTelemetry tracer
provider configured) the client does no per-call work for events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict

import attrs

__all__ = ["EventHooks", "RequestEvent", "ResponseEvent", "RetryEvent"]


@attrs.frozen
class RequestEvent:
    """An HTTP attempt about to be sent.

    Attributes:
        operation: The client operation (``"post_comment"``, ...;
            ``"negotiate"`` for the dialect probe).
        dialect: The dialect it speaks (``"v2"``, ``"v2.1"``).
        method: The HTTP verb.
        url: The absolute URL, redacted.
        attempt: 1 for the first attempt, 2 for the first retry, ...
    """

    operation: str
    dialect: str
    method: str
    url: str
    attempt: int


@attrs.frozen
class ResponseEvent:
    """An HTTP attempt that ended, with a status or an error.

    Attributes:
        operation: The client operation.
        dialect: The dialect it speaks.
        method: The HTTP verb.
        url: The absolute URL, redacted.
        attempt: Which attempt this was (1-based).
        status: The HTTP status, or ``None`` when no response arrived.
        elapsed: Seconds the attempt took.
        request_id: The server's ``X-Request-Id``, if it sent one.
        error: The error's class name (``"RequestTimeoutError"``, ...) when
            no response arrived; ``None`` otherwise.
    """

    operation: str
    dialect: str
    method: str
    url: str
    attempt: int
    status: int | None
    elapsed: float
    request_id: str | None = None
    error: str | None = None


@attrs.frozen
class RetryEvent:
    """A failed attempt the client will repeat after *delay* seconds.

    Attributes:
        operation: The client operation.
        dialect: The dialect it speaks.
        method: The HTTP verb.
        url: The absolute URL, redacted.
        attempt: The attempt that failed (1-based); the next is one more.
        delay: Seconds the client waits before the next attempt.
        status: The status that is retried (429, 503, ...), or ``None``.
        error: The error's class name when no response arrived, else ``None``.
    """

    operation: str
    dialect: str
    method: str
    url: str
    attempt: int
    delay: float
    status: int | None = None
    error: str | None = None


class EventHooks(TypedDict, total=False):
    """``event_hooks=`` of :class:`~aioqiscus.QiscusClient`: callables per event."""

    request: Sequence[Callable[[RequestEvent], object]]
    response: Sequence[Callable[[ResponseEvent], object]]
    retry: Sequence[Callable[[RetryEvent], object]]
