"""The stores against a real redis-server on loopback: atomic claims with a
TTL, prefixed keys, bounded calls, and a clear error when Redis is gone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio

import aioqiscus
from aioqiscus.bot import (
    DedupeStore,
    MemoryDedupeStore,
    RedisDedupeStore,
    StoreError,
    StoreUnavailableError,
)
from aioqiscus.errors import QiscusError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers: its URL."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.fixture(name="dedupe")
async def _dedupe(redis_url) -> AsyncIterator[RedisDedupeStore]:
    store = RedisDedupeStore.from_url(redis_url, prefix="test:")
    yield store
    await store.aclose()


class TestRedisDedupeStore:
    def test_is_a_dedupe_store(self, redis_url):
        """The Redis store satisfies the bot's protocol; its errors are QiscusErrors."""
        assert isinstance(RedisDedupeStore.from_url(redis_url), DedupeStore)
        assert issubclass(StoreUnavailableError, StoreError)
        assert issubclass(StoreError, QiscusError)

    async def test_claims_once_with_a_prefixed_expiring_key(self, dedupe, redis_url):
        """The first claim wins, the next ones lose; the key is prefixed and
        expires after the TTL."""
        with anyio.fail_after(10):
            assert await dedupe.claim("aioqiscus:bot:abc", 30) is True
            assert await dedupe.claim("aioqiscus:bot:abc", 30) is False
            assert await dedupe.claim("aioqiscus:bot:other", 0.05) is True
            async with redis.asyncio.Redis.from_url(redis_url) as raw:
                keys = sorted(await raw.keys("*"))
                ttl = await raw.pttl("test:aioqiscus:bot:abc")
            await anyio.sleep(0.1)
            assert await dedupe.claim("aioqiscus:bot:other", 30) is True
        assert keys == [b"test:aioqiscus:bot:abc", b"test:aioqiscus:bot:other"]
        assert 29_000 < ttl <= 30_000

    async def test_concurrent_claims_one_winner(self, dedupe):
        """Fifty concurrent claims of one key: exactly one wins."""
        with anyio.fail_after(10):
            results = await asyncio.gather(*(dedupe.claim("k", 60) for _ in range(50)))
        assert sorted(results) == [False] * 49 + [True]

    async def test_given_client_is_left_open(self, redis_url):
        """A store built on a caller's client leaves it open on aclose."""
        async with redis.asyncio.Redis.from_url(redis_url) as raw:
            store = RedisDedupeStore(raw)
            assert await store.claim("k", 5) is True
            await store.aclose()
            assert await raw.ping() is True

    async def test_unreachable_fails_closed_fast(self):
        """Nothing listening: a StoreUnavailableError within the timeout."""
        store = RedisDedupeStore.from_url(
            f"redis://127.0.0.1:{free_port()}/0", timeout=0.5
        )
        start = time.monotonic()
        with anyio.fail_after(10), pytest.raises(StoreUnavailableError) as info:
            await store.claim("k", 5)
        assert time.monotonic() - start < 2
        assert "check that Redis is up and reachable" in str(info.value)
        assert isinstance(info.value, aioqiscus.StoreError)
        await store.aclose()

    async def test_silent_server_times_out(self):
        """A server that accepts and never answers: an error after the
        timeout, never a hang."""
        async with silent_server() as url:
            store = RedisDedupeStore.from_url(url, timeout=0.3)
            start = time.monotonic()
            with anyio.fail_after(10), pytest.raises(StoreUnavailableError) as info:
                await store.claim("k", 5)
            elapsed = time.monotonic() - start
            await store.aclose()
        assert 0.25 < elapsed < 2
        assert "0.3 s" in str(info.value)
        assert "raise the store's timeout" in str(info.value)

    async def test_fail_open_lets_through_and_warns(self, caplog):
        """fail_open=True: an unreachable Redis lets the delivery through,
        with a warning."""
        store = RedisDedupeStore.from_url(
            f"redis://127.0.0.1:{free_port()}/0", timeout=0.5, fail_open=True
        )
        with (
            anyio.fail_after(10),
            caplog.at_level(logging.WARNING, logger="aioqiscus.stores"),
        ):
            assert await store.claim("k", 5) is True
            assert await store.claim("k", 5) is True
        await store.aclose()
        assert "delivery let through" in caplog.text

    def test_password_never_in_repr(self):
        """The URL (and its password) stays out of the store's repr."""
        store = RedisDedupeStore.from_url("redis://:hunter2@127.0.0.1:1/0")
        assert "hunter2" not in repr(store)
        assert repr(store) == "RedisDedupeStore(prefix='', timeout=1.0)"

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"timeout": 0}, ValueError),
            ({"timeout": float("inf")}, ValueError),
            ({"timeout": "1"}, TypeError),
            ({"prefix": 3}, TypeError),
        ],
    )
    def test_bad_arguments(self, kwargs, error):
        """Bad timeouts and prefixes are refused when the store is made."""
        with pytest.raises(error):
            RedisDedupeStore.from_url("redis://127.0.0.1:1/0", **kwargs)

    def test_not_a_client(self):
        """Anything but a Redis client is refused."""
        with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
            RedisDedupeStore(object())  # type: ignore[arg-type]


def test_import_aioqiscus_does_not_import_redis():
    """import aioqiscus (and aioqiscus.bot) leaves redis unimported until a
    Redis store is made from a URL."""
    import subprocess
    import sys

    code = (
        "import sys, aioqiscus, aioqiscus.bot\n"
        "before = sorted(m for m in sys.modules if m.split('.')[0] == 'redis')\n"
        "aioqiscus.bot.RedisDedupeStore.from_url('redis://127.0.0.1:1/0')\n"
        "print(before, 'redis.asyncio' in sys.modules)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[] True", result.stderr


class TestMemoryDedupeStore:
    async def test_expires(self):
        """A claimed key can be claimed again once its TTL has passed."""
        now = [0.0]
        store = MemoryDedupeStore(clock=lambda: now[0])
        assert await store.claim("k", 10) is True
        now[0] = 9.9
        assert await store.claim("k", 10) is False
        now[0] = 10.0
        assert await store.claim("k", 10) is True
