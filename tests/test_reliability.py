"""Reliability and security: retry policy, concurrency, cancellation,
redaction, URL safety, and a fault-injection soak over loopback HTTP."""

from __future__ import annotations

import collections
import logging
import random
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import anyio
import httpx
import pytest
import respx

import aioqiscus
from aioqiscus import (
    AmbiguousSendError,
    AuthenticationError,
    InvalidArgumentError,
    QiscusClient,
    QiscusError,
    RateLimitError,
    ResponseShapeError,
    RetryPolicy,
    ServerError,
)
from aioqiscus._retry import is_testing, retry_after_seconds
from aioqiscus.backends import HttpxBackend
from aioqiscus.testing import FakeQiscus, Fault

from .conftest import ALICE, BASE, BOB, CAROL, request_at
from .hostile._servers import until

SECRET = "sk-live-5a0f3c2e9b7d41e6a8c0"


class TestRetryPolicy:
    def test_defaults(self):
        """2 retries, 0.5 s doubling to an 8 s cap, Retry-After capped at 60 s."""
        policy = RetryPolicy()
        assert (policy.max_retries, policy.initial_backoff, policy.max_backoff) == (
            2,
            0.5,
            8.0,
        )
        assert policy.max_retry_after == 60.0

    def test_backoff_sequence(self):
        """Exponential from 0.5 s, capped at 8 s; jitter only shortens."""
        aioqiscus.set_testing(False)
        exact = RetryPolicy(jitter=0)
        assert [exact.backoff(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]
        jittery = RetryPolicy(jitter=0.5)
        for n in range(1, 8):
            assert exact.backoff(n) * 0.5 <= jittery.backoff(n) <= exact.backoff(n)
        assert exact.backoff(1, retry_after=3) == 3
        assert exact.backoff(1, retry_after=600) == 60

    def test_testing_switch(self):
        """set_testing(True) removes every sleep."""
        assert is_testing()
        assert RetryPolicy(jitter=0).backoff(5, retry_after=10) == 0

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"max_retries": -1},
            {"initial_backoff": -1},
            {"jitter": 2},
            {"max_backoff": -0.1},
        ],
    )
    def test_validation(self, kwargs):
        """Nonsense policies are refused."""
        with pytest.raises(ValueError):
            RetryPolicy(**kwargs)

    def test_retry_after_forms(self):
        """Retry-After as seconds or as an HTTP date."""
        assert retry_after_seconds({"retry-after": "7"}) == 7
        assert retry_after_seconds({"retry-after": "-3"}) == 0
        later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
        assert 25 < retry_after_seconds({"retry-after": later}) <= 30
        assert retry_after_seconds({"retry-after": "soon"}) is None
        assert retry_after_seconds({}) is None

    async def test_deadline_bounds_retries(self):
        """An overall deadline stops retrying even with retries left."""
        aioqiscus.set_testing(False)
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/api/v2.1/rest/get_rooms_info").respond(503)
            policy = RetryPolicy(
                max_retries=10, initial_backoff=0.05, jitter=0, deadline=0.2
            )
            async with QiscusClient(
                "a", "s", api_version="v2.1", retry=policy
            ) as client:
                with anyio.fail_after(2):
                    with pytest.raises(ServerError):
                        await client.get_rooms_info(["1"])
        assert 2 <= route.call_count <= 4

    async def test_per_call_override(self):
        """with_options(max_retries=0) makes one attempt and shares the pool."""
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/api/v2.1/rest/get_rooms_info").respond(503)
            async with QiscusClient("a", "s", api_version="v2.1") as client:
                strict = client.with_options(max_retries=0)
                with pytest.raises(ServerError):
                    await strict.get_rooms_info(["1"])
                assert route.call_count == 1
                with pytest.raises(ServerError):
                    await client.get_rooms_info(["1"])
                assert route.call_count == 4
                assert strict._transport.backend is client._transport.backend
                await strict.aclose()
                assert not client._transport.backend.client.is_closed


class TestConcurrency:
    async def test_gathered_calls_wait_instead_of_pool_timeout(self, served):
        """2,000 gathered calls through a pool of 4 with a 0.5 s pool timeout all complete."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        backend = HttpxBackend(timeout=httpx.Timeout(10.0, pool=0.5), max_connections=4)
        results = []
        async with QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            api_version="v2.1",
            backend=backend,
        ) as client:

            async def one():
                results.append(await client.get_rooms_info([str(room.id)]))

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for _ in range(2000):
                        tg.start_soon(one)
        assert len(results) == 2000
        assert client._transport.max_in_flight == 4
        assert client._transport.limiter.value == 4

    async def test_ten_thousand_in_process(self):
        """10,000 gathered calls complete against the in-process fake."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        async with QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            api_version="v2.1",
            http_client=fake.http_client(),
        ) as client:
            counts = []

            async def one():
                counts.append(await client.get_user(ALICE))

            with anyio.fail_after(120):
                async with anyio.create_task_group() as tg:
                    for _ in range(10_000):
                        tg.start_soon(one)
        assert len(counts) == 10_000
        assert len(fake.journal) == 10_000

    @pytest.mark.parametrize("value", [0, -1])
    def test_max_in_flight_validated(self, value):
        """max_in_flight must be positive; 0 is refused, not read as 'default'."""
        with pytest.raises(InvalidArgumentError, match="max_in_flight"):
            QiscusClient("a", "s", max_in_flight=value)

    async def test_find_comment_names_window(self):
        """A bad look-up window is refused naming the argument."""
        async with QiscusClient("a", "s", api_version="v2.1") as client:
            with pytest.raises(InvalidArgumentError, match="window"):
                await client.find_comment("1", "m", window=0)


def pool_in_use(client: QiscusClient) -> int:
    """Connections busy and requests held, over all the backend's pools."""
    pools = [p._transport._pool for p in client._transport.backend.pools]
    return sum(
        sum(1 for c in pool.connections if not c.is_idle()) + len(pool._requests)
        for pool in pools
    )


class TestCancellation:
    async def test_cancelled_calls_release_connections(self, served):
        """Cancelling 100 concurrent calls at random points leaks nothing."""
        fake, url = served
        fake.reset(seed=5)
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        fake.inject(Fault.delay(0.05), probability=0.5)
        rng = random.Random(1)
        outcomes = collections.Counter()
        async with QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, api_version="v2.1"
        ) as client:

            async def one(i: int):
                with anyio.move_on_after(rng.uniform(0, 0.08)) as scope:
                    if i % 2:
                        await client.get_rooms_info([str(room.id)])
                    else:
                        [c async for c in client.iter_comments(str(room.id))]
                outcomes["cancelled" if scope.cancelled_caught else "done"] += 1

            async with anyio.create_task_group() as tg:
                for i in range(100):
                    tg.start_soon(one, i)
            assert outcomes["cancelled"] > 10
            await anyio.sleep(0.1)
            assert pool_in_use(client) == 0
            fake.faults.clear()
            [info] = await client.get_rooms_info([str(room.id)])
            assert info.name == "G"
            assert client._transport.limiter.value == client._transport.max_in_flight

    async def test_task_cancel_during_negotiation(self, served):
        """asyncio Task.cancel() of the probing call lets the next call probe."""
        import asyncio

        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        fake.inject(Fault.delay(0.3), endpoints="user_profile", times=1)
        async with QiscusClient(fake.app_id, fake.secret_key, base_url=url) as client:
            task = asyncio.create_task(client.negotiate())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert client.dialect is None
            assert (await client.get_user(ALICE)).id == ALICE
            assert pool_in_use(client) == 0
        # The server still answers the cancelled probe: let it finish here,
        # not in the next test's journal.
        with anyio.fail_after(5):
            await until(lambda: any(e.fault for e in fake.journal))


class TestRedaction:
    async def test_secret_and_tokens_found_nowhere(self, caplog):
        """A full run, errors included, never shows the secret or a user token."""
        fake = FakeQiscus(secret_key=SECRET)
        fake.add_user(ALICE, "Alice")
        fake.add_user(BOB, "Bob")
        produced: list[str] = []
        caplog.set_level(logging.DEBUG)
        async with QiscusClient(
            fake.app_id,
            SECRET,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        ) as client:
            produced.append(repr(client))
            user = await client.login_or_register(ALICE, "Alice", password="pw-123456")
            token = await client.reset_user_token(ALICE)
            produced += [repr(user), str(user)]
            room = await client.create_room("R", [BOB], ALICE)
            comment = await client.post_text(room.id, ALICE, "hello")
            produced += [repr(room), repr(comment)]
            fake.inject(Fault.status(500), times=3)
            fake.inject(Fault.malformed("html"), times=1)
            for call in (
                lambda: client.get_rooms_info([room.id]),
                lambda: client.get_rooms_info([room.id]),
                lambda: client.post_text(room.id, ALICE, "x", on_ambiguous="raise"),
                lambda: client.get_user("nobody@example.com"),
            ):
                try:
                    await call()
                except QiscusError as exc:
                    produced += [
                        str(exc),
                        repr(exc),
                        repr(exc.args),
                        getattr(exc, "body", ""),
                    ]
        wrong = QiscusClient(
            fake.app_id,
            "wrong-" + SECRET,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        )
        with pytest.raises(AuthenticationError) as info:
            await wrong.negotiate()
        produced += [
            str(info.value),
            repr(info.value.args),
            info.value.body,
            repr(wrong),
        ]
        produced += [caplog.text] + [r.getMessage() for r in caplog.records]
        everything = "\n".join(produced)
        assert "negotiated Qiscus API dialect" in everything
        assert "POST /api/v2.1/rest/post_comment" in everything
        stored_token = fake.store.users[ALICE].token
        assert token == stored_token
        for secret in (SECRET, token, "pw-123456"):
            assert secret not in everything

    def test_logger_filter_masks_registered_secret(self, caplog):
        """Even a record that carried the secret is masked, while the client lives."""
        client = QiscusClient("a", SECRET)
        caplog.set_level(logging.DEBUG, logger="aioqiscus")
        logging.getLogger("aioqiscus").warning("oops %s", SECRET)
        assert SECRET not in caplog.text
        assert "oops ***" in caplog.text
        assert repr(client).startswith("QiscusClient(")


class TestUrlSafety:
    async def test_redirects_not_followed(self):
        """A redirect is refused, never followed with our credentials."""
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            mock.get("/api/v2.1/rest/get_rooms_info").respond(
                302, headers={"Location": "https://evil.example.com/steal"}
            )
            evil = mock.route(host="evil.example.com").respond(200)
            async with QiscusClient("a", SECRET, api_version="v2.1") as client:
                with pytest.raises(ResponseShapeError, match="not followed"):
                    await client.get_rooms_info(["1"])
        assert evil.call_count == 0

    async def test_injected_client_with_follow_redirects_still_safe(self):
        """Even a client built to follow redirects does not follow ours."""
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            mock.get("/api/v2.1/rest/get_rooms_info").respond(
                307, headers={"Location": "https://evil.example.com/"}
            )
            evil = mock.route(host="evil.example.com").respond(200)
            http = httpx.AsyncClient(follow_redirects=True)
            async with QiscusClient(
                "a", SECRET, api_version="v2.1", http_client=http
            ) as c:
                with pytest.raises(ResponseShapeError):
                    await c.get_rooms_info(["1"])
            await http.aclose()
        assert evil.call_count == 0

    @pytest.mark.parametrize(
        "url",
        [
            "http://localhost:@evil.com/",
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com/",
            "http://[::2]/",
            "http://10.0.0.1/",
        ],
    )
    def test_http_only_for_real_loopback(self, url):
        """Parsed-host checks: look-alike hosts are not loopback."""
        with pytest.raises(InvalidArgumentError):
            QiscusClient("a", SECRET, base_url=url)

    @pytest.mark.parametrize("url", ["http://127.8.9.10:80", "HTTP://LOCALHOST:1"])
    async def test_whole_loopback_range(self, url):
        """127.0.0.0/8 and localhost in any case are loopback: requests go there."""
        request, user_id = await request_at(url)
        assert (request.url.host, request.url.port) == (
            httpx.URL(url).host,
            httpx.URL(url).port,
        )
        assert user_id == "user@email.com"


SOAK_OPS = 2000


async def test_soak(served):
    """2,000 mixed operations under 10% 503, 5% 429, 3% drops and 2% slow answers:
    every idempotent call completes and each send lands exactly once."""
    fake, url = served
    fake.reset(seed=42)
    for user in (ALICE, BOB, CAROL):
        fake.add_user(user)
    room = fake.store.create_room("Soak", "group", ALICE, [BOB])
    room_id = str(room.id)
    # Conditional probabilities (first matching rule wins): 10/5/3/2 % overall.
    fake.inject(Fault.status(503), probability=0.10)
    fake.inject(Fault.rate_limited(0), probability=0.05 / 0.90)
    fake.inject(Fault.drop(), probability=0.03 / 0.85)
    fake.inject(Fault.delay(0.4), probability=0.02 / 0.82)
    policy = RetryPolicy(max_retries=8, deadline=None)
    rng = random.Random(7)
    kinds = rng.choices(["read", "participants", "post"], weights=[4, 2, 4], k=SOAK_OPS)
    tally = collections.Counter()
    limiter = anyio.Semaphore(16)

    async def op(client: QiscusClient, i: int, kind: str) -> None:
        async with limiter:
            if kind == "read":
                [info] = await client.get_rooms_info([room_id])
                assert info.id == room_id
            elif kind == "participants":
                if i % 2:
                    await client.add_participants(room_id, [CAROL])
                else:
                    await client.remove_participants(room_id, [CAROL])
            else:
                await send(client, i)
            tally[kind] += 1

    async def send(client: QiscusClient, i: int) -> None:
        marker = f"soak-{i}"
        for _ in range(6):
            try:
                await client.post_text(
                    room_id, ALICE, f"send {i}", unique_temp_id=marker
                )
            except (ServerError, RateLimitError):
                tally["send refused, resent"] += 1
            except AmbiguousSendError as exc:
                tally["send settled by caller"] += 1
                if await client.find_comment(room_id, exc.marker) is not None:
                    return
            else:
                return
        pytest.fail(f"send {i} not settled")

    async with QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url=url,
        api_version="v2.1",
        retry=policy,
        timeout=httpx.Timeout(0.25, connect=2.0, pool=30.0),
        # A slow answer (0.4 s) is stored after the 0.25 s timeout: the look-up
        # must wait past it (testing mode would otherwise look at once).
        reconcile_delay=0.25,
    ) as client:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for i, kind in enumerate(kinds):
                    tg.start_soon(op, client, i, kind)
        fake.faults.clear()
        # Healthy afterwards.
        assert pool_in_use(client) == 0
        assert (await client.get_user(ALICE)).id == ALICE

    posts = kinds.count("post")
    messages = collections.Counter(c.message for c in fake.room(room.id).comments)
    faults = collections.Counter(
        (e.fault.kind if e.fault.kind != "status" else str(e.fault.status_code))
        for e in fake.journal
        if e.fault
    )
    sys.stdout.write(
        f"\nsoak: ops={SOAK_OPS} {dict(tally)} requests={len(fake.journal)} "
        f"faults={dict(faults)} comments={len(fake.room(room.id).comments)} "
        f"expected={posts} lost={posts - len(messages)} "
        f"duplicated={sum(n - 1 for n in messages.values())}\n"
    )
    assert tally["read"] + tally["participants"] + tally["post"] == SOAK_OPS
    assert len(messages) == posts
    assert max(messages.values()) == 1
    assert faults["drop"] > 0
    assert faults["delay"] > 0
