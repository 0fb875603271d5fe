"""The bound on requests in flight (strictly private).

:class:`Limiter` is a first-come, first-served semaphore: a free slot is
taken without awaiting anything (the common case), a caller beyond the
bound waits on a waiter of its own, and a released slot goes straight to
the longest waiter. It does what ``anyio.Semaphore`` did here for a
fraction of its cost per call (no cancellation checkpoint, no task lookup),
which counts on the fast backend's budget of microseconds.

On an asyncio loop a waiter is a bare future of that loop; elsewhere (trio)
an ``anyio.Event``. Making, setting and awaiting an ``anyio.Event`` costs
about 3.5 us more (it asks which async library runs, and wraps an
``asyncio.Event``), paid by every call of a burst beyond the bound: a bot
broadcasting to a thousand rooms at once makes 900 of them.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    import asyncio

__all__ = ["Limiter"]


class Limiter:
    """At most *capacity* holders at once; ``async with limiter: ...``.

    Args:
        capacity: The bound.
        loop: The asyncio loop every holder runs on, for its waiters to be
            its futures; ``None`` for another library's loop (trio).

    Attributes:
        capacity: The bound.
        value: Free slots now.
    """

    __slots__ = ("_loop", "_waiters", "capacity", "value")

    def __init__(
        self, capacity: int, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.capacity = capacity
        self.value = capacity
        self._loop = loop
        #: Futures of *loop*, or ``anyio.Event`` objects without one.
        self._waiters: deque[Any] = deque()

    async def __aenter__(self) -> None:
        if not self.take():
            await self.wait()

    def take(self) -> bool:
        """Take a free slot without waiting; ``False`` if none is free.

        With :meth:`wait` and :meth:`release`, the hot path's form of
        ``async with``: a free slot costs no coroutine at all.
        """
        if self.value and not self._waiters:
            self.value -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait, first come first served, for a slot :meth:`take` refused."""
        loop = self._loop
        # An anyio.Event without a loop, else a future of the loop.
        waiter: Any = anyio.Event() if loop is None else loop.create_future()
        self._waiters.append(waiter)
        try:
            await (waiter.wait() if loop is None else waiter)
        except BaseException:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                # release() took it from the queue: it handed us the slot as
                # we were cancelled (pass it on), unless it passed over our
                # cancelled future.
                if loop is None or not waiter.cancelled():
                    self.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Give back a slot taken by :meth:`take` or :meth:`wait`."""
        waiters = self._waiters
        while waiters:
            # The slot goes to the longest waiter directly: value unchanged.
            waiter = waiters.popleft()
            if self._loop is None:
                waiter.set()
                return
            # A cancelled future leaves the queue when its task next runs:
            # until then it is passed over.
            if not waiter.cancelled():
                waiter.set_result(None)
                return
        self.value += 1
