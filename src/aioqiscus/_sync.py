"""The machinery of :class:`~aioqiscus.SyncQiscusClient`: a loop in a thread.

:class:`SyncBase` owns one :class:`~aioqiscus.QiscusClient` and runs it on
one asyncio event loop in a background thread (as anyio's blocking portal
would, for less). Every blocking call hands the async call to that loop
and waits for its result:
calls from several threads at once run concurrently on the one loop, over
one connection pool. :class:`SyncIterator` and :class:`SyncListing` turn the
async iterators into plain ones, a page fetched per blocking step.

The methods themselves are generated into ``sync.py`` from the async class
(``python -m aioqiscus._syncgen``); this module is what they call.
"""

from __future__ import annotations

import contextlib
import inspect
import os
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
    """An asyncio event loop in a daemon thread; :meth:`run` blocks on it.

    Like anyio's blocking portal, at under half its cost per call (30 us
    against 68 us for a call that does nothing, on the machine of
    ``bench/sync.py``): a call is one task started with
    ``call_soon_threadsafe`` and one lock released when it is done, with no
    task group, cancel scope or chained futures around it. The loop runs in
    ``asyncio.run``, so stopping it cancels what is left and closes it as
    any ``asyncio.run`` does. A daemon thread: a client never closed does
    not hold the interpreter at exit.
    """

    def __init__(self) -> None:
        # asyncio loads with the first loop thread, not with the module:
        # ``import httpx`` does not load it either (54M instructions,
        # a tenth of ``import httpx``).
        import asyncio  # noqa: PLC0415 - see above

        ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = self._loop.create_future()
            ready.set()
            await self._stop

        self.thread = threading.Thread(
            target=asyncio.run, args=(serve(),), name="aioqiscus-sync", daemon=True
        )
        self.thread.start()
        ready.wait()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run *coroutine* on the loop; block until it is done.

        Interrupted while waiting (``KeyboardInterrupt``), the call is
        cancelled on the loop too. A call the loop could not finish because
        the client was closed meanwhile (from another thread) raises
        :class:`~aioqiscus.errors.ClientClosedError`, never waits forever.
        """
        loop = self._loop
        assert loop is not None  # noqa: S101 - set before __init__ returns
        call = _Call(coroutine)
        try:
            loop.call_soon_threadsafe(call.start, loop)
        except RuntimeError:  # the loop is closed
            coroutine.close()
            raise _closed_meanwhile() from None
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

    def _wait(self, call: _Call[Any]) -> None:
        """Wait until *call* is done, or its loop stopped without running it.

        Woken at once when the call is done; the timeout only bounds the
        wait for a loop that is gone.
        """
        while not call.done.acquire(timeout=_POLL):
            if not self.thread.is_alive():
                raise _closed_meanwhile()

    def stop(self) -> None:
        """Stop the loop and wait for its thread (not from the thread itself)."""
        if threading.current_thread() is self.thread:
            return
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # already stopped
                loop.call_soon_threadsafe(_finish, stop)
        self.thread.join(10)


class _Call(Generic[T]):
    """One call handed to the loop thread (strictly private).

    Lighter than ``run_coroutine_threadsafe``'s two chained futures: the
    task's own result is read once *done* (a plain lock) is released.
    """

    __slots__ = ("coroutine", "done", "task")

    def __init__(self, coroutine: Coroutine[Any, Any, T]) -> None:
        self.coroutine = coroutine
        self.task: asyncio.Task[T] | None = None
        self.done = threading.Lock()
        self.done.acquire()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: run the coroutine as a task."""
        self.task = loop.create_task(self.coroutine)
        self.task.add_done_callback(self._finished)

    def _finished(self, _: object) -> None:
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


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


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


def _refuse_in_loop(name: str, own: threading.Thread) -> None:
    """Refuse a blocking call from inside a running event loop.

    Always on the client's own loop thread (an event hook, say), where it
    would deadlock; elsewhere except in a Jupyter cell, where it would
    stall the loop.
    """
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return
    if threading.current_thread() is not own and _in_jupyter():
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
        _refuse_in_loop(name, loop.thread)
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
            _refuse_in_loop("close", shared.loop.thread)
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
