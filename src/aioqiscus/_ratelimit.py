"""Rate limits for outgoing requests: in-process and shared through Redis.

Both buckets are GCRA (the generic cell rate algorithm) with reservations:
a caller computes the slot its request may go at, moves the bucket's next
free slot one interval on, and sleeps until its slot. Taking a token is one
arithmetic step in process, one Lua script on Redis; nobody polls, no
background task runs, and waiters go in the order they asked. A caller
whose slot is further away than ``max_wait`` is refused at once, and
reserves nothing.

A pause (a server's 429 with ``Retry-After``, seen by any client sharing
the bucket) moves the whole queue: nothing may go before the pause ends,
the next free slot moves on by the pause's length, and a cumulative
``shift`` counter lets each sleeping waiter learn, when it wakes, that its
own slot moved too. After a pause the bucket resumes at its rate, without
a burst.

:class:`RateLimit` is the transport's seam: what ``QiscusClient(rate_limit=...)``
accepts. Strictly private; users import the buckets from :mod:`aioqiscus`.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Protocol, Self, cast, runtime_checkable

import anyio

from .errors import InvalidArgumentError, RateLimitedError, RateLimitStoreError

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from types import TracebackType

    from redis.asyncio import Redis

__all__ = ["RateLimit", "RedisTokenBucket", "TokenBucket", "check_rate_limit"]

#: How long a caller may wait for a token unless told otherwise, in seconds.
DEFAULT_MAX_WAIT = 60.0
#: Redis socket timeouts of a bucket built by ``from_url``, in seconds: a
#: Redis that stops answering fails a call within this, never hangs it.
DEFAULT_SOCKET_TIMEOUT = 2.0
_PREFIX = "aioqiscus:rate:"
_MICRO = 1_000_000


@runtime_checkable
class RateLimit(Protocol):
    """What the transport needs of a rate limit.

    ``acquire`` returns when one request may go (raising
    :class:`~aioqiscus.errors.RateLimitedError` instead of waiting longer
    than its bound); ``pause`` holds every request for *seconds*.
    """

    async def acquire(self) -> None:
        """Take one token, waiting for it if need be."""
        ...

    async def pause(self, seconds: float) -> None:
        """Let no request go for *seconds* from now."""
        ...


def check_rate_limit(value: object) -> RateLimit | None:
    """*value* if it is a rate limit (or None); else InvalidArgumentError."""
    if value is None or isinstance(value, RateLimit):
        return value
    msg = (
        "rate_limit must be an aioqiscus.TokenBucket or RedisTokenBucket "
        f"(with async acquire() and pause()), got {type(value).__name__}"
    )
    raise InvalidArgumentError(msg)


def _check(rate: object, burst: object, max_wait: object) -> None:
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        msg = f"rate must be a number of requests per second, got {rate!r}"
        raise InvalidArgumentError(msg)
    if not (math.isfinite(rate) and rate > 0):
        msg = f"rate must be finite and > 0, got {rate!r}"
        raise InvalidArgumentError(msg)
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        msg = f"burst must be an int >= 1, got {burst!r}"
        raise InvalidArgumentError(msg)
    if max_wait is not None and (
        isinstance(max_wait, bool)
        or not isinstance(max_wait, int | float)
        or math.isnan(max_wait)
        or max_wait < 0
    ):
        msg = f"max_wait must be seconds >= 0 or None, got {max_wait!r}"
        raise InvalidArgumentError(msg)


def _refused(wait: float, max_wait: float, where: str) -> RateLimitedError:
    msg = (
        f"no token from rate limit {where} within max_wait={max_wait:g} s "
        f"(the next is {wait:.3g} s away); the request was not sent: "
        "send it again later, or give the bucket a larger max_wait"
    )
    return RateLimitedError(msg, wait=wait, max_wait=max_wait)


class TokenBucket:
    """A rate limit for the clients of one process.

    *rate* requests per second on average, up to *burst* at once after a
    quiet spell. Give it to one client or several
    (``QiscusClient(..., rate_limit=bucket)``): every HTTP attempt,
    retries included, takes a token before it takes a connection. A caller
    whose token is more than *max_wait* seconds away gets
    :class:`~aioqiscus.RateLimitedError` at once, and nothing is sent.
    Waiting is cancellable. Works under asyncio and trio; no task runs in
    the background.

    Args:
        rate: Requests per second (> 0).
        burst: Requests allowed at once (>= 1).
        max_wait: The longest a caller waits for a token, in seconds;
            ``None`` for no bound.
    """

    __slots__ = (
        "_interval",
        "_next",
        "_paused_at",
        "_paused_until",
        "_shift",
        "_span",
        "burst",
        "max_wait",
        "rate",
    )

    def __init__(
        self,
        *,
        rate: float,
        burst: int = 1,
        max_wait: float | None = DEFAULT_MAX_WAIT,
    ) -> None:
        _check(rate, burst, max_wait)
        self.rate = float(rate)
        self.burst = burst
        self.max_wait = math.inf if max_wait is None else float(max_wait)
        self._interval = 1.0 / self.rate
        # A slot may lag this far behind now: the burst.
        self._span = (burst - 1) * self._interval
        self._next = -math.inf
        self._shift = 0.0
        self._paused_at = -math.inf
        self._paused_until = -math.inf

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst})"

    async def acquire(self) -> None:
        """Take one token, sleeping until it comes.

        Raises:
            RateLimitedError: The token is more than ``max_wait`` away.
        """
        now = time.monotonic()
        slot = max(self._next, now - self._span)
        if slot <= now:  # a token is free: no await, no checkpoint
            self._next = slot + self._interval
            return
        wait = slot - now
        if wait > self.max_wait:
            raise _refused(wait, self.max_wait, repr(self))
        self._next = slot + self._interval
        try:
            await self._sleep(slot, now)
        except BaseException:
            # The last reservation, unmoved, goes back; an earlier one stays
            # spent (giving it back would let two requests share a slot).
            if self._next == slot + self._interval:
                self._next = slot
            raise

    async def _sleep(self, slot: float, started: float) -> None:
        shift = self._shift
        while True:
            await anyio.sleep(max(0.0, slot - time.monotonic()))
            if self._shift == shift or slot < self._paused_at:
                return
            # A pause came while we slept: our slot moved with the queue.
            slot += self._shift - shift
            shift = self._shift
            if slot - started > self.max_wait:
                raise _refused(slot - started, self.max_wait, repr(self))

    async def pause(self, seconds: float) -> None:
        """Let no request go for *seconds*; the queue moves on by as much."""
        now = time.monotonic()
        until = now + seconds
        start = max(now, self._paused_until)
        length = until - start
        if length <= 0:
            return
        self._next = max(self._next, start) + length
        self._shift += length
        self._paused_at = start
        self._paused_until = until


# KEYS[1]: the bucket's hash; ARGV: interval, span (the burst's lag) and
# max_wait (-1: none), in microseconds. Fields: n (next free slot), s (the
# shift so far). Redis's clock is the only clock: processes on several
# machines agree. Numbers are formatted by hand: Lua prints 1.7e15 with 14
# digits, which would lose the microseconds.
_ACQUIRE = """
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, span = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'n', 's')
local slot = math.max(tonumber(state[1]) or 0, now - span)
local wait = slot - now
if max_wait >= 0 and wait > max_wait then
  return {0, wait, 0, 0}
end
local nxt = slot + interval
redis.call('HSET', KEYS[1], 'n', string.format('%.0f', nxt))
redis.call('PEXPIRE', KEYS[1], math.ceil((nxt - now) / 1000) + 60000)
return {1, wait, slot, tonumber(state[2]) or 0}
"""

# KEYS[1]: the bucket's hash; ARGV[1]: the pause, in microseconds. Fields:
# q and u, where the last pause starts and ends.
_PAUSE = """
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'n', 's', 'u')
local untl = now + tonumber(ARGV[1])
local start = math.max(now, tonumber(state[3]) or 0)
local length = untl - start
if length <= 0 then
  return 0
end
local nxt = math.max(tonumber(state[1]) or 0, start) + length
redis.call('HSET', KEYS[1],
  'n', string.format('%.0f', nxt),
  's', string.format('%.0f', (tonumber(state[2]) or 0) + length),
  'q', string.format('%.0f', start),
  'u', string.format('%.0f', untl))
redis.call('PEXPIRE', KEYS[1], math.ceil((nxt - now) / 1000) + 60000)
return length
"""


class RedisTokenBucket:
    """A rate limit shared by every client and process using the same *key*.

    The same algorithm as :class:`TokenBucket`, kept in one Redis hash
    (``aioqiscus:rate:<key>``) and taken by one atomic Lua script per
    request, on Redis's clock. A 429 with ``Retry-After`` seen by any
    client pauses them all. Needs ``pip install 'aioqiscus[redis]'`` and
    asyncio (redis-py's asyncio client).

    Args:
        redis: A ``redis.asyncio.Redis``; you close it (see :meth:`from_url`
            for one the bucket owns). Give it socket timeouts: a Redis
            that stops answering otherwise holds every call.
        key: Names the shared budget, e.g. your app id.
        rate: Requests per second (> 0), for all sharers together.
        burst: Requests allowed at once (>= 1).
        max_wait: The longest a caller waits for a token, in seconds;
            ``None`` for no bound.

    A failure of Redis raises :class:`~aioqiscus.RateLimitStoreError`
    (nothing is sent). A waiter cancelled before its slot leaves the slot
    unused.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        key: str,
        rate: float,
        burst: int = 1,
        max_wait: float | None = DEFAULT_MAX_WAIT,
    ) -> None:
        _check(rate, burst, max_wait)
        if not isinstance(cast("object", key), str) or not key:
            msg = f"key must be a non-empty str, got {key!r}"
            raise InvalidArgumentError(msg)
        from redis.exceptions import RedisError  # noqa: PLC0415 - optional dependency

        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError)
        self._redis = redis
        self._owned = False
        self.key = key
        self.rate = float(rate)
        self.burst = burst
        self.max_wait = math.inf if max_wait is None else float(max_wait)
        self._name = _PREFIX + key
        interval = max(1, round(_MICRO / self.rate))
        self._args = (
            interval,
            (burst - 1) * interval,
            -1 if max_wait is None else round(self.max_wait * _MICRO),
        )
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key: str,
        rate: float,
        burst: int = 1,
        max_wait: float | None = DEFAULT_MAX_WAIT,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        **options: Any,
    ) -> Self:
        """A bucket on a Redis client of its own, closed by :meth:`aclose`.

        Args:
            url: ``redis://host:port/db`` (``rediss://`` for TLS).
            key: Names the shared budget.
            rate: Requests per second, for all sharers together.
            burst: Requests allowed at once.
            max_wait: The longest a caller waits for a token, in seconds.
            socket_timeout: Seconds for Redis to connect and to answer
                each command; beyond it the call fails with
                :class:`~aioqiscus.RateLimitStoreError`.
            options: More ``redis.asyncio.Redis.from_url`` options.
        """
        from redis.asyncio import Redis  # noqa: PLC0415 - optional dependency

        options.setdefault("socket_connect_timeout", socket_timeout)
        client = Redis.from_url(url, socket_timeout=socket_timeout, **options)
        bucket = cls(client, key=key, rate=rate, burst=burst, max_wait=max_wait)
        bucket._owned = True
        return bucket

    def __repr__(self) -> str:
        return (
            f"RedisTokenBucket(key={self.key!r}, rate={self.rate:g}, "
            f"burst={self.burst})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the Redis client if :meth:`from_url` made it; idempotent."""
        if self._owned:
            self._owned = False
            await self._redis.aclose()

    async def acquire(self) -> None:
        """Take one token from the shared budget, sleeping until it comes.

        Raises:
            RateLimitedError: The token is more than ``max_wait`` away.
            RateLimitStoreError: Redis failed or did not answer in time.
        """
        granted, wait, slot, shift = await self._run(
            "take a token", self._acquire(keys=[self._name], args=self._args)
        )
        if not granted:
            raise _refused(wait / _MICRO, self.max_wait, repr(self))
        if wait <= 0:
            return
        started = time.monotonic()
        await anyio.sleep(wait / _MICRO)
        while True:
            # Did a pause move the queue while we slept? One read tells.
            fields = await self._run(
                "read a pause", self._redis.hmget(self._name, ["s", "q"])
            )
            now_shift, paused_at = (int(f or 0) for f in fields)
            if now_shift == shift or slot < paused_at:
                return
            moved = (now_shift - shift) / _MICRO
            slot += now_shift - shift
            shift = now_shift
            waited = time.monotonic() - started
            if waited + moved > self.max_wait:
                raise _refused(waited + moved, self.max_wait, repr(self))
            await anyio.sleep(moved)

    async def pause(self, seconds: float) -> None:
        """Let no request of any sharer go for *seconds*.

        Raises:
            RateLimitStoreError: Redis failed or did not answer in time.
        """
        length = round(seconds * _MICRO)
        await self._run("write a pause", self._pause(keys=[self._name], args=[length]))

    async def _run(self, what: str, command: Awaitable[Any]) -> Any:
        """Await one Redis *command*; map its failures to RateLimitStoreError."""
        try:
            return await command
        except self._errors as exc:
            msg = (
                f"rate limit {self.key!r} could not {what} "
                f"({type(exc).__name__}: {exc}); the request was not sent: "
                "check that Redis is running and reachable, then send it again"
            )
            raise RateLimitStoreError(msg) from exc
