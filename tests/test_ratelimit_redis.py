"""One rate shared: by clients of one TokenBucket, and through a real Redis.

What both buckets promise runs on each (``shared``): one TokenBucket held
twice, or two RedisTokenBuckets on one key, as two processes would hold
them. Then what only Redis does: token math on its clock, processes,
Redis failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from typing import Any

import anyio
import pytest
import redis.asyncio

import aioqiscus
from aioqiscus import (
    RateLimitedError,
    RateLimitStoreError,
    RedisTokenBucket,
    TokenBucket,
)
from aioqiscus.testing import FakeQiscus, Fault

from ._ratelimit_worker import run
from ._redis import run_redis
from .helpers import in_process

ALICE = "alice@example.com"


@pytest.fixture(name="fake")
def _fake():
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    return fake


def bucket_at(url: str, **options: Any) -> RedisTokenBucket:
    settings: dict[str, Any] = {"key": "app", "rate": 10, "burst": 1, **options}
    return RedisTokenBucket.from_url(url, **settings)


@pytest.fixture(name="shared", params=["memory", "redis"])
async def _shared(request):
    """make(rate, burst): two holders of one budget."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(rate: float, burst: int = 1) -> tuple[Any, Any]:
            if request.param == "memory":
                bucket = TokenBucket(rate=rate, burst=burst)
                return bucket, bucket
            url = request.getfixturevalue("redis_url")
            one = bucket_at(url, rate=rate, burst=burst)
            two = bucket_at(url, rate=rate, burst=burst)
            return (
                await stack.enter_async_context(one),
                await stack.enter_async_context(two),
            )

        yield make


class TestShared:
    async def test_waiters_go_one_interval_apart(self, shared):
        """Waiters of both holders go one interval apart, in the order they asked."""
        one, two = await shared(rate=20)
        times: list[float] = []
        started = anyio.current_time()

        async def take(bucket: Any) -> None:
            await bucket.acquire()
            times.append(anyio.current_time())

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for i in range(6):
                    tg.start_soon(take, (one, two)[i % 2])
        # The i-th goes no sooner than i intervals after the start (a late
        # wake may shorten the gap after it, never move a slot earlier).
        early = [i for i, t in enumerate(times) if t - started < i * 0.05 - 0.005]
        assert early == []
        assert times[-1] - started < 0.6

    async def test_pause_moves_a_sleeping_waiter(self, shared):
        """A pause written through one holder holds a waiter asleep on the other."""
        one, two = await shared(rate=10)
        await two.acquire()
        started = anyio.current_time()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(two.acquire)
                await anyio.sleep(0.02)
                await one.pause(0.4)
        assert anyio.current_time() - started >= 0.4

    async def test_429_pauses_every_client(self, shared, fake):
        """One client's 429 with Retry-After holds another client for as long."""
        fake.inject(Fault.rate_limited(retry_after=0.4), times=1)
        mine, theirs = await shared(rate=100, burst=5)
        retried = anyio.Event()
        hooks = {"retry": [lambda _: retried.set()]}
        async with (
            in_process(fake, "v2.1", rate_limit=mine, event_hooks=hooks) as first,
            in_process(fake, "v2.1", rate_limit=theirs) as second,
        ):

            async def other() -> None:
                await retried.wait()
                await second.get_user(ALICE)

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(other)
                    await first.get_user(ALICE)
        refused, *later = fake.journal
        assert refused.status == 429
        assert [e.status for e in later] == [200, 200]
        # set_testing(True) removed the retry's own sleep: the bucket held both.
        assert min(e.at for e in later) - refused.at >= 0.38


class TestRedisTokenMath:
    async def test_burst_then_rate(self, redis_url):
        """Redis gives *burst* tokens at once, then refuses until the interval."""
        async with bucket_at(redis_url, rate=10, burst=3, max_wait=0) as bucket:
            for _ in range(3):
                await bucket.acquire()
            with pytest.raises(RateLimitedError) as caught:
                await bucket.acquire()
            assert 0.05 < caught.value.wait <= 0.1
            await anyio.sleep(0.1)
            await bucket.acquire()

    async def test_pause_then_no_burst(self, redis_url):
        """A pause refuses tokens until it ends, then gives one at a time."""
        async with bucket_at(redis_url, rate=10, burst=5, max_wait=0) as bucket:
            await bucket.pause(0.3)
            with pytest.raises(RateLimitedError) as caught:
                await bucket.acquire()
            assert 0.25 < caught.value.wait <= 0.3
            await anyio.sleep(0.3)
            await bucket.acquire()
            with pytest.raises(RateLimitedError):
                await bucket.acquire()

    async def test_one_key_is_one_budget(self, redis_url):
        """Two buckets on one key share tokens; another key has its own."""
        async with (
            bucket_at(redis_url, rate=1, max_wait=0) as one,
            bucket_at(redis_url, rate=1, max_wait=0) as same,
            bucket_at(redis_url, key="other", rate=1, max_wait=0) as other,
        ):
            await one.acquire()
            with pytest.raises(RateLimitedError):
                await same.acquire()
            await other.acquire()

    async def test_refuses_bad_key(self, redis_url):
        """An empty key is refused before anything is sent to Redis."""
        with pytest.raises(ValueError, match="key"):
            bucket_at(redis_url, key="")

    async def test_borrowed_client_is_not_closed(self, redis_url):
        """A bucket built on your Redis client leaves it open."""
        client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=2)
        async with RedisTokenBucket(client, key="app", rate=5):
            pass
        assert await client.ping()
        await client.aclose()


class TestClients:
    def test_three_processes_hold_one_rate(self, fake, redis_url):
        """Clients in 3 processes on one key hold the rate within 10% at the server."""
        from aioqiscus.testing import serve

        rate, seconds = 40.0, 2.5
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(4)
        with serve(fake) as url:
            workers = [
                context.Process(
                    target=run, args=(url, redis_url, barrier, rate, seconds)
                )
                for _ in range(3)
            ]
            for worker in workers:
                worker.start()
            try:
                barrier.wait(timeout=60)  # all three are ready: go
                for worker in workers:
                    worker.join(timeout=seconds + 10)
                codes = [worker.exitcode for worker in workers]
            finally:
                for worker in workers:
                    if worker.is_alive():
                        worker.kill()
                        worker.join()
        assert codes == [0, 0, 0]
        sent = sorted(e.at for e in fake.journal if e.status == 200)
        assert len(sent) == len(fake.journal)
        observed = (len(sent) - 1) / (sent[-1] - sent[0])
        assert rate * 0.9 <= observed <= rate * 1.1, observed
        assert len(sent) >= rate * seconds * 0.9


class TestRedisFailing:
    async def test_redis_going_away_mid_run(self, fake):
        """Redis stopping mid-run fails calls with RateLimitStoreError, unsent."""
        stack = contextlib.ExitStack()
        url = stack.enter_context(run_redis())
        try:
            async with (
                bucket_at(url, rate=100, socket_timeout=0.5) as bucket,
                in_process(fake, "v2.1", rate_limit=bucket) as client,
            ):
                await client.get_user(ALICE)
                stack.close()  # the redis-server process is stopped
                with anyio.fail_after(3), pytest.raises(RateLimitStoreError) as caught:
                    await client.get_user(ALICE)
        finally:
            stack.close()
        assert len(fake.journal) == 1
        assert "not sent" in str(caught.value)
        assert "check that Redis is running" in str(caught.value)  # what to do
        # One except clause catches "Redis is down", whichever part met it.
        assert isinstance(caught.value, aioqiscus.StoreError)

    async def test_silent_redis_fails_within_the_socket_timeout(self, fake):
        """A Redis that accepts but never answers fails a call in socket_timeout."""

        async def swallow(reader: asyncio.StreamReader, writer: Any) -> None:
            await reader.read()
            writer.close()

        server = await asyncio.start_server(swallow, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with (
            server,
            bucket_at(f"redis://127.0.0.1:{port}/0", socket_timeout=0.3) as bucket,
            in_process(fake, "v2.1", rate_limit=bucket) as client,
        ):
            started = anyio.current_time()
            with anyio.fail_after(3), pytest.raises(RateLimitStoreError):
                await client.get_user(ALICE)
            assert anyio.current_time() - started < 1.0
        assert fake.journal == []
