"""The machinery of :class:`~aioqiscus.SyncQiscusClient`: a loop in a thread.

:class:`SyncBase` owns one :class:`~aioqiscus.QiscusClient` and runs it on
one event loop in a background thread (anyio's blocking portal). Every
blocking call hands the async call to that loop and waits for its result:
calls from several threads at once run concurrently on the one loop, over
one connection pool. :class:`SyncIterator` and :class:`SyncListing` turn the
async iterators into plain ones, a page fetched per blocking step.

The methods themselves are generated into ``sync.py`` from the async class
(``python -m aioqiscus._syncgen``); this module is what they call.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar

import anyio
import sniffio
from anyio.from_thread import BlockingPortal

from .errors import ClientClosedError, EventLoopError, InvalidArgumentError

if TYPE_CHECKING:
    from ._client import QiscusClient
    from ._paging import Listing

__all__ = ["SyncBase", "SyncIterator", "SyncListing"]

P = ParamSpec("P")
T = TypeVar("T")


class _LoopThread:
    """An asyncio event loop in a daemon thread, reached through a portal.

    A daemon thread: a client never closed does not hold the interpreter
    at exit (anyio's ``start_blocking_portal`` joins its thread then).
    """

    def __init__(self) -> None:
        ready = threading.Event()
        self._portal: BlockingPortal | None = None
        self._error: BaseException | None = None

        async def serve() -> None:
            async with BlockingPortal() as portal:
                self._portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        def main() -> None:
            try:
                anyio.run(serve)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self._error = exc
                ready.set()

        self.thread = threading.Thread(target=main, name="aioqiscus-sync", daemon=True)
        self.thread.start()
        ready.wait()
        if self._portal is None:  # pragma: no cover - the loop failed to start
            raise RuntimeError("the event loop thread did not start") from self._error

    @property
    def portal(self) -> BlockingPortal:
        assert self._portal is not None  # noqa: S101 - set before __init__ returns
        return self._portal

    def stop(self) -> None:
        """Stop the loop and wait for its thread (not from the thread itself)."""
        if threading.current_thread() is self.thread:
            return
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop)
        self.thread.join(10)


class _Shared:
    """What a client and its ``with_options`` views share (strictly private)."""

    def __init__(self) -> None:
        self.loop = _LoopThread()
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


def _refuse_in_loop(name: str) -> None:
    """Refuse a blocking call from inside a running event loop."""
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
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

    def _admit(self, name: str) -> BlockingPortal:
        if self._shared.closed:
            msg = (
                f"SyncQiscusClient.{name}(): the client was closed by close(); "
                "create a new SyncQiscusClient"
            )
            raise ClientClosedError(msg)
        _refuse_in_loop(name)
        return self._shared.loop.portal

    def _call(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the coroutine function *fn* on the loop; block for its result."""
        name = getattr(fn, "__name__", "call")
        _refuse_async(name, args, kwargs)
        portal = self._admit(name)

        async def run() -> T:
            return await fn(*args, **kwargs)

        return portal.call(run)

    def _call_sync(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the plain function *fn* on the loop (it reads loop-side state)."""
        name = getattr(fn, "__name__", "call")
        portal = self._admit(name)
        return portal.call(lambda: fn(*args, **kwargs))

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
            _refuse_in_loop("close")
            try:
                shared.loop.portal.call(self._client.aclose)
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

        found, item = self._owner._admit("__next__").call(step)  # noqa: SLF001
        if not found:
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop early: no further page is fetched."""
        aclose: Callable[[], Awaitable[object]] | None = getattr(
            self._items, "aclose", None
        )
        if aclose is not None:
            self._owner._admit("close").call(aclose)  # noqa: SLF001


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
