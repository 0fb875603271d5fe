"""Background work with bounded concurrency, a bounded queue and a drain.

Strictly private. At most *max_concurrency* jobs run at once; up to
*max_pending* more wait in a FIFO queue; past that, :meth:`Runner.reserve`
says no and the caller refuses the work (the bot answers 503). Workers are
started on demand: a worker that finishes its job takes the next queued one,
and when the queue is empty it waits up to :data:`_LINGER` seconds for a new
job before it ends, so a bot under steady traffic does not start a task (and
a cancel scope) per delivery, and an idle bot soon holds no task. A waiting
worker counts as neither running nor busy (``join`` does not wait for it),
and closing the runner sends it away at once.

Where workers run: in the task group given to :meth:`Runner.attach` (the
bot's ``async with`` block or its ASGI lifespan; any anyio backend), else in
tasks of the running asyncio loop. trio has no loop-wide place for
background tasks, so under trio a bot must be entered first; the error says
so.

A job that ends in anything, cancellation included, never ends its worker:
the runner logs it and takes the next job. Only a cancellation aimed at the
worker itself (the drain's timeout, the task group or the task being
cancelled) stops it, and a worker stopped that way while jobs still wait
hands them to a new worker unless the runner is closing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

import anyio
import attrs
import sniffio
from anyio.abc import TaskGroup

from ..errors import EventLoopError, InvalidArgumentError

__all__ = ["Drained", "Runner"]

logger = logging.getLogger("aioqiscus.bot")

T = TypeVar("T")

# How long workers cancelled at the drain's timeout get to unwind.
_UNWIND = 5.0
# How long a worker without a job waits for one before it ends (seconds).
_LINGER = 1.0

_NO_BACKGROUND = (
    "aioqiscus.bot runs handlers in background tasks; outside asyncio "
    "(under {library}) there is no loop to start them on: enter the bot "
    "first (async with bot: ...), or serve bot.asgi with lifespan enabled"
)


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an int, got {type(value).__name__}"
        raise TypeError(msg)
    if value < minimum:
        msg = f"{name} must be >= {minimum}, got {value}"
        raise InvalidArgumentError(msg)
    return value


@attrs.frozen
class Drained:
    """What a drained shutdown did (see :meth:`Bot.aclose <aioqiscus.bot.Bot.aclose>`).

    Attributes:
        completed: Deliveries handled during the drain (queued or running
            when it began, and finished before its timeout).
        cancelled: Deliveries whose handler was still running at the
            timeout and was cancelled.
        dropped: Deliveries still queued at the timeout, never started.
        unfinished: The delivery keys of the cancelled and dropped ones
            (also logged), in that order.
    """

    completed: int = 0
    cancelled: int = 0
    dropped: int = 0
    unfinished: tuple[str, ...] = ()

    @property
    def lost(self) -> int:
        """Accepted deliveries that were not handled to the end."""
        return self.cancelled + self.dropped


class _Waiting(Generic[T]):
    """A worker without a job, and the job handed to it, if any.

    Under asyncio it waits on a bare future with a timer, a fifth of what
    an anyio event inside a timeout scope costs per delivery; under any
    other backend, on an anyio event.
    """

    __slots__ = ("handed", "job", "signal")

    def __init__(self, library: str) -> None:
        self.job: T | None = None
        self.handed = False
        self.signal: asyncio.Future[None] | anyio.Event = (
            asyncio.get_running_loop().create_future()
            if library == "asyncio"
            else anyio.Event()
        )

    def wake(self) -> None:
        """End the wait (a job was handed over, the time is up, or closing)."""
        signal = self.signal
        if isinstance(signal, asyncio.Future):
            if not signal.done():
                signal.set_result(None)
        else:
            signal.set()

    async def wait(self) -> None:
        """Wait until woken, for :data:`_LINGER` seconds at most."""
        signal = self.signal
        if isinstance(signal, asyncio.Future):
            timer = asyncio.get_running_loop().call_later(_LINGER, self.wake)
            try:
                await signal
            finally:
                timer.cancel()
            return
        with anyio.move_on_after(_LINGER):
            await signal.wait()


class Runner(Generic[T]):
    """Run ``work(job)`` for submitted jobs in the background, boundedly.

    Args:
        work: Handles one job; what it raises is logged, never fatal.
        describe: How a job is named in logs and in :class:`Drained`.
    """

    def __init__(
        self,
        work: Callable[[T], Awaitable[None]],
        *,
        max_concurrency: int,
        max_pending: int,
        describe: Callable[[T], str] = repr,
    ) -> None:
        self._work = work
        self._describe = describe
        self._max_running = _count(max_concurrency, "max_concurrency", 1)
        self._capacity = self._max_running + _count(max_pending, "max_pending", 0)
        self._running = 0
        self._reserved = 0
        self._done = 0
        self._closed = False
        self._queue: deque[T] = deque()
        # One cancel scope per worker, with the job it is working on.
        self._workers: dict[anyio.CancelScope, T] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._group: TaskGroup | None = None
        self._idle: list[anyio.Event] = []
        # Workers waiting for a job, the latest last.
        self._waiting: list[_Waiting[T]] = []

    @property
    def running(self) -> int:
        """Jobs being worked on now."""
        return self._running

    @property
    def pending(self) -> int:
        """Jobs waiting for a worker."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: nothing more is accepted."""
        return self._closed

    def attach(self, group: TaskGroup | None) -> None:
        """Start workers in *group* from now on (``None``: detach)."""
        self._group = group

    def reserve(self) -> bool:
        """Hold a place for one job; ``False`` when closed or full.

        Raises:
            EventLoopError: No worker could be started here (trio, not entered).
        """
        if self._closed:
            return False
        if self._group is None:
            library = sniffio.current_async_library()
            if library != "asyncio":
                raise EventLoopError(_NO_BACKGROUND.format(library=library))
        if self._running + len(self._queue) + self._reserved >= self._capacity:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        """Give back a place held by :meth:`reserve` without submitting."""
        self._reserved -= 1
        self._notify()

    def submit(self, job: T) -> None:
        """Start or queue *job* in a place held by :meth:`reserve`."""
        self._reserved -= 1
        if self._running < self._max_running:
            if self._waiting:
                # Hand it to a waiting worker: no new task.
                waiting = self._waiting.pop()
                waiting.job, waiting.handed = job, True
                self._running += 1
                waiting.wake()
            else:
                self._spawn(job)
        else:
            self._queue.append(job)

    def close(self) -> None:
        """Accept nothing more; what was accepted still runs."""
        self._closed = True
        waiting, self._waiting = self._waiting, []
        for worker in waiting:
            worker.wake()

    def _spawn(self, job: T) -> None:
        self._running += 1
        if self._group is not None:
            self._group.start_soon(self._worker, job)
            return
        task = asyncio.get_running_loop().create_task(self._worker(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _worker(self, job: T) -> None:
        scope = anyio.CancelScope()
        self._workers[scope] = job
        waiting: _Waiting[T] | None = None
        library = sniffio.current_async_library()
        try:
            with scope:
                while True:
                    self._workers[scope] = job
                    await self._guarded(job, scope)
                    self._done += 1
                    # No await between this check and the wait, so a job
                    # queued by submit() always finds a worker.
                    if self._queue:
                        job = self._queue.popleft()
                        continue
                    if self._closed:
                        return
                    waiting = _Waiting(library)
                    self._waiting.append(waiting)
                    del self._workers[scope]
                    self._running -= 1
                    self._notify()
                    await waiting.wait()
                    if not waiting.handed:
                        # Timed out or sent away: nothing was handed over.
                        if waiting in self._waiting:
                            self._waiting.remove(waiting)
                        waiting = None
                        self._running += 1  # undone in finally
                        self._workers[scope] = job
                        return
                    job, waiting = cast("T", waiting.job), None
        finally:
            if waiting is not None:
                # Cancelled while waiting: give back any job handed over.
                if waiting in self._waiting:
                    self._waiting.remove(waiting)
                if waiting.handed:
                    self._queue.appendleft(cast("T", waiting.job))
                else:
                    self._running += 1  # undone below
                self._workers[scope] = job
            del self._workers[scope]
            self._running -= 1
            if self._queue and not self._closed and not self._group_cancelled():
                # Cancelled from outside with work waiting: pass it on.
                self._spawn(self._queue.popleft())
            self._notify()

    async def _guarded(self, job: T, scope: anyio.CancelScope) -> None:
        try:
            await self._work(job)
        except Exception:
            logger.exception("bot job %s failed", self._describe(job))
        except BaseException as exc:
            ours = isinstance(exc, anyio.get_cancelled_exc_class() | BaseExceptionGroup)
            if not ours or scope.cancel_called or _task_cancelled():
                raise  # KeyboardInterrupt, SystemExit, or the worker's own stop
            # The job raised a cancellation itself (a cancelled inner task,
            # a misused timeout): its worker was not cancelled.
            logger.exception("bot job %s ended cancelled", self._describe(job))

    def _group_cancelled(self) -> bool:
        return self._group is not None and self._group.cancel_scope.cancel_called

    def _busy(self) -> bool:
        return bool(self._running or self._queue or self._reserved)

    def _notify(self) -> None:
        if not self._busy():
            waiters, self._idle = self._idle, []
            for event in waiters:
                event.set()

    async def join(self) -> None:
        """Wait until every submitted and queued job is done."""
        while self._busy():
            event = anyio.Event()
            self._idle.append(event)
            await event.wait()

    async def drain(
        self,
        timeout: float | None,  # noqa: ASYNC109 - the drain's budget, as specified
    ) -> Drained:
        """Close, wait up to *timeout* seconds for the work, cancel the rest."""
        self.close()
        before = self._done
        with anyio.move_on_after(timeout):
            await self.join()
        dropped = [self._describe(job) for job in self._queue]
        self._queue.clear()
        cancelled = [self._describe(job) for job in self._workers.values()]
        for key in dropped:
            logger.error("bot shut down before handling delivery %s", key)
        for key in cancelled:
            logger.error("bot shut down while handling delivery %s: cancelled", key)
        for scope in list(self._workers):
            scope.cancel()
        with anyio.move_on_after(_UNWIND):
            await self.join()
        return Drained(
            completed=self._done - before,
            cancelled=len(cancelled),
            dropped=len(dropped),
            unfinished=(*cancelled, *dropped),
        )


def _task_cancelled() -> bool:
    """Whether the current asyncio task was asked to stop (``Task.cancel``).

    A ``CancelledError`` that a handler raised by itself leaves the count
    at zero. Under trio a ``Cancelled`` always comes from an enclosing scope.
    """
    if sniffio.current_async_library() != "asyncio":
        return True
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
