"""Connections per event loop: one client, any number of event loops.

A connection pool belongs to the event loop that opened it: httpx and
aiohttp fail with a bare ``RuntimeError`` when a pooled connection is used
from another loop. So a client keeps what can be shared (settings,
negotiation, the send markers) and opens connections per loop:
:class:`PerLoop` hands each loop a :class:`LoopState` (a backend and its
in-flight limiter), creating it on the loop's first request from the
backend's settings (``Backend.clone()``). Successive ``asyncio.run`` calls,
trio after asyncio, and loops running at the same time in several threads
all work.

When a loop ends, its connections are closed on that loop, while it can
still close them: a guard task sleeps on each loop a client ran on and, once
cancelled (``asyncio.run`` cancels the tasks left when its coroutine
returns; trio cancels system tasks when its main task exits), closes that
loop's backend and forgets it.

A backend that cannot be cloned (an injected ``http_client``, a shared
aiohttp session, a backend object of the user's) belongs to the loop it
first ran on; a request from any other loop is refused, every time, with
:class:`~aioqiscus.errors.EventLoopError`.

Strictly private: :class:`~aioqiscus._transport.Transport` owns one.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeGuard

import anyio
import attrs

from ._limiter import Limiter
from .backends import Backend
from .errors import EventLoopError

if TYPE_CHECKING:
    import asyncio

__all__ = ["LoopState", "PerLoop", "running_loop"]


def running_loop() -> object:
    """The running event loop: the asyncio loop, or trio's token.

    ``asyncio.get_running_loop`` costs a tenth of anyio's ``current_token``
    and serves the common case; other loops go the slow way.
    """
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
    import anyio.lowlevel  # noqa: PLC0415 - other loops than asyncio only

    token = anyio.lowlevel.current_token()
    return getattr(token, "native_token", token)


#: How many times this process was forked: a loop a parent ran is not
#: running in its child (asyncio says so by comparing process ids).
_forks = 0


def _forked() -> None:
    global _forks  # noqa: PLW0603 - counted for every PerLoop
    _forks += 1


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forked)


def _is_asyncio(loop: object) -> TypeGuard[asyncio.AbstractEventLoop]:
    """Whether *loop* is an asyncio event loop.

    ``import aioqiscus`` does not import asyncio (a sixth of its import
    time, and trio programs never need it): a loop can only be an asyncio
    loop once asyncio is imported, so it is looked up, never imported, here.
    """
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(loop, asyncio.AbstractEventLoop)


@attrs.define(eq=False)
class LoopState:
    """What one event loop's requests go through.

    Attributes:
        backend: The backend whose connections belong to this loop.
        limiter: The in-flight bound of this loop's requests.
        stop: Cancels the loop's guard from any thread (the guard then closes
            *backend* on its loop); ``None`` until the guard runs.
    """

    backend: Backend
    limiter: Limiter
    stop: Callable[[], None] | None = None


class PerLoop:
    """The :class:`LoopState` of each event loop a client runs on.

    Args:
        backend: The backend the client was built with: the first loop's,
            and the settings of the others'.
        max_in_flight: The in-flight bound, per event loop.
    """

    def __init__(self, backend: Backend, max_in_flight: int) -> None:
        self.backend = backend
        self.max_in_flight = max_in_flight
        self._states: dict[object, LoopState] = {}
        #: The last loop served, its state, and for an asyncio loop the
        #: thread that ran it (else 0) and the fork count then: the hot
        #: path's one lookup.
        self._last: tuple[Any, LoopState, int, int] | None = None
        self._lock = threading.Lock()
        self._first_used = False

    def here(self) -> LoopState:
        """The running loop's state, created on its first request.

        Raises:
            EventLoopError: The backend is the user's and belongs to another
                loop.
        """
        last = self._last
        if (
            last is not None
            and last[2] == threading.get_ident()
            and last[3] == _forks
            and last[0].is_running()
        ):
            # The asyncio loop this thread ran last, running still: the
            # running loop (a thread runs one at a time), known without
            # asking asyncio, whose get_running_loop() makes a getpid
            # system call every time (docs/performance.md).
            return last[1]
        loop = running_loop()
        if last is not None and last[0] is loop:  # trio's, or a loop moved threads
            return last[1]
        with self._lock:
            state = self._states.get(loop)
            if state is None:
                state = self._open(loop)
            ident = threading.get_ident() if _is_asyncio(loop) else 0
            self._last = (loop, state, ident, _forks)
        return state

    def _open(self, loop: object) -> LoopState:
        self._forget_closed()
        if not self._first_used:
            backend = self.backend
            self._first_used = True
        else:
            clone: Callable[[], Backend | None] | None = getattr(
                self.backend, "clone", None
            )
            fresh = clone() if clone is not None else None
            if fresh is None:
                raise _foreign(self.backend)
            backend = fresh
        # On an asyncio loop its waiters are the loop's own futures.
        futures = loop if _is_asyncio(loop) else None
        state = LoopState(backend, Limiter(self.max_in_flight, futures))
        self._states[loop] = state
        _spawn(loop, self._guard, loop, state)
        return state

    def _forget_closed(self) -> None:
        """Drop the states of asyncio loops closed without cancelling tasks."""
        for loop in [lp for lp in self._states if _is_asyncio(lp) and lp.is_closed()]:
            del self._states[loop]

    async def _guard(self, loop: object, state: LoopState) -> None:
        """Sleep until the loop ends (or the client closes), then close."""
        try:
            with anyio.CancelScope() as scope:
                state.stop = _stopper(loop, scope)
                await anyio.sleep_forever()
        finally:
            try:
                with anyio.CancelScope(shield=True):
                    await state.backend.aclose()
            finally:
                with self._lock:
                    if self._states.get(loop) is state:
                        del self._states[loop]
                    if self._last is not None and self._last[0] is loop:
                        self._last = None

    async def aclose(self) -> None:
        """Close the backends of every loop.

        This loop's now; the others' on their own loop, by their guard.
        """
        here = running_loop()
        with self._lock:
            states = dict(self._states)
            self._states.clear()
            self._last = None
        for loop, state in states.items():
            if loop is not here and state.stop is not None:
                state.stop()
        current = states.get(here)
        if current is not None:
            # Closed here, and only then the guard stopped: were both to
            # close it, the second aclose() of an httpx pool returns at once,
            # while the first is still closing its connections; the loop,
            # ending, would cut the guard short with connections left open.
            await current.backend.aclose()
            if current.stop is not None:
                current.stop()
        if not self._first_used:
            # Never used: it may hold a pool, never a connection. (Used, it
            # is closed with its loop's state above, or was closed by its
            # guard, or its loop was closed by hand, taking it along.)
            await self.backend.aclose()


def _spawn(loop: object, guard: Callable[..., Any], *args: object) -> None:
    """Start *guard* on *loop* (the running one), outside any task group."""
    if _is_asyncio(loop):
        task = loop.create_task(guard(*args), name="aioqiscus: close at loop end")
        # A loop closed without cancelling its tasks (run_until_complete,
        # then close) never runs the guard: its connections are left open as
        # they were before guards, but asyncio would also log "Task was
        # destroyed but it is pending!" for a task the user never made.
        task._log_destroy_pending = False  # type: ignore[attr-defined]  # noqa: SLF001
        # The loop keeps only weak references to its tasks.
        _GUARDS.add(task)
        task.add_done_callback(_GUARDS.discard)
    else:
        trio = sys.modules["trio"]
        trio.lowlevel.spawn_system_task(guard, *args)


#: The asyncio guard tasks alive.
_GUARDS: set[asyncio.Task[None]] = set()


def _stopper(loop: object, scope: anyio.CancelScope) -> Callable[[], None]:
    """A function that cancels *scope* on *loop* from any thread."""

    def stop() -> None:
        try:
            if _is_asyncio(loop):
                loop.call_soon_threadsafe(scope.cancel)
            else:
                loop.run_sync_soon(scope.cancel)  # type: ignore[attr-defined]
        except RuntimeError:
            pass  # the loop is gone, and its guard ran or never will

    return stop


def _foreign(backend: Backend) -> EventLoopError:
    name = type(backend).__name__
    given = {
        "HttpxBackend": "the http_client (httpx.AsyncClient)",
        "AiohttpBackend": "the aiohttp session",
    }.get(name, f"the backend ({name})")
    return EventLoopError(
        f"{given} passed to QiscusClient belongs to the event loop it first "
        "ran on, and this call runs on another one; create it inside the "
        "loop that uses it, or let QiscusClient create its own connections "
        "(it then opens them per event loop)"
    )
