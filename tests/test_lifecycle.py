"""Lifecycle errors are QiscusErrors: use after close, use from another loop."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from aioqiscus import ClientClosedError, EventLoopError, QiscusClient, QiscusError
from aioqiscus.testing import FakeQiscus, Fault

from .conftest import ALICE
from .helpers import in_process


class TestClosed:
    async def test_calls_after_close_raise_before_any_request(self, env):
        """After aclose, a call raises ClientClosedError and sends nothing."""
        fake, client, _ = env
        await client.get_user(ALICE)
        await client.aclose()
        sent = len(fake.journal)
        with anyio.fail_after(10), pytest.raises(ClientClosedError) as info:
            await client.get_user(ALICE)
        assert isinstance(info.value, QiscusError)
        assert isinstance(info.value, RuntimeError)
        assert "the client was closed by aclose()" in str(info.value)
        assert len(fake.journal) == sent

    async def test_listings_of_a_closed_client_refuse(self, env):
        """A listing of a closed client, not yet negotiated, raises
        ClientClosedError, not a NegotiationError."""
        _, client, _ = env
        await client.aclose()
        with anyio.fail_after(10), pytest.raises(ClientClosedError):
            [r async for r in client.iter_user_rooms(ALICE)]

    async def test_entering_a_closed_client(self):
        """Entering a closed client raises ClientClosedError."""
        client = in_process(FakeQiscus())
        async with client:
            pass
        with pytest.raises(ClientClosedError):
            async with client:
                pass

    async def test_a_view_closes_nothing(self, env):
        """Closing a with_options view leaves the client usable."""
        _, client, _ = env
        await client.with_options(max_retries=0).aclose()
        with anyio.fail_after(10):
            assert (await client.get_user(ALICE)).id == ALICE

    async def test_a_call_cut_by_close_is_not_retried_on_new_connections(self, served):
        """A GET in flight when the client closes raises ClientClosedError:
        its retry opens no new connections behind the closed client's back."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        client = QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, api_version="v2.1"
        )
        await client.get_user(ALICE)
        fake.inject(Fault.delay(2), times=1)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:

                async def close_soon() -> None:
                    await anyio.sleep(0.3)
                    await client.aclose()

                tg.start_soon(close_soon)
                with pytest.raises(ClientClosedError):
                    await client.get_user(ALICE)


class TestAnotherEventLoop:
    def test_an_injected_client_belongs_to_its_loop(self):
        """An injected http_client is refused on any loop but its first,
        every time, with an EventLoopError that says whose it is."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        client = in_process(fake, "v2.1")

        async def get() -> None:
            with anyio.fail_after(10):
                await client.get_user(ALICE)

        asyncio.run(get())
        errors = []
        for _ in range(3):
            with pytest.raises(EventLoopError) as info:
                asyncio.run(get())
            errors.append(info.value)
        assert all(isinstance(e, QiscusError) for e in errors)
        assert str(errors[0]).startswith(
            "the http_client (httpx.AsyncClient) passed to QiscusClient belongs "
            "to the event loop it first ran on"
        )
        assert len(fake.requests("user_profile")) == 1
