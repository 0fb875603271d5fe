"""Per-call timeouts: ``client.with_options(timeout=...)``.

:class:`TimedBackend` is a view of a backend whose every request carries
other timeouts. The built-in backends take them per request (connect, read
and write as given, the attempt's deadline the longest of them), so a view
may shorten or lengthen the client's own; a backend of yours whose
``send`` takes no ``timeout`` keyword gets the deadline only, around each
attempt, which can shorten its timeouts but not lengthen them.

Strictly private; :class:`~aioqiscus._transport.Transport` builds one per
view.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import anyio
import httpx

from ._wire import RawResponse
from .backends import Backend, _deadline, _overdue
from .errors import InvalidArgumentError

__all__ = ["TimedBackend", "check_timeout"]


def check_timeout(value: object) -> httpx.Timeout:
    """A positive number of seconds or an ``httpx.Timeout``, as a Timeout."""
    if isinstance(value, httpx.Timeout):
        parts = (value.connect, value.read, value.write, value.pool)
        if all(p is None or p > 0 for p in parts):
            return value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if value > 0 and math.isfinite(value):
            return httpx.Timeout(value)
    else:
        msg = (
            f"timeout must be a number or an httpx.Timeout, got {type(value).__name__}"
        )
        raise TypeError(msg)
    msg = f"timeout must be positive seconds, got {value!r}"
    raise InvalidArgumentError(msg)


def _takes_timeout(backend: Backend) -> bool:
    try:
        parameters = inspect.signature(backend.send).parameters
    except (TypeError, ValueError):  # pragma: no cover - a C-level callable
        return False
    return "timeout" in parameters


class TimedBackend:
    """*backend*, with *timeout* on every request; closing it closes nothing."""

    def __init__(self, backend: Backend, timeout: httpx.Timeout) -> None:
        self.inner = backend
        self.timeout = timeout
        self.max_connections = backend.max_connections
        self.read_timeout = timeout.read
        self._native = _takes_timeout(backend)
        self._deadline = _deadline(timeout)

    async def send(self, method: str, url: str, **request: Any) -> RawResponse:
        """Send through the backend with this view's timeout.

        *request* holds the :class:`~aioqiscus.backends.Backend` keywords.
        """
        inner = self.inner
        if self._native:
            send: Any = inner.send  # its timeout keyword is not in the protocol
            raw: RawResponse = await send(method, url, timeout=self.timeout, **request)
            return raw
        deadline = self._deadline
        with anyio.move_on_after(math.inf if deadline is None else deadline):
            return await inner.send(method, url, **request)
        raise _overdue(method, url, deadline or 0.0) from None

    async def aclose(self) -> None:
        """Nothing: the client that owns the backend closes it."""
