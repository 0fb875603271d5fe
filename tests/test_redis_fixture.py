"""The Redis the store tests use is a real server the tests start themselves."""

from __future__ import annotations

import redis.asyncio


async def test_a_real_server_answers_on_loopback(redis_url):
    assert redis_url.startswith("redis://127.0.0.1:")
    conn = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await conn.set("k", "v", nx=True, ex=5)
        assert not await conn.set("k", "w", nx=True, ex=5)
        assert (await conn.info("server"))["redis_version"]
    finally:
        await conn.aclose()


async def test_each_test_starts_empty(redis_url):
    conn = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await conn.dbsize() == 0
    finally:
        await conn.aclose()
