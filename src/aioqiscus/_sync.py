"""The machinery of :class:`~aioqiscus.SyncQiscusClient`: one event loop.

:class:`SyncBase` owns one :class:`~aioqiscus.QiscusClient` and runs it on
one asyncio event loop (as anyio's blocking portal would, for less): a
blocking call runs the loop in its own thread when the loop is idle, and is
handed to the loop and waits for its result when the loop is running (in
another caller's thread or in a daemon thread of its own, see
:class:`_LoopThread`). Calls from several threads at once run concurrently
on the one loop, over one connection pool. :class:`SyncIterator` and
:class:`SyncListing` turn the async iterators into plain ones, a page
fetched per blocking step.

The methods themselves are generated into ``sync.py`` from the async class
(``python -m aioqiscus._syncgen``); this module is what they call.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar

import sniffio

from .errors import ClientClosedError, EventLoopError, InvalidArgumentError

if TYPE_CHECKING:
    import asyncio

    from ._client import QiscusClient
    from ._paging import Listing

__all__ = ["SyncBase", "SyncIterator", "SyncListing"]

P = ParamSpec("P")
T = TypeVar("T")


class _LoopThread:
    """One asyncio event loop, run by the thread that needs it.

    A blocking call made while the loop is idle runs the loop itself, in the
    caller's thread, until its own call is done: no thread switch at all,
    which is most of what a hand-off costs (two wake-ups, 80 to 110 us of a
    call on the machine of ``bench/sync.py``). Calls made while the loop runs
    are handed to it (``call_soon_threadsafe``) and wait on a lock. When the
    caller that runs the loop is done while others still wait, the loop
    passes to a daemon thread of its own, which runs it until no call is
    left, then parks; so does a call from a thread that cannot run a loop (a
    Jupyter cell runs inside one). Background work never waits for a caller:
    nothing runs on the loop but calls, and a call in flight always has a
    thread running the loop.

    Ctrl-C in the main thread while it runs the loop cancels its call, then
    raises ``KeyboardInterrupt``, as ``asyncio.run`` does; the others' calls
    go on. :meth:`stop` cancels what is left and closes the loop. A daemon
    thread: a client never closed does not hold the interpreter at exit.
    """

    def __init__(self) -> None:
        # asyncio loads with the first loop, not with the module: ``import
        # httpx`` does not load it either (54M instructions, a tenth of
        # ``import httpx``).
        import asyncio  # noqa: PLC0415 - see above

        self._loop = asyncio.new_event_loop()
        self._running_loop = asyncio._get_running_loop  # noqa: SLF001
        self._state = threading.Condition(threading.Lock())
        #: Who runs the loop now: a caller, the thread, or nobody.
        self._driver: str | None = None
        #: Calls started and not finished (run by whichever thread drives).
        self._inflight = 0
        self._stopped = False
        self._finishing = False
        #: Released once each time the loop passes to the thread.
        self._wake = threading.Semaphore(0)
        #: Set on the loop when no call is left (the thread then parks).
        self._settled: asyncio.Future[None] | None = None
        self.thread = threading.Thread(
            target=self._serve, name="aioqiscus-sync", daemon=True
        )
        self.thread.start()

    def runs_here(self) -> bool:
        """Whether this loop is the one running in the calling thread."""
        return self._running_loop() is self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run *coroutine* on the loop; block until it is done.

        Interrupted while waiting (``KeyboardInterrupt``), the call is
        cancelled on the loop too. A call the loop could not finish because
        the client was closed meanwhile (from another thread) raises
        :class:`~aioqiscus.errors.ClientClosedError`, never waits forever.
        """
        call = _Call(coroutine, self)
        # A thread already running a loop (a Jupyter cell) cannot run ours.
        leads = self._running_loop() is None
        with self._state:
            if self._stopped:
                coroutine.close()
                raise _closed_meanwhile()
            self._inflight += 1
            driver = self._driver
            if driver is None:
                self._driver = driver = "caller" if leads else "thread"
                mine = driver
            else:
                mine = "follower"
        if mine == "caller":
            return self._lead(call)
        loop = self._loop
        try:
            loop.call_soon_threadsafe(call.start)
        except RuntimeError:  # the loop is closed
            coroutine.close()
            raise _closed_meanwhile() from None
        if mine == "thread":
            self._wake.release()
        try:
            self._wait(call)
        except BaseException:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(call.cancel)
            raise
        task = call.task
        assert task is not None  # noqa: S101 - set before done is released
        if task.cancelled():  # by the loop's shutdown: not by this caller
            raise _closed_meanwhile()
        return task.result()

    def _lead(self, call: _Call[T]) -> T:
        """Run the loop in this thread until *call* is done, then pass it on."""
        loop = self._loop
        try:
            try:
                call.start()  # nobody runs the loop: scheduling from here is safe
            except BaseException:
                call.coroutine.close()
                self.finished()
                raise
            task = call.task
            assert task is not None  # noqa: S101 - set by start()
            interrupted = _Interruption(loop, task)
            try:
                with interrupted:
                    loop.run_until_complete(task)
            except BaseException:
                if not task.done():  # KeyboardInterrupt or SystemExit out of the loop
                    task.cancel()  # the thread the loop passes to finishes it
                    raise
                if interrupted.count and task.cancelled():
                    raise KeyboardInterrupt from None
                if task.cancelled():  # by the loop's shutdown: not by this caller
                    raise _closed_meanwhile() from None
                raise
        finally:
            with self._state:
                if self._inflight and not self._finishing:
                    self._driver = "thread"
                    handed = True
                else:
                    self._driver = None
                    handed = False
                    self._state.notify_all()
            if handed:
                self._wake.release()
        return task.result()

    def _wait(self, call: _Call[Any]) -> None:
        """Wait until *call* is done, or its loop stopped without running it.

        Woken at once when the call is done; the timeout only bounds the
        wait for a loop that is gone.
        """
        while not call.done.acquire(timeout=_POLL):
            if not self.thread.is_alive():
                raise _closed_meanwhile()

    def finished(self) -> None:
        """On the loop: a call is done."""
        with self._state:
            self._inflight -= 1
            left = self._inflight
        if not left:
            self._settle()

    def _settle(self) -> None:
        """On the loop: wake :meth:`_quiet` (no call left, or stopping)."""
        settled = self._settled
        if settled is not None and not settled.done():
            settled.set_result(None)

    async def _quiet(self) -> None:
        """Run until no call is left (or the loop is being stopped)."""
        while self._inflight and not self._finishing:
            self._settled = self._loop.create_future()
            await self._settled
        self._settled = None

    def _serve(self) -> None:
        """The thread: run the loop whenever it is passed here; then close it."""
        while True:
            self._wake.acquire()
            with self._state:
                if self._finishing and self._driver != "thread":
                    break
            while True:
                self._loop.run_until_complete(self._quiet())
                with self._state:
                    if not self._inflight or self._finishing:
                        self._driver = None
                        self._state.notify_all()
                        break
        self._close()

    def _close(self) -> None:
        """Cancel what is left on the loop and close it (as asyncio.run does)."""
        import asyncio  # noqa: PLC0415 - loaded by __init__ already

        loop = self._loop
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                gathered = asyncio.gather(*tasks, return_exceptions=True)
                loop.run_until_complete(gathered)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop the loop and wait for its thread (not from the loop itself)."""
        if self.runs_here():
            return
        here = threading.current_thread() is self.thread
        with self._state:
            if self._stopped:
                already = True
            else:
                already = False
                self._stopped = True
                # A caller running the loop finishes its call (bounded by its
                # deadlines) before the loop closes under it.
                self._state.wait_for(lambda: self._driver != "caller", timeout=10)
                self._finishing = True
        if not already:
            with contextlib.suppress(RuntimeError):  # closed
                self._loop.call_soon_threadsafe(self._settle)
            self._wake.release()
        if not here:
            self.thread.join(10)


class _Interruption:
    """Ctrl-C, while the main thread runs the loop: cancel its call first.

    A ``KeyboardInterrupt`` raised at any point of the loop's own code could
    drop another thread's callback; like ``asyncio.run``, the first Ctrl-C
    cancels the call instead (then ``KeyboardInterrupt`` is raised), a
    second one raises at once. Only where Python's default handler is in
    place, and only in the main thread, the one that receives signals.
    """

    __slots__ = ("_loop", "_previous", "_task", "count")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]
    ) -> None:
        self._loop = loop
        self._task = task
        self._previous: Any = None
        self.count = 0

    def __enter__(self) -> None:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, *_: object) -> None:
        self.count += 1
        if self.count == 1 and not self._task.done():
            self._task.cancel()
            self._loop.call_soon_threadsafe(lambda: None)  # wake the selector
            return
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class _Call(Generic[T]):
    """One call run on the loop (strictly private).

    Lighter than ``run_coroutine_threadsafe``'s two chained futures: the
    task's own result is read once *done* (a plain lock) is released.
    """

    __slots__ = ("coroutine", "done", "owner", "task")

    def __init__(self, coroutine: Coroutine[Any, Any, T], owner: _LoopThread) -> None:
        self.coroutine = coroutine
        self.owner = owner
        self.task: asyncio.Task[T] | None = None
        self.done = threading.Lock()
        self.done.acquire()

    def start(self) -> None:
        """On the loop: run the coroutine as a task."""
        self.task = self.owner._loop.create_task(self.coroutine)  # noqa: SLF001
        self.task.add_done_callback(self._finished)

    def _finished(self, _: object) -> None:
        self.owner.finished()
        self.done.release()

    def cancel(self) -> None:
        """On the loop: cancel the task (the caller stopped waiting)."""
        if self.task is not None:
            self.task.cancel()
        else:
            self.coroutine.close()


#: Seconds between checks that the loop thread still runs, while waiting.
_POLL = 1.0


def _closed_meanwhile() -> ClientClosedError:
    return ClientClosedError(
        "the SyncQiscusClient was closed by close() while this call ran; "
        "create a new SyncQiscusClient"
    )


class _Shared:
    """What a client and its ``with_options`` views share (strictly private)."""

    def __init__(self) -> None:
        self.loop = _LoopThread()
        #: The process the loop thread runs in: a fork copies no thread.
        self.pid = os.getpid()
        self.closed = False
        self.lock = threading.Lock()
        # Dropped without close(), by the client and all its views: the
        # thread still stops.
        self.finalizer = weakref.finalize(self, self.loop.stop)


def _refuse_async(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse awaitables and async iterables: nothing here would run them."""
    given = [(f"argument {i + 1}", v) for i, v in enumerate(args)]
    given += [(f"{k}=", v) for k, v in kwargs.items()]
    for where, value in given:
        kind = type(value)
        if (
            inspect.isawaitable(value)
            or hasattr(kind, "__aiter__")
            or hasattr(kind, "__anext__")
            or inspect.iscoroutinefunction(value)
        ):
            msg = (
                f"SyncQiscusClient.{name}(): {where} is {kind.__name__}, an async "
                "object; the blocking client takes plain values (a list, not an "
                "async iterator; a value, not a coroutine), or use the async "
                "client, aioqiscus.QiscusClient"
            )
            raise InvalidArgumentError(msg)


def _in_jupyter() -> bool:
    """Whether this runs in a Jupyter kernel, whose cells run in its loop.

    A cell blocks the kernel's loop while it runs, whatever it calls; the
    loop serves only the kernel's own messages, so a blocking call there
    stalls nothing that was not stalled already.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _refuse_in_loop(name: str, own: _LoopThread) -> None:
    """Refuse a blocking call from inside a running event loop.

    Always on the client's own loop (an event hook, say), where it would
    deadlock; elsewhere except in a Jupyter cell, where it would stall the
    loop.
    """
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return
    if not own.runs_here() and _in_jupyter():
        return
    msg = (
        f"SyncQiscusClient.{name}() was called from inside a running {library} "
        "event loop, where a blocking call would stall the loop (and deadlock "
        "if the loop must answer it); in async code use the async client, "
        "aioqiscus.QiscusClient, with await"
    )
    raise EventLoopError(msg)


class SyncBase:
    """Strictly private: the base of the generated ``SyncQiscusClient``."""

    _client: QiscusClient
    _shared: _Shared
    _view: bool

    def _start(self, client: QiscusClient) -> None:
        self._client = client
        self._shared = _Shared()
        self._view = False

    def _admit(self, name: str) -> _LoopThread:
        if self._shared.closed:
            msg = (
                f"SyncQiscusClient.{name}(): the client was closed by close(); "
                "create a new SyncQiscusClient"
            )
            raise ClientClosedError(msg)
        if os.getpid() != self._shared.pid:
            msg = (
                f"SyncQiscusClient.{name}(): this client was created before the "
                "process forked, and its event loop thread stayed in the parent; "
                "create the client in the process that uses it (on first use, "
                "e.g. in a functools.cache getter)"
            )
            raise EventLoopError(msg)
        loop = self._shared.loop
        _refuse_in_loop(name, loop)
        return loop

    def _call(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the coroutine function *fn* on the loop; block for its result."""
        name = getattr(fn, "__name__", "call")
        _refuse_async(name, args, kwargs)
        loop = self._admit(name)

        async def run() -> T:
            return await fn(*args, **kwargs)

        return loop.run(run())

    def _call_sync(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the plain function *fn* on the loop (it reads loop-side state)."""
        name = getattr(fn, "__name__", "call")
        loop = self._admit(name)

        async def run() -> T:
            return fn(*args, **kwargs)

        return loop.run(run())

    def _listing(
        self, fn: Callable[P, Listing[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> SyncListing[T]:
        """*fn*'s listing (arguments checked now), iterated on the loop."""
        name = getattr(fn, "__name__", "call")
        _refuse_async(name, args, kwargs)
        self._admit(name)
        return SyncListing(self, fn(*args, **kwargs))

    def _iterator(
        self, fn: Callable[P, AsyncIterator[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> SyncIterator[T]:
        """*fn*'s async iterator (arguments checked now), iterated on the loop."""
        name = getattr(fn, "__name__", "call")
        _refuse_async(name, args, kwargs)
        self._admit(name)
        return SyncIterator(self, fn(*args, **kwargs))

    def _derive(self, client: QiscusClient) -> Self:
        """A view over *client* (a ``with_options`` view) sharing the loop."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__, _client=client, _view=True)
        return view

    def __repr__(self) -> str:
        return f"Sync{self._client!r}"

    def __enter__(self) -> Self:
        self._admit("__enter__")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and stop the event loop thread.

        Calls made afterwards, on this client or its views, raise
        :class:`~aioqiscus.errors.ClientClosedError`. Closing twice is fine;
        closing a ``with_options`` view closes nothing.
        """
        if self._view:
            return
        shared = self._shared
        with shared.lock:
            if shared.closed:
                return
            if os.getpid() != shared.pid:
                shared.closed = True  # the parent's to close
                return
            _refuse_in_loop("close", shared.loop)
            try:
                shared.loop.run(self._client.aclose())
            finally:
                shared.closed = True
                shared.finalizer()


class SyncIterator(Iterator[T]):
    """A plain iterator over an async one, each step run on the client's loop.

    ``close()`` stops early (no further page is fetched).
    """

    def __init__(self, owner: SyncBase, items: AsyncIterator[T]) -> None:
        self._owner = owner
        self._items = items

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        """The next item, fetching the next page when this one is spent."""
        items = self._items

        async def step() -> tuple[bool, T | None]:
            try:
                return True, await anext(items)
            except StopAsyncIteration:
                return False, None

        found, item = self._owner._admit("__next__").run(step())  # noqa: SLF001
        if not found:
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop early: no further page is fetched."""
        aclose: Callable[[], Coroutine[Any, Any, object]] | None = getattr(
            self._items, "aclose", None
        )
        if aclose is not None:
            self._owner._admit("close").run(aclose())  # noqa: SLF001


class SyncListing(SyncIterator[T], Generic[T]):
    """A paged listing, iterated with a plain ``for``.

    Attributes mirror :class:`~aioqiscus.Listing`'s: ``total``,
    ``total_pages`` and ``pages`` say what the pages fetched so far said.
    """

    _items: Listing[T]

    def __init__(self, owner: SyncBase, items: Listing[T]) -> None:
        super().__init__(owner, items)

    @property
    def total(self) -> int | None:
        """How many items the whole listing holds, as the latest page said."""
        return self._items.total

    @property
    def total_pages(self) -> int | None:
        """How many pages it spans, where the server says."""
        return self._items.total_pages

    @property
    def pages(self) -> int:
        """How many pages were fetched so far."""
        return self._items.pages

    def __repr__(self) -> str:
        return (
            f"<SyncListing pages={self.pages} total={self.total} "
            f"total_pages={self.total_pages}>"
        )
