"""Allocator: custom agent allocation that keeps every agent within its quota.

Twenty allocation webhooks at once, against the fake (in-process), with the
per-app lock in memory or in a real Redis: no agent ever serves more than
its quota, and every allocation that assigned nobody is reported.
"""

from __future__ import annotations

import secrets
from collections import Counter

import anyio
import httpx
import pytest

from aioqiscus.bot import RedisConversationStore
from aioqiscus.errors import AmbiguousSendError, BadRequestError, InvalidArgumentError
from aioqiscus.omnichannel import (
    Allocation,
    Allocator,
    NoAgentAvailableError,
    OmnichannelClient,
)
from aioqiscus.omnichannel.webhooks import AgentAllocationNeeded, HookGuard
from aioqiscus.testing import FakeQiscus, Fault

TOKEN = "allocation-token-0123456789"


def _omni(fake: FakeQiscus) -> OmnichannelClient:
    return OmnichannelClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )


class NoLock:
    """A lock store that locks nothing: what allocators without a lock do."""

    async def acquire(self, *_: object) -> tuple[str, str | None]:
        return "token", None

    async def release(self, *_: object) -> None:
        return None


async def _customers(fake: FakeQiscus, count: int) -> list[AgentAllocationNeeded]:
    """*count* customers writing once each: their allocation events."""
    channel = fake.omnichannel.add_channel("wa", "Support WA")
    events = []
    for i in range(count):
        customer = f"62800000{i:04d}"
        await fake.omnichannel.customer_says(customer, "hello", channel=channel)
        room = fake.omnichannel.customer_room(customer, channel)
        events.append(AgentAllocationNeeded(room_id=str(room.room_id)))
    return events


def _served(fake: FakeQiscus) -> Counter[str]:
    return Counter(
        {a.name: len(a.rooms) for a in fake.store.omnichannel.agents.values()}
    )


async def _allocate_all(
    allocators: list[Allocator], events: list[AgentAllocationNeeded]
) -> list[Allocation]:
    results: list[Allocation] = []

    async def one(index: int, event: AgentAllocationNeeded) -> None:
        results.append(await allocators[index % len(allocators)].allocate(event))

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for i, event in enumerate(events):
                tg.start_soon(one, i, event)
    return results


@pytest.fixture(name="fake")
def _fake() -> FakeQiscus:
    """Two agents the server lets take 100 customers; our quota is 2.

    An assignment takes 5 ms to land, as over a network: concurrent
    allocations really interleave between reading the counts and assigning.
    """
    fake = FakeQiscus()
    fake.omnichannel.add_agent("Ana", "ana@example.com", quota=100)
    fake.omnichannel.add_agent("Budi", "budi@example.com", quota=100)
    fake.inject(Fault.delay(0.005), endpoints="assign_agent")
    return fake


class TestUnderLoad:
    async def test_twenty_at_once_stay_within_the_quota(self, fake):
        """20 simultaneous allocations: 2 agents x 2 customers, 16 reported."""
        events = await _customers(fake, 20)
        failures: list[Allocation] = []
        async with _omni(fake) as omni:
            allocator = Allocator(omni, max_customers=2, on_failure=failures.append)
            results = await _allocate_all([allocator], events)
        assert _served(fake) == Counter({"Ana": 2, "Budi": 2})
        assert sum(r.ok for r in results) == 4
        assert len(failures) == 16
        assert all(isinstance(f.error, NoAgentAvailableError) for f in failures)

    async def test_without_the_lock_agents_go_over_quota(self, fake):
        """The same load without a lock overfills an agent: the lock matters."""
        events = await _customers(fake, 20)
        async with _omni(fake) as omni:
            allocator = Allocator(omni, max_customers=2, lock=NoLock())
            await _allocate_all([allocator], events)
        assert max(_served(fake).values()) > 2

    async def test_two_processes_share_a_redis_lock(self, fake, redis_url):
        """Two allocators (two processes' worth) on one Redis lock keep the quota."""
        events = await _customers(fake, 20)
        prefix = f"test-{secrets.token_hex(4)}:"
        stores = [
            RedisConversationStore.from_url(redis_url, prefix=prefix) for _ in "ab"
        ]
        try:
            async with _omni(fake) as first, _omni(fake) as second:
                allocators = [
                    Allocator(omni, max_customers=2, lock=store)
                    for omni, store in zip((first, second), stores, strict=True)
                ]
                results = await _allocate_all(allocators, events)
        finally:
            for store in stores:
                await store.aclose()
        assert _served(fake) == Counter({"Ana": 2, "Budi": 2})
        assert sum(r.ok for r in results) == 4


class TestFailures:
    async def test_refused_assignment_tries_the_next_agent(self, fake):
        """A server refusal (here its own limit) moves on to the next agent."""
        fake.store.omnichannel.agents[1].quota = 0  # Ana: refused by the server
        [event] = await _customers(fake, 1)
        async with _omni(fake) as omni:
            result = await Allocator(omni, max_customers=2).allocate(event)
        assert result.agent is not None
        assert result.agent.name == "Budi"
        assert result.attempts == 2

    async def test_every_attempt_refused_is_reported(self, fake):
        """When every agent is refused, the last refusal is reported."""
        for agent in fake.store.omnichannel.agents.values():
            agent.quota = 0
        [event] = await _customers(fake, 1)
        seen: list[Allocation] = []

        async def report(result: Allocation) -> None:
            seen.append(result)

        async with _omni(fake) as omni:
            result = await Allocator(omni, max_customers=2, on_failure=report).allocate(
                event
            )
        assert not result.ok
        assert isinstance(result.error, BadRequestError)
        assert seen == [result]

    async def test_an_ambiguous_assignment_is_not_retried(self, fake, caplog):
        """A 502 on assign_agent may have landed: reported, never retried."""
        [event] = await _customers(fake, 1)
        fake.faults.clear()
        fake.inject(Fault.status(502), endpoints="assign_agent")
        async with _omni(fake) as omni:
            result = await Allocator(omni, max_customers=2).allocate(event)
        assert isinstance(result.error, AmbiguousSendError)
        assert result.attempts == 1
        assert len(fake.requests("assign_agent")) == 1
        assert "agent allocation failed" in caplog.text

    async def test_a_busy_lock_is_reported(self, fake):
        """A lock held past lock_wait gives a reported failure, not a hang."""
        [event] = await _customers(fake, 1)
        async with _omni(fake) as omni:
            allocator = Allocator(omni, max_customers=2, lock_wait=0.05)
            token, _ = await allocator.lock.acquire(allocator._key, 1)
            result = await allocator.allocate(event)
            await allocator.lock.release(allocator._key, token, None, 1)
        assert not result.ok
        assert "held" in str(result.error)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"max_customers": 0}, "max_customers must be >= 1, got 0"),
            ({"max_customers": 1, "attempts": 0}, "attempts must be >= 1, got 0"),
            ({"max_customers": 1, "lock_wait": 0}, "lock_wait must be > 0 seconds"),
        ],
    )
    def test_settings_are_checked(self, fake, options, message):
        """A quota or attempts below 1, or no lock wait, is refused by name."""
        omni = _omni(fake)
        with pytest.raises(InvalidArgumentError, match=message):
            Allocator(omni, **options)


class TestWebhookReceiver:
    async def test_the_fake_delivers_and_the_allocator_assigns(self, fake):
        """The fake's allocation hook reaches allocator.asgi, which assigns."""
        async with _omni(fake) as omni:
            allocator = Allocator(omni, max_customers=2, guard=HookGuard(TOKEN))
            fake.omnichannel.deliver_webhooks(
                allocation=f"http://alloc.test/hook?token={TOKEN}",
                transport=httpx.ASGITransport(app=allocator.asgi),
            )
            await _customers(fake, 3)
        statuses = [d.status for d in fake.omnichannel.deliveries]
        assert statuses == [200, 200, 200]
        assert sorted(_served(fake).values()) == [1, 2]

    @pytest.mark.parametrize(
        ("query", "body", "status"),
        [
            ("token=wrong-token-0123456789", b"{}", 401),
            ("", b"{}", 401),
            (f"token={TOKEN}", b'{"hello": 1}', 400),
            (f"token={TOKEN}", b'{"room_id": "999999", "app_id": "x"}', 503),
        ],
    )
    async def test_receiver_answers(self, fake, query, body, status):
        """A wrong token is 401, another body 400, an unassignable room 503."""
        async with _omni(fake) as omni:
            allocator = Allocator(omni, max_customers=2, guard=HookGuard(TOKEN))
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=allocator.asgi),
                base_url="http://alloc.test",
            ) as http:
                answer = await http.post(f"/hook?{query}", content=body)
        assert answer.status_code == status
