"""The in-process rate limit: token math, max_wait, cancellation, pauses, the fake's rate."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import anyio
import pytest

from aioqiscus import (
    APIError,
    ClientClosedError,
    InvalidArgumentError,
    NegotiationError,
    QiscusError,
    RateLimitedError,
    RateLimitError,
    RetryPolicy,
    TokenBucket,
    _ratelimit,
)
from aioqiscus.testing import FakeQiscus, Fault

from .helpers import in_process

ALICE = "alice@example.com"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(name="clock")
def _clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(_ratelimit, "time", clock)
    return clock


async def refused_wait(bucket: TokenBucket) -> float:
    """The wait a refused acquire reports (the bucket must refuse)."""
    with pytest.raises(RateLimitedError) as caught:
        await bucket.acquire()
    assert caught.value.wait is not None
    return caught.value.wait


@pytest.fixture(name="fake")
def _fake():
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    return fake


class TestTokenMath:
    async def test_burst_then_rate(self, clock):
        """A quiet bucket gives *burst* tokens at once, then one per interval."""
        bucket = TokenBucket(rate=10, burst=3, max_wait=0)
        for _ in range(3):
            await bucket.acquire()
        assert await refused_wait(bucket) == pytest.approx(0.1)
        clock.now += 0.1
        await bucket.acquire()
        assert await refused_wait(bucket) == pytest.approx(0.1)

    async def test_refill_is_capped_by_burst(self, clock):
        """A long quiet spell refills at most *burst* tokens."""
        bucket = TokenBucket(rate=10, burst=2, max_wait=0)
        clock.now += 3600
        await bucket.acquire()
        await bucket.acquire()
        assert await refused_wait(bucket) == pytest.approx(0.1)

    async def test_refusal_reserves_nothing(self, clock):
        """A refused caller leaves the next token where it was."""
        bucket = TokenBucket(rate=2, burst=1, max_wait=0)
        await bucket.acquire()
        for _ in range(5):
            assert await refused_wait(bucket) == pytest.approx(0.5)
        clock.now += 0.5
        await bucket.acquire()

    async def test_pause_holds_then_resumes_without_burst(self, clock):
        """A pause refuses tokens until it ends, then gives one per interval."""
        bucket = TokenBucket(rate=10, burst=5, max_wait=0)
        await bucket.pause(2.0)
        assert await refused_wait(bucket) == pytest.approx(2.0)
        clock.now += 2.0
        await bucket.acquire()
        assert await refused_wait(bucket) == pytest.approx(0.1)

    async def test_overlapping_pauses_do_not_add_up(self, clock):
        """Two 429s at once pause for the longer Retry-After, not the sum."""
        bucket = TokenBucket(rate=10, burst=1, max_wait=0)
        await bucket.pause(1.0)
        clock.now += 0.5
        await bucket.pause(1.0)
        assert await refused_wait(bucket) == pytest.approx(1.0)
        await bucket.pause(0.2)  # within the pause already in force
        assert await refused_wait(bucket) == pytest.approx(1.0)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"rate": 0},
            {"rate": -1},
            {"rate": float("inf")},
            {"rate": float("nan")},
            {"rate": "10"},
            {"rate": True},
            {"rate": 1, "burst": 0},
            {"rate": 1, "burst": 1.5},
            {"rate": 1, "max_wait": -1},
            {"rate": 1, "max_wait": float("nan")},
        ],
    )
    def test_bad_settings_are_refused(self, kwargs):
        """Nonsense rates, bursts and bounds raise InvalidArgumentError."""
        with pytest.raises(InvalidArgumentError):
            TokenBucket(**kwargs)


class TestWaiting:
    async def test_cancelled_waiter_gives_its_token_back(self):
        """Cancelling the last waiter returns its slot: the next caller takes it."""
        bucket = TokenBucket(rate=2, burst=1, max_wait=10)
        await bucket.acquire()
        started = anyio.current_time()
        with anyio.fail_after(5):
            with anyio.move_on_after(0.05) as scope:
                await bucket.acquire()
            assert scope.cancelled_caught
            await bucket.acquire()
        # Its own slot, 0.5 s after the first; not the one after (1 s).
        assert 0.45 <= anyio.current_time() - started < 0.75

    async def test_pause_beyond_max_wait_refuses_a_sleeper(self):
        """A waiter moved beyond its max_wait by a pause gets RateLimitedError."""
        bucket = TokenBucket(rate=10, burst=1, max_wait=0.2)
        await bucket.acquire()
        refused: list[RateLimitedError] = []

        async def take() -> None:
            try:
                await bucket.acquire()
            except RateLimitedError as exc:
                refused.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(take)
                await anyio.sleep(0.02)
                await bucket.pause(1.0)
        assert len(refused) == 1
        assert refused[0].wait == pytest.approx(1.1, abs=0.05)


class TestClient:
    async def test_max_wait_raises_without_sending(self, fake):
        """A call whose token is beyond max_wait raises at once; nothing is sent."""
        bucket = TokenBucket(rate=1, burst=1, max_wait=0.2)
        async with in_process(fake, "v2.1", rate_limit=bucket) as client:
            await client.get_user(ALICE)
            # Refused at once: no waiting out the second it is away.
            with anyio.fail_after(0.5), pytest.raises(RateLimitedError) as caught:
                await client.get_user(ALICE)
        assert len(fake.journal) == 1
        assert caught.value.max_wait == 0.2
        assert caught.value.wait == pytest.approx(1.0, abs=0.1)
        assert "not sent" in str(caught.value)
        assert "larger max_wait" in str(caught.value)  # what to do

    async def test_cancelled_wait_sends_nothing_and_holds_no_slot(self, fake):
        """A call cancelled while waiting for a token sends nothing and held no slot."""
        bucket = TokenBucket(rate=2, burst=1)
        async with in_process(
            fake, "v2.1", rate_limit=bucket, max_in_flight=1
        ) as client:
            await client.get_user(ALICE)
            limiter = client._transport.limiter  # the in-flight bound, read only
            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(client.get_user, ALICE)
                    await anyio.sleep(0.1)
                    assert limiter.value == 1  # the waiter holds no slot
                    tg.cancel_scope.cancel()
        assert len(fake.journal) == 1

    async def test_closed_while_waiting_for_a_token(self, fake):
        """A call whose client closes while it waits for its token sends nothing."""
        bucket = TokenBucket(rate=4, burst=1)
        async with in_process(fake, "v2.1", rate_limit=bucket) as client:
            await client.get_user(ALICE)
            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:

                    async def close_soon() -> None:
                        await anyio.sleep(0.05)
                        await client.aclose()

                    tg.start_soon(close_soon)
                    with pytest.raises(ClientClosedError):
                        await client.get_user(ALICE)
        assert len(fake.journal) == 1

    async def test_retries_take_tokens(self, fake):
        """Every attempt takes a token: a retried 503 waits for its second one."""
        fake.inject(Fault.status(503), times=1)
        bucket = TokenBucket(rate=5, burst=1)
        async with in_process(fake, "v2.1", rate_limit=bucket) as client:
            with anyio.fail_after(5):
                await client.get_user(ALICE)
        first, second = fake.journal
        assert (first.status, second.status) == (503, 200)
        assert second.at - first.at >= 0.18

    async def test_views_share_the_bucket(self, fake):
        """with_options views take tokens from the client's bucket."""
        bucket = TokenBucket(rate=1, burst=1, max_wait=0)
        async with in_process(fake, "v2.1", rate_limit=bucket) as client:
            await client.with_options(max_retries=0).get_user(ALICE)
            with pytest.raises(RateLimitedError):
                await client.get_user(ALICE)

    async def test_bucket_holds_the_fake_rate(self, fake):
        """Through a bucket at the fake's rate, a burst of calls meets no 429."""
        fake.limit_rate(20, burst=2)
        bucket = TokenBucket(rate=20, burst=2)
        async with in_process(fake, "v2.1", rate_limit=bucket) as client:
            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    for _ in range(10):
                        tg.start_soon(client.get_user, ALICE)
        assert [e.status for e in fake.journal] == [200] * 10
        assert 0.38 <= fake.journal[-1].at - fake.journal[0].at < 1.0

    async def test_pause_is_capped_by_max_retry_after(self, fake):
        """A 429 asking for longer than max_retry_after pauses the sharers that long."""
        fake.inject(Fault.rate_limited(retry_after=3600), times=1)
        bucket = TokenBucket(rate=100, burst=5, max_wait=0)
        policy = RetryPolicy(max_retry_after=0.5)
        async with in_process(fake, "v2.1", rate_limit=bucket, retry=policy) as client:
            with pytest.raises(RateLimitError):
                await client.get_user(ALICE)
            with pytest.raises(RateLimitedError) as caught:
                await client.get_user(ALICE)
        assert caught.value.wait == pytest.approx(0.5, abs=0.05)
        assert len(fake.journal) == 1

    async def test_refused_probe_is_a_negotiation_error(self, fake):
        """A probe refused a token raises NegotiationError caused by it; none sent."""
        bucket = TokenBucket(rate=1, burst=1, max_wait=0)
        await bucket.acquire()
        async with in_process(fake, rate_limit=bucket) as client:
            with pytest.raises(NegotiationError) as caught:
                await client.get_user(ALICE)
        assert isinstance(caught.value.__cause__, RateLimitedError)
        assert fake.journal == []


def test_import_does_not_load_redis():
    """import aioqiscus leaves redis unimported: RedisTokenBucket loads it."""
    code = "import sys, aioqiscus; print('redis' in sys.modules)"
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


class TestErrors:
    def test_distinct_from_the_servers_429(self):
        """RateLimitedError is ours, not an APIError; RateLimitError is the 429."""
        assert issubclass(RateLimitedError, QiscusError)
        assert not issubclass(RateLimitedError, APIError)
        assert not issubclass(RateLimitError, RateLimitedError)

    def test_survives_pickle_and_copy(self):
        """The error keeps its wait and bound through pickle and copy."""
        error = RateLimitedError("no token", wait=2.5, max_wait=1.0)
        for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):  # noqa: S301 - our own bytes
            assert (str(clone), clone.wait, clone.max_wait) == ("no token", 2.5, 1.0)

    def test_client_refuses_what_is_not_a_rate_limit(self):
        """rate_limit= takes a bucket; anything else fails at construction."""
        with pytest.raises(InvalidArgumentError, match="rate_limit"):
            in_process(FakeQiscus(), rate_limit=10)

    def test_repr(self):
        """A bucket shows its rate and burst."""
        assert repr(TokenBucket(rate=2.5, burst=3)) == "TokenBucket(rate=2.5, burst=3)"
