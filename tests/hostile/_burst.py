"""The hostile suite's shared pieces: a client on the fake, and a burst of sends.

A burst is :data:`BURST` concurrent ``post_text`` calls to one room while 30%
of them meet a fault whose outcome the client cannot know (the connection
dropped after the store, a 504 or a drop from a gateway whose upstream
stores the comment 0.1 s later).
"""

from __future__ import annotations

import collections
import time

import anyio
import attrs

from aioqiscus import AmbiguousSendError, QiscusClient
from aioqiscus.testing import FakeQiscus, Fault

from ..conftest import ALICE
from ._servers import until

__all__ = ["BURST", "Burst", "burst", "client_for", "texts"]

#: Sends in a burst.
BURST = 300


def client_for(fake: FakeQiscus, url: str, version: str, **kwargs) -> QiscusClient:
    """A client of *fake* at *url*, pinned to *version*."""
    return QiscusClient(
        fake.app_id, fake.secret_key, base_url=url, api_version=version, **kwargs
    )


def texts(fake: FakeQiscus, room_id: str) -> collections.Counter[str]:
    """How many comments of *room_id* carry each message."""
    return collections.Counter(c.message for c in fake.room(room_id).comments)


@attrs.frozen
class Burst:
    """What a burst left: each ``burst i`` message's count, the unsettled sends."""

    counts: dict[str, int]
    unsettled: list[str]
    elapsed: float

    @property
    def lost(self) -> int:
        return BURST - len(self.counts)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.counts.values())


async def burst(
    fake: FakeQiscus, url: str, version: str, room_id: str, *, reconcile_delay: float
) -> Burst:
    """Send a burst to *room_id* under 30% ambiguous faults; wait for lagged stores."""
    # First matching rule wins: 10% + 10% + 10% of all sends.
    fake.inject(Fault.drop(), endpoints="post_comment", probability=0.10)
    lagged_504 = Fault.lagging(0.1, status=504)
    fake.inject(lagged_504, endpoints="post_comment", probability=0.10 / 0.90)
    lagged_drop = Fault.lagging(0.1, status=None)
    fake.inject(lagged_drop, endpoints="post_comment", probability=0.10 / 0.80)
    unsettled: list[str] = []

    async def send(client: QiscusClient, i: int) -> None:
        try:
            await client.post_text(room_id, ALICE, f"burst {i}")
        except AmbiguousSendError as exc:
            unsettled.append(exc.marker)

    started = time.monotonic()
    async with client_for(
        fake, url, version, reconcile_delay=reconcile_delay
    ) as client:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for i in range(BURST):
                    tg.start_soon(send, client, i)
            await until(lambda: not fake.pending)
    counts = {m: n for m, n in texts(fake, room_id).items() if m.startswith("burst ")}
    return Burst(counts, unsettled, time.monotonic() - started)
