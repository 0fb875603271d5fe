"""A client process for the shared rate limit test (spawned: imports little)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio

from aioqiscus import QiscusClient, RedisTokenBucket


def run(url: str, redis_url: str, barrier: Any, rate: float, seconds: float) -> None:
    """Three tasks calling get_user as fast as the shared bucket allows."""

    async def work() -> None:
        async with (
            RedisTokenBucket.from_url(
                redis_url, key="app", rate=rate, burst=1, max_wait=5
            ) as bucket,
            QiscusClient(
                "fake-app",
                "fake-secret",
                base_url=url,
                api_version="v2.1",
                rate_limit=bucket,
            ) as client,
        ):
            await anyio.to_thread.run_sync(barrier.wait, 60)
            end = time.monotonic() + seconds

            async def loop() -> None:
                while time.monotonic() < end:
                    await client.get_user("alice@example.com")

            with anyio.fail_after(seconds + 8):
                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(loop)

    asyncio.run(work())
