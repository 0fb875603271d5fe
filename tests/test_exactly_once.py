"""The send guarantee: under injected faults, nothing is lost or duplicated.

500 ``post_comment`` calls go over real loopback HTTP to the fake server
while 20% of them hit a fault: the connection dropped after the comment was
stored, 500/502/504 (not stored), or 503/429 (refused). The room must end
with exactly one comment per logical send.
"""

from __future__ import annotations

import collections
import sys

import anyio
import pytest

from aioqiscus import AmbiguousSendError, QiscusClient, RateLimitError, ServerError
from aioqiscus.testing import Fault

from .conftest import ALICE, BOB

SENDS = 500
CONCURRENCY = 16
# Conditional probabilities: rules are tried in order, first hit wins, so the
# overall fault rate is 1 - prod(1 - p) = 20%.
FAULTS = [
    (Fault.drop(), 0.08),
    (Fault.status(500), 0.0435),
    (Fault.status(502), 0.0227),
    (Fault.status(504), 0.0233),
    (Fault.status(503), 0.0238),
    (Fault.rate_limited(0), 0.0244),
]


@pytest.mark.parametrize("version", ["v2", "v2.1"])
async def test_no_send_lost_or_duplicated(served, version):
    """500 sends under 20% faults leave exactly 500 distinct comments."""
    fake, url = served
    fake.reset(seed=20261122)
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob")
    room = fake.store.create_room("Soak", "group", ALICE, [BOB])
    for fault, probability in FAULTS:
        fake.inject(fault, endpoints="post_comment", probability=probability)
    recovered = refused = 0
    refused_codes: list[int] = []
    limiter = anyio.Semaphore(CONCURRENCY)

    async def send(client: QiscusClient, i: int) -> None:
        nonlocal recovered, refused
        marker = f"soak-{version}-{i}"
        async with limiter:
            for _ in range(5):
                try:
                    await client.post_text(
                        str(room.id), ALICE, f"message {i}", unique_temp_id=marker
                    )
                except (ServerError, RateLimitError) as exc:
                    # Refused unprocessed (503/429) more often than the retry
                    # policy allows: a definite failure, safe to send again.
                    refused_codes.append(exc.status_code)
                    refused += 1
                except AmbiguousSendError as exc:
                    # Settle it the documented way: look, and resend if absent.
                    recovered += 1
                    if await client.find_comment(str(room.id), exc.marker) is not None:
                        return
                else:
                    return
            pytest.fail(f"send {i} could not be settled")

    # The fake stores before it drops or fails, so testing mode's look-up
    # without a grace wait will do.
    async with QiscusClient(
        fake.app_id, fake.secret_key, base_url=url, api_version=version
    ) as client:
        async with anyio.create_task_group() as tg:
            for i in range(SENDS):
                tg.start_soon(send, client, i)
        # The client is healthy afterwards.
        assert (
            len([c async for c in client.iter_comments(str(room.id), page_size=100)])
            == SENDS
        )

    messages = collections.Counter(c.message for c in room.comments)
    markers = collections.Counter(c.unique_temp_id for c in room.comments)
    posts = fake.requests("post_comment")
    faults = collections.Counter(
        e.fault.kind if e.fault.kind != "status" else str(e.fault.status_code)
        for e in posts
        if e.fault
    )
    lost = SENDS - len(messages)
    duplicated = sum(n - 1 for n in messages.values())
    sys.stdout.write(
        f"\n[{version}] sends={SENDS} requests={len(posts)} "
        f"faulted={sum(faults.values())} ({dict(sorted(faults.items()))}) "
        f"lookups={len(fake.requests('load_comments'))} "
        f"settled-by-caller={recovered} refused={refused} "
        f"lost={lost} duplicated={duplicated}\n"
    )
    assert set(refused_codes) <= {429, 503}
    assert len(room.comments) == SENDS
    assert lost == 0
    assert duplicated == 0
    assert max(markers.values()) == 1
    assert faults["drop"] > 0
    assert sum(faults.values()) >= SENDS * 0.15
