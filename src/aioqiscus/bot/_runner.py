"""Background work with bounded concurrency and a bounded queue (asyncio).

Strictly private. At most *max_concurrency* jobs run at once; up to
*max_pending* more wait in a FIFO queue; past that, :meth:`Runner.reserve`
says no and the caller refuses the work (the bot answers 503). Workers are
tasks started on demand: a worker that finishes its job takes the next
queued one, and ends when the queue is empty, so an idle bot holds no task
and no state bound to an event loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from ..errors import InvalidArgumentError

__all__ = ["Runner"]

T = TypeVar("T")

# How often join() looks again while a reserved slot has not been submitted.
_JOIN_POLL = 0.005


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an int, got {type(value).__name__}"
        raise TypeError(msg)
    if value < minimum:
        msg = f"{name} must be >= {minimum}, got {value}"
        raise InvalidArgumentError(msg)
    return value


class Runner(Generic[T]):
    """Run ``work(job)`` for submitted jobs in the background, boundedly.

    *work* must not raise (the bot catches and reports handler errors
    itself); a cancelled worker leaves its queued jobs to the next one.
    """

    def __init__(
        self,
        work: Callable[[T], Awaitable[None]],
        *,
        max_concurrency: int,
        max_pending: int,
    ) -> None:
        self._work = work
        self._max_running = _count(max_concurrency, "max_concurrency", 1)
        self._capacity = self._max_running + _count(max_pending, "max_pending", 0)
        self._running = 0
        self._reserved = 0
        self._queue: deque[T] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> int:
        """Jobs being worked on now."""
        return self._running

    @property
    def pending(self) -> int:
        """Jobs waiting for a worker."""
        return len(self._queue)

    def reserve(self) -> bool:
        """Hold a place for one job; ``False`` when running + queued is full."""
        if self._running + len(self._queue) + self._reserved >= self._capacity:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        """Give back a place held by :meth:`reserve` without submitting."""
        self._reserved -= 1

    def submit(self, job: T) -> None:
        """Start or queue *job* in a place held by :meth:`reserve`."""
        if self._running < self._max_running:
            task = asyncio.get_running_loop().create_task(self._drain(job))
            self._running += 1
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._queue.append(job)
        self._reserved -= 1

    async def _drain(self, job: T) -> None:
        try:
            while True:
                await self._work(job)
                # No await between this check and the decrement below, so a
                # job queued by submit() always finds a worker.
                if not self._queue:
                    return
                job = self._queue.popleft()
        finally:
            self._running -= 1

    async def join(self) -> None:
        """Wait until every submitted and queued job is done."""
        while self._tasks or self._reserved:
            if self._tasks:
                await asyncio.wait(set(self._tasks))
            else:
                await asyncio.sleep(_JOIN_POLL)
