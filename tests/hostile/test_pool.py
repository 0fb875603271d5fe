"""Issue 25 item 8: an injected httpx client's pool sets max_in_flight.

With a pool of 2 and ``max_in_flight`` left at 100, a burst waits in
httpx's pool, inside each attempt's deadline, and times out there; derived
from the pool, it waits in our limiter, unbounded in time, and every call
completes.
"""

from __future__ import annotations

import anyio
import httpx

from aioqiscus import QiscusClient
from aioqiscus.testing import Fault

from ..conftest import ALICE

CALLS = 16


async def test_burst_through_a_small_injected_pool(served):
    """16 calls of 0.1 s through an injected pool of 2 (0.8 s in all, 0.5 s a call) all complete."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    fake.inject(Fault.delay(0.1), endpoints="user_profile")
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    timeout = httpx.Timeout(0.5)  # each attempt's deadline: 0.5 s
    users = []
    async with (
        httpx.AsyncClient(limits=limits, timeout=timeout) as http,
        QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            api_version="v2.1",
            http_client=http,
            retry=None,
        ) as client,
    ):

        async def get() -> None:
            users.append(await client.get_user(ALICE))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(CALLS):
                    tg.start_soon(get)
        assert client._transport.max_in_flight == 2
    assert [u.id for u in users] == [ALICE] * CALLS


async def test_explicit_max_in_flight_wins(served):
    """An explicit max_in_flight is kept, whatever the injected pool."""
    fake, url = served
    limits = httpx.Limits(max_connections=2)
    async with httpx.AsyncClient(limits=limits) as http:
        client = QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            http_client=http,
            max_in_flight=5,
        )
        assert client._transport.max_in_flight == 5
        await client.aclose()
