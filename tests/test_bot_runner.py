"""The bot's queue survives its handlers: whatever a handler ends in
(cancellation included), the deliveries behind it still run, and join waits
for every accepted one."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest

from aioqiscus.bot import Bot, Context
from aioqiscus.bot._runner import Runner

from .test_bot import delivery, new_bot, send


def one_worker_bot(client) -> Bot:
    return new_bot(client, max_concurrency=1, max_pending=100)


class TestRobustQueue:
    async def test_cancelled_handler_does_not_stop_the_queue(
        self, qiscus_client, caplog
    ):
        """A handler ending in CancelledError is logged; the four deliveries
        queued behind it on the only worker run, and join waits for them."""
        bot = one_worker_bot(qiscus_client)
        seen: list[str] = []

        @bot.on_message()
        async def handler(ctx: Context) -> None:
            await asyncio.sleep(0.01)
            if ctx.text == "a":
                raise asyncio.CancelledError
            seen.append(ctx.text)

        with (
            anyio.fail_after(10),
            caplog.at_level(logging.ERROR, logger="aioqiscus.bot"),
        ):
            statuses = [await send(bot, delivery(t)) for t in "abcde"]
            await bot.join()
        assert statuses == [200] * 5
        assert seen == ["b", "c", "d", "e"]
        assert "ended cancelled" in caplog.text

    @pytest.mark.parametrize(
        "exc",
        [
            asyncio.CancelledError(),
            KeyError("k"),
            ExceptionGroup("many", [ValueError("v")]),
            BaseExceptionGroup("cancelled inside", [asyncio.CancelledError()]),
            TimeoutError(),
        ],
        ids=lambda e: type(e).__name__,
    )
    async def test_any_ending_keeps_the_worker(self, qiscus_client, exc):
        """Whatever the first handler raises, every later delivery runs on
        the same single worker, in order."""
        bot = one_worker_bot(qiscus_client)
        seen: list[str] = []

        @bot.on_message()
        async def handler(ctx: Context) -> None:
            if ctx.text == "boom":
                raise exc
            seen.append(ctx.text)

        with anyio.fail_after(10):
            await send(bot, delivery("boom"))
            for text in ("x", "y"):
                await send(bot, delivery(text))
            await bot.join()
        assert seen == ["x", "y"]
        assert (bot._runner.running, bot._runner.pending) == (0, 0)

    async def test_entered_bot_survives_a_group_of_cancellations(self, qiscus_client):
        """In the bot's task group, a handler raising a group holding a
        CancelledError neither crashes the group nor stops the queue."""
        bot = one_worker_bot(qiscus_client)
        seen: list[str] = []

        @bot.on_message()
        async def handler(ctx: Context) -> None:
            if ctx.text == "boom":
                raise BaseExceptionGroup("inner", [asyncio.CancelledError()])
            seen.append(ctx.text)

        with anyio.fail_after(10):
            async with bot:
                for text in ("boom", "x", "y"):
                    await send(bot, delivery(text))
                await bot.join()
        assert seen == ["x", "y"]

    async def test_worker_cancelled_from_outside_hands_on_its_queue(
        self, qiscus_client
    ):
        """A worker task cancelled by someone else stops, and a new worker
        takes the deliveries that were queued behind it."""
        bot = one_worker_bot(qiscus_client)
        seen: list[str] = []

        @bot.on_message()
        async def handler(ctx: Context) -> None:
            if ctx.text == "victim":
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
                await asyncio.sleep(1)
            seen.append(ctx.text)

        with anyio.fail_after(10):
            for text in ("victim", "after-1", "after-2"):
                assert await send(bot, delivery(text)) == 200
            await bot.join()
        assert seen == ["after-1", "after-2"]

    async def test_join_waits_for_every_accepted_delivery(self, qiscus_client):
        """join returns only once the slow deliveries behind a cancelled one
        have all finished."""
        bot = new_bot(qiscus_client, max_concurrency=2, max_pending=100)
        finished: list[str] = []

        @bot.on_message()
        async def handler(ctx: Context) -> None:
            if ctx.text.startswith("cancel"):
                raise asyncio.CancelledError
            await asyncio.sleep(0.02)
            finished.append(ctx.text)

        texts = [f"cancel-{i}" if i % 3 == 0 else f"slow-{i}" for i in range(12)]
        with anyio.fail_after(10):
            for text in texts:
                await send(bot, delivery(text))
            await bot.join()
        assert sorted(finished) == sorted(t for t in texts if t.startswith("slow"))


class TestWaitingWorkers:
    """A worker without a job waits a little for the next one (no task per job)."""

    async def test_next_job_reuses_the_waiting_worker(self):
        """Jobs submitted one after the other, each once the last is done, all
        run on one worker task."""
        ran_on: list[asyncio.Task[object] | None] = []

        async def work(job: int) -> None:
            ran_on.append(asyncio.current_task())

        runner: Runner[int] = Runner(work, max_concurrency=4, max_pending=10)
        with anyio.fail_after(10):
            for job in range(5):
                assert runner.reserve()
                runner.submit(job)
                await runner.join()
            assert (runner.running, runner.pending) == (0, 0)
            runner.close()
            await asyncio.gather(*runner._tasks)
        assert len(ran_on) == 5
        assert len(set(ran_on)) == 1

    async def test_closing_sends_waiting_workers_away(self, qiscus_client):
        """Leaving async with ends the waiting workers at once, not after a wait."""
        bot = new_bot(qiscus_client)
        seen: list[str] = []

        @bot.on_message()
        async def handler(ctx: Context) -> None:
            seen.append(ctx.text)

        with anyio.fail_after(0.9):  # under the time a worker waits
            async with bot:
                await send(bot, delivery("a"))
                await bot.join()
        assert seen == ["a"]

    async def test_job_handed_to_a_worker_cancelled_while_waiting_runs(self):
        """A job handed to a waiting worker that is cancelled before it wakes
        goes to a new worker."""
        done: list[int] = []

        async def work(job: int) -> None:
            done.append(job)

        runner: Runner[int] = Runner(work, max_concurrency=1, max_pending=10)
        with anyio.fail_after(10):
            assert runner.reserve()
            runner.submit(1)
            await runner.join()
            (waiting,) = runner._tasks
            assert runner.reserve()
            runner.submit(2)  # handed over; the worker has not woken yet
            waiting.cancel()
            await asyncio.sleep(0.05)
            await runner.join()
            runner.close()
        assert done == [1, 2]
