"""The in-flight limiter: a bound, first come first served, cancellation-safe.

Every test runs with both kinds of waiter: the asyncio loop's futures (a
client on asyncio) and ``anyio.Event`` (on trio).
"""

from __future__ import annotations

import asyncio

import anyio
import pytest

from aioqiscus._limiter import Limiter


async def hold(limiter: Limiter, order: list[int], n: int, release: anyio.Event):
    async with limiter:
        order.append(n)
        await release.wait()


@pytest.fixture(params=["futures", "events"])
def make(request):
    """A limiter factory whose waiters are the loop's futures, or anyio events."""

    def made(capacity: int) -> Limiter:
        if request.param == "futures":
            return Limiter(capacity, asyncio.get_running_loop())
        return Limiter(capacity)

    return made


class TestLimiter:
    async def test_bound_and_order(self, make):
        """At most capacity holders; waiters get slots in arrival order."""
        limiter = make(2)
        order: list[int] = []
        releases = [anyio.Event() for _ in range(5)]
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for n in range(5):
                    tg.start_soon(hold, limiter, order, n, releases[n])
                    await anyio.sleep(0.005)
                await anyio.sleep(0.01)
                assert order == [0, 1]
                assert limiter.value == 0
                releases[1].set()
                await anyio.sleep(0.01)
                assert order == [0, 1, 2]
                for release in releases:
                    release.set()
        assert order == [0, 1, 2, 3, 4]
        assert limiter.value == 2

    async def test_no_queue_jumping(self, make):
        """A newcomer waits behind earlier waiters even when a slot frees up."""
        limiter = make(1)
        order: list[int] = []
        first, second, third = anyio.Event(), anyio.Event(), anyio.Event()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(hold, limiter, order, 0, first)
                await anyio.sleep(0.01)
                tg.start_soon(hold, limiter, order, 1, second)
                await anyio.sleep(0.01)
                first.set()
                # The slot is handed to 1 before it runs: 2 must not take it.
                tg.start_soon(hold, limiter, order, 2, third)
                await anyio.sleep(0.01)
                assert order == [0, 1]
                second.set()
                third.set()
        assert order == [0, 1, 2]

    async def test_cancelled_waiter_leaves_the_queue(self, make):
        """A waiter cancelled before its turn takes no slot and loses none."""
        limiter = make(1)
        order: list[int] = []
        release = anyio.Event()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(hold, limiter, order, 0, release)
                await anyio.sleep(0.01)
                with anyio.move_on_after(0.01):
                    async with limiter:
                        pytest.fail("entered while the slot was held")
                release.set()
        assert limiter.value == 1
        assert order == [0]

    async def test_cancelled_as_the_slot_arrives(self, make):
        """A waiter cancelled after being handed the slot passes it on.

        A native ``Task.cancel()`` lands even when the waiter's event is
        already set (anyio's scopes wait for the next checkpoint instead).
        """
        limiter = make(1)
        order: list[int] = []
        release = anyio.Event()
        with anyio.fail_after(5):
            await limiter.__aenter__()

            async def doomed():
                async with limiter:
                    order.append(1)

            task = asyncio.create_task(doomed())
            async with anyio.create_task_group() as tg:
                await anyio.sleep(0.01)
                tg.start_soon(hold, limiter, order, 2, release)
                await anyio.sleep(0.01)
                # Hand the slot to the first waiter, and cancel it before it runs.
                await limiter.__aexit__(None, None, None)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                await anyio.sleep(0.01)
                assert order == [2]
                release.set()
        assert limiter.value == 1

    async def test_take_wait_release(self, make):
        """The plain-call form: take a free slot, wait in line, give back."""
        limiter = make(1)
        assert limiter.take()
        assert not limiter.take()
        order: list[int] = []
        release = anyio.Event()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(hold, limiter, order, 1, release)
                await anyio.sleep(0.01)
                assert order == []
                limiter.release()
                await anyio.sleep(0.01)
                # Handed to the waiter: a newcomer's take() does not jump it.
                assert order == [1]
                assert not limiter.take()
                release.set()
            assert limiter.take()
            waiter = asyncio.create_task(limiter.wait())
            await anyio.sleep(0.01)
            assert not waiter.done()
            limiter.release()
            await waiter
            limiter.release()
        assert limiter.value == 1

    async def test_a_cancelled_waiter_does_not_swallow_a_slot(self, make):
        """A slot released after a waiter is cancelled, before its task runs,
        reaches the next waiter (a future is passed over, an event's waiter
        passes the slot on)."""
        limiter = make(1)
        assert limiter.take()
        order: list[int] = []

        async def waiter(n: int) -> None:
            await limiter.wait()
            order.append(n)
            limiter.release()

        with anyio.fail_after(5):
            first = asyncio.create_task(waiter(1))
            second = asyncio.create_task(waiter(2))
            await anyio.sleep(0.01)
            first.cancel()
            limiter.release()  # first's task has not run since its cancel
            with pytest.raises(asyncio.CancelledError):
                await first
            await second
        assert order == [2]
        assert limiter.value == 1
        assert not limiter._waiters
