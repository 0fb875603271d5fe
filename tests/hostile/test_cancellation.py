"""Item 7: repeated cancellation never wedges the connection pool.

httpcore 1.0 leaves a connection behind in its pool when a request is
cancelled at the wrong moment (encode/httpcore#1093); after enough of them
every request waits for a slot until PoolTimeout. The client evicts such
orphans (``aioqiscus.backends._reclaim``), so a cancelled call always
returns its slot.
"""

from __future__ import annotations

import asyncio
import random

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient
from aioqiscus.backends import HttpxBackend
from aioqiscus.testing import Fault

from ..conftest import ALICE


def checked_out(client: QiscusClient) -> list[object]:
    """Connections of the client's pool that are not idle."""
    pool = client._transport.backend.client._transport._pool
    return [c for c in pool.connections if not c.is_idle()]


@pytest.mark.parametrize(
    ("pool", "rounds"), [(None, 200), (5, 100)], ids=["default-pool", "pool-of-5"]
)
async def test_rounds_of_cancelled_calls(served, pool, rounds):
    """Rounds of 20 calls cancelled at random points; then a call succeeds within its timeout."""
    fake, url = served
    fake.reset(seed=7)
    fake.add_user(ALICE)
    room = fake.store.create_room("G", "group", ALICE, [])
    fake.inject(Fault.delay(0.01), probability=0.5)
    rng = random.Random(1)
    backend = (
        None
        if pool is None
        else HttpxBackend(max_connections=pool, timeout=httpx.Timeout(2.0))
    )
    async with QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url=url,
        api_version="v2.1",
        timeout=httpx.Timeout(2.0),
        backend=backend,
    ) as client:
        with anyio.fail_after(60):
            for _ in range(rounds):
                tasks = [
                    asyncio.create_task(client.get_rooms_info([str(room.id)]))
                    for _ in range(20)
                ]
                await asyncio.sleep(rng.uniform(0, 0.02))
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        fake.faults.clear()
        with anyio.fail_after(3):
            [info] = await client.get_rooms_info([str(room.id)])
        assert info.name == "G"
        assert checked_out(client) == []
        assert client._transport.limiter.value == client._transport.max_in_flight
