"""One client, any event loop: connections are opened per loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
import time
import warnings

import anyio
import pytest

from aioqiscus import ClientClosedError, QiscusClient, _loops
from aioqiscus.backends import POOL_SIZE, HttpxBackend

from .conftest import ALICE


@pytest.fixture(name="alice")
def _alice(served):
    """The session's loopback fake, reset, with ALICE: (fake, url)."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    return fake, url


def _client(fake, url, backend="httpx", api_version="auto") -> QiscusClient:
    return QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url=url,
        api_version=api_version,
        backend=backend,
    )


async def _get(client: QiscusClient) -> str:
    with anyio.fail_after(10):
        return (await client.get_user(ALICE)).id


class TestSuccessiveLoops:
    @pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
    def test_six_asyncio_runs_all_succeed(self, alice, backend):
        """Six asyncio.run calls on one module-level client all succeed, and
        each loop's connections are closed when it ends (no warning)."""
        fake, url = alice
        client = _client(fake, url, backend)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = [asyncio.run(_get(client)) for _ in range(6)]
            asyncio.run(client.aclose())
            gc.collect()
        assert results == [ALICE] * 6
        assert [str(w.message) for w in caught] == []
        # Negotiated once, on the first loop; kept by the others.
        assert len(fake.requests("user_profile")) == 7

    def test_a_loop_closes_its_connections_when_it_ends(self, alice):
        """When asyncio.run returns, the pool it opened is closed."""
        fake, url = alice
        client = _client(fake, url, api_version="v2.1")
        backend = client._transport.backend
        assert isinstance(backend, HttpxBackend)
        asyncio.run(_get(client))
        assert backend.client.is_closed
        assert asyncio.run(_get(client)) == ALICE
        asyncio.run(client.aclose())

    def test_aclose_at_the_end_of_a_loop_closes_every_connection(self, alice):
        """``async with client`` as the last thing a loop does: every pooled
        connection is closed when it returns, none is left to the loop's end
        (the guard task closing the same pools meanwhile would be cut short,
        leaving sockets unclosed)."""
        fake, url = alice
        client = _client(fake, url, api_version="v2.1")

        backend = client._transport.backend
        assert isinstance(backend, HttpxBackend)

        async def burst() -> list[bool]:
            async with client:
                with anyio.fail_after(10):
                    async with anyio.create_task_group() as tg:
                        # Two pools' worth of connections, all left idle.
                        for _ in range(2 * POOL_SIZE):
                            tg.start_soon(_get, client)
                opened = [
                    c
                    for pool in backend.pools
                    for c in pool._transport._pool.connections  # type: ignore[attr-defined]
                ]
            return [c.is_closed() for c in opened]

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            closed = asyncio.run(burst())
            gc.collect()
        assert len(closed) > POOL_SIZE
        assert all(closed)
        assert [str(w.message) for w in caught] == []

    def test_trio_after_asyncio(self, alice):
        """The same client works on trio after asyncio, and on asyncio again."""
        fake, url = alice
        client = _client(fake, url)
        assert asyncio.run(_get(client)) == ALICE
        assert anyio.run(_get, client, backend="trio") == ALICE
        assert asyncio.run(_get(client)) == ALICE
        anyio.run(client.aclose, backend="trio")

    def test_closed_on_one_loop_refuses_on_the_next(self, alice):
        """aclose() on one loop closes the client for every loop."""
        fake, url = alice
        client = _client(fake, url)
        asyncio.run(_get(client))
        asyncio.run(client.aclose())
        with pytest.raises(ClientClosedError):
            asyncio.run(_get(client))

    def test_a_loop_closed_without_cancelling_logs_nothing(self, alice, caplog):
        """A loop run by hand and closed with its tasks pending logs no error
        about the client's guard task; the next loop works."""
        fake, url = alice
        client = _client(fake, url, api_version="v2.1")
        loop = asyncio.new_event_loop()
        loop.run_until_complete(_get(client))
        loop.close()
        del loop
        with warnings.catch_warnings():
            # The hand-run loop's connection: no one could close it.
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
        assert asyncio.run(_get(client)) == ALICE
        asyncio.run(client.aclose())


class TestLoopsAtTheSameTime:
    @pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
    def test_two_threads_share_one_client(self, alice, backend):
        """Two threads, each running its own loop, use one client at once:
        every call succeeds (negotiation included)."""
        fake, url = alice
        client = _client(fake, url, backend)
        both = threading.Barrier(2, timeout=10)
        results: dict[int, list[str]] = {}

        async def many(n: int) -> None:
            with anyio.fail_after(20):
                both.wait()  # start together, so the first calls overlap
                async with anyio.create_task_group() as tg:
                    for _ in range(20):
                        tg.start_soon(lambda: _append(n))

        async def _append(n: int) -> None:
            results.setdefault(n, []).append(await _get(client))

        threads = [
            threading.Thread(target=asyncio.run, args=(many(n),)) for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        asyncio.run(client.aclose())
        assert results == {0: [ALICE] * 20, 1: [ALICE] * 20}

    def test_closing_from_one_loop_closes_a_running_loops_connections(self, alice):
        """aclose() from the main thread stops the pool of a loop still
        running in another thread, on that loop."""
        fake, url = alice
        client = _client(fake, url, api_version="v2.1")
        ready, done = threading.Event(), threading.Event()
        backends = []

        async def other() -> None:
            await _get(client)
            backends.append(client._transport.loops.here().backend)
            ready.set()
            # Keep this loop running until the main thread has closed.
            await anyio.to_thread.run_sync(done.wait, 10)

        thread = threading.Thread(target=asyncio.run, args=(other(),))
        thread.start()
        assert ready.wait(10)
        asyncio.run(client.aclose())
        for _ in range(1000):  # up to 10 s
            if backends[0].client.is_closed:
                break
            time.sleep(0.01)
        done.set()
        thread.join(10)
        assert backends[0].client.is_closed


class TestTheRunningLoop:
    """The running loop's state is found without asking asyncio every time."""

    def test_asked_once_per_loop(self, alice, monkeypatch):
        """One question per loop, however many calls; a new loop is asked again.

        asyncio's get_running_loop() makes a getpid system call each time
        (the check that a loop is not a forked parent's): a thread's running
        loop is known again by the thread and the loop's is_running().
        """
        fake, url = alice
        client = _client(fake, url, "aiohttp", api_version="v2.1")
        asked: list[object] = []
        running_loop = _loops.running_loop

        def counted() -> object:
            asked.append(None)
            return running_loop()

        monkeypatch.setattr(_loops, "running_loop", counted)

        async def five() -> object:
            for _ in range(5):
                await _get(client)
            return client._transport.loops.here().backend

        first = asyncio.run(five())
        assert len(asked) == 1
        second = asyncio.run(five())
        assert len(asked) == 2
        assert second is not first  # the new loop's own connections
        asyncio.run(client.aclose())

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="forks on POSIX only")
    def test_a_forked_child_asks_again(self, monkeypatch):
        """A child forked while its parent's loop runs does not take that loop's state."""
        loops = _loops.PerLoop(HttpxBackend(), 4)
        asked: list[object] = []
        running_loop = _loops.running_loop

        def counted() -> object:
            asked.append(None)
            return running_loop()

        async def main() -> int:
            first = loops.here()
            monkeypatch.setattr(_loops, "running_loop", counted)
            assert loops.here() is first
            assert asked == []  # the parent's loop, known without asking
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # threads
                pid = os.fork()
            if pid == 0:  # the child: reports whether it asked, and exits
                with contextlib.suppress(BaseException):
                    loops.here()
                os._exit(0 if asked else 1)
            with anyio.fail_after(10):
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - never blocks
                    if done:
                        break
                    await anyio.sleep(0.01)
            await loops.aclose()
            return os.waitstatus_to_exitcode(status)

        assert asyncio.run(main()) == 0
