"""Stores on Redis, shared by every process that uses the same server.

redis-py's asyncio client (``pip install 'aioqiscus[redis]'``) is imported
only when a store is made from a URL, or when a call fails, so
``import aioqiscus`` never imports redis. Each operation is one round trip
and atomic: ``SET NX PX`` claims a delivery; a Lua script takes a
conversation's lock and reads its state, another writes the state and
deletes the lock only if the caller still owns it (compare-and-delete).

Every call is bounded by the store's *timeout*: an unreachable Redis gives
:class:`StoreUnavailableError`, never a hang. redis-py's asyncio client
runs on asyncio only; used under another event loop, the stores say so.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import anyio
import sniffio

from ..errors import EventLoopError, InvalidArgumentError
from ._check import positive_seconds
from ._errors import (
    ConversationLockLostError,
    StoreUnavailableError,
    busy,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisConversationStore", "RedisDedupeStore"]

logger = logging.getLogger("aioqiscus.stores")

T = TypeVar("T")

#: How long one Redis call may take before the store gives up (seconds).
DEFAULT_TIMEOUT = 1.0

# KEYS: lock, state. ARGV: token, lock expiry (ms). Takes the lock if it is
# free and reads the state in the same round trip; else returns the lock's
# remaining time, for the caller's pause.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('GET', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1])}
"""
# KEYS: lock, state. ARGV: token, state, ttl (ms), "1" to delete the state.
# Writes only while the caller owns the lock, then deletes the lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
redis.call('DEL', KEYS[1])
return 1
"""
# The pauses between two tries for a held conversation lock (seconds).
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.05


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _connect(url: str, timeout: float) -> Redis:
    """A redis-py asyncio client for *url*, its sockets bounded by *timeout*."""
    if not isinstance(cast("object", url), str) or not url:
        msg = "url must be a non-empty str such as redis://127.0.0.1:6379/0"
        raise InvalidArgumentError(msg)
    from redis.asyncio import Redis  # noqa: PLC0415 - redis is an optional extra

    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )


class _RedisStore:
    """The connection, key prefix and bounded calls. Strictly private."""

    def __init__(self, redis: Redis, *, prefix: str, timeout: float) -> None:
        if not callable(getattr(redis, "execute_command", None)):
            msg = f"redis must be a redis.asyncio.Redis, got {type(redis).__name__}"
            raise TypeError(msg)
        if not isinstance(cast("object", prefix), str):
            msg = f"prefix must be a str, got {type(prefix).__name__}"
            raise TypeError(msg)
        self._redis = redis
        self._prefix = prefix
        self._timeout = positive_seconds(timeout, "timeout")
        self._owned = False

    def __repr__(self) -> str:
        # Never the URL: it may hold a password.
        return (
            f"{type(self).__name__}(prefix={self._prefix!r}, timeout={self._timeout})"
        )

    @classmethod
    def _from_url(cls, url: str, timeout: float, **options: Any) -> Self:
        timeout = positive_seconds(timeout, "timeout")
        store = cls(_connect(url, timeout), timeout=timeout, **options)
        store._owned = True
        return store

    async def aclose(self) -> None:
        """Close the connections of a store made by ``from_url``.

        A store given a client leaves it open: its owner closes it.
        """
        if self._owned:
            await self._redis.aclose()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        library = sniffio.current_async_library()
        if library != "asyncio":
            msg = (
                f"the Redis stores use redis-py's asyncio client and run on "
                f"asyncio only, not {library}"
            )
            raise EventLoopError(msg)
        from redis.exceptions import RedisError  # noqa: PLC0415 - optional extra

        try:
            with anyio.fail_after(self._timeout):
                return await call()
        except TimeoutError as exc:
            msg = (
                f"Redis did not answer {what} within {self._timeout:g} s: "
                "check that Redis is up and reachable, or raise the store's timeout"
            )
            raise StoreUnavailableError(msg) from exc
        except (RedisError, OSError) as exc:
            msg = (
                f"Redis failed {what}: {type(exc).__name__}: {exc}; "
                "check that Redis is up and reachable at the store's URL"
            )
            raise StoreUnavailableError(msg) from exc


class RedisDedupeStore(_RedisStore):
    """A dedupe store on Redis: one ``SET key 1 NX PX ttl`` per delivery.

    Share one Redis between every process that serves the webhook URL, and
    each delivery is handled once, whichever process each redelivery
    reaches. Keys are the bot's (``aioqiscus:bot:<sha256>``) behind
    *prefix*, and expire with the delivery's TTL.

    When Redis cannot be reached, the store fails closed by default: the
    bot answers 503 and runs nothing (a redelivery is handled once Redis is
    back; a delivery that is never redelivered is lost). With
    ``fail_open=True`` it logs a warning and lets the delivery through: a
    redelivery during the outage may then be answered twice (see
    ``Bot(lookup_replies=True)`` to catch the second reply).

    Args:
        redis: A ``redis.asyncio.Redis`` client; the caller closes it.
        prefix: Put before every key, to share one Redis between bots or
            deployments (``"staging:"``).
        timeout: Seconds one call may take.
        fail_open: Handle deliveries when Redis is unreachable.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        fail_open: bool = False,
    ) -> None:
        super().__init__(redis, prefix=prefix, timeout=timeout)
        self._fail_open = bool(fail_open)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        fail_open: bool = False,
    ) -> RedisDedupeStore:
        """A store with its own client on *url* (``redis://host:port/db``).

        Connects on first use; :meth:`aclose` closes it.
        """
        return cls._from_url(url, timeout, prefix=prefix, fail_open=fail_open)

    async def claim(self, key: str, ttl: float) -> bool:
        """Record *key* for *ttl* seconds; ``False`` if it was recorded already.

        Raises:
            StoreUnavailableError: Redis did not answer (unless ``fail_open``).
        """
        name = self._prefix + key
        try:
            done = await self._call(
                "SET NX", lambda: self._redis.set(name, b"1", nx=True, px=_ms(ttl))
            )
        except StoreUnavailableError as exc:
            if not self._fail_open:
                raise
            logger.warning("dedupe store unavailable, delivery let through: %s", exc)
            return True
        return bool(done)


class RedisConversationStore(_RedisStore):
    """Conversation states on Redis, each with a lock that works across processes.

    A state is JSON under ``<prefix>{<key>}``, its lock under
    ``<prefix>{<key>}:lock`` (one hash slot, for Redis Cluster). The lock
    holds a random owner token and expires after *lock_expiry* seconds, so
    a worker that dies holding it blocks its conversation that long at
    most; only its owner deletes it, and the state is written only while
    the owner still holds it (else :class:`ConversationLockLostError`).
    A waiting delivery tries again after 2 ms, doubling up to 50 ms.

    Args:
        redis: A ``redis.asyncio.Redis`` client; the caller closes it.
        prefix: Put before every key.
        timeout: Seconds one call may take.
        lock_expiry: Seconds a lock lasts; longer than the slowest handler.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        lock_expiry: float = 60.0,
    ) -> None:
        super().__init__(redis, prefix=prefix, timeout=timeout)
        self._expiry = _ms(positive_seconds(lock_expiry, "lock_expiry"))
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        lock_expiry: float = 60.0,
    ) -> RedisConversationStore:
        """A store with its own client on *url* (``redis://host:port/db``).

        Connects on first use; :meth:`aclose` closes it.
        """
        return cls._from_url(url, timeout, prefix=prefix, lock_expiry=lock_expiry)

    def _keys(self, key: str) -> list[str]:
        state = f"{self._prefix}{{{key}}}"
        return [f"{state}:lock", state]

    async def acquire(self, key: str, wait: float) -> tuple[str, str | None]:
        """Lock *key*, waiting *wait* seconds at most; its token and state.

        Raises:
            ConversationBusyError: The lock stayed held for *wait* seconds.
            StoreUnavailableError: Redis did not answer.
        """
        token = secrets.token_hex(16)
        keys = self._keys(key)
        deadline = anyio.current_time() + wait
        pause = _FIRST_PAUSE
        while True:
            got, value = await self._call(
                "a conversation lock",
                lambda: cast(
                    "Awaitable[list[Any]]",
                    self._acquire(keys=keys, args=[token, self._expiry]),
                ),
            )
            if got == 1:
                return token, None if value is None else bytes(value).decode()
            left = deadline - anyio.current_time()
            if left <= 0:
                raise busy(wait)
            held = value / 1000 if isinstance(value, int) and value > 0 else pause
            await anyio.sleep(min(pause, left, held))
            pause = min(pause * 2, _LONGEST_PAUSE)

    async def release(
        self, key: str, token: str, state: str | None, ttl: float
    ) -> None:
        """Store *state* (``None`` deletes it) for *ttl* seconds and unlock *key*.

        Raises:
            ConversationLockLostError: The lock expired or has another owner.
            StoreUnavailableError: Redis did not answer.
        """
        args: list[str | int] = [
            token,
            state or "",
            _ms(ttl),
            "1" if state is None else "0",
        ]
        done = await self._call(
            "a conversation save",
            lambda: cast(
                "Awaitable[int]", self._release(keys=self._keys(key), args=args)
            ),
        )
        if not done:
            msg = (
                "conversation lock expired before the state was saved: "
                "state not saved (raise lock_expiry above the slowest handler)"
            )
            raise ConversationLockLostError(msg)
