"""Lifecycle errors are QiscusErrors: use after close, use from another loop."""

from __future__ import annotations

import asyncio
import gc
import warnings

import anyio
import pytest

from aioqiscus import ClientClosedError, EventLoopError, QiscusClient, QiscusError
from aioqiscus.backends import AiohttpBackend
from aioqiscus.testing import FakeQiscus

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


def _two_loops(client: QiscusClient) -> BaseException | None:
    """Call through *client* in one asyncio.run, then in a second one."""

    async def get() -> None:
        with anyio.fail_after(10):
            await client.get_user(ALICE)

    asyncio.run(get())
    try:
        asyncio.run(get())
    except BaseException as exc:  # noqa: BLE001 - the outcome is the result
        return exc
    finally:
        asyncio.run(client.aclose())
        # The first loop died with a pooled connection open: nothing can
        # close its socket now. Collect it here, where the warning is the
        # scenario's own, not in whichever test runs next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    return None


class TestAnotherEventLoop:
    @pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
    def test_pool_reused_from_another_loop(self, served, backend):
        """A pooled connection reused from a second loop raises EventLoopError
        (httpx and aiohttp raise a bare RuntimeError)."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        client = QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            api_version="v2.1",
            backend=AiohttpBackend() if backend == "aiohttp" else None,
        )
        error = _two_loops(client)
        assert isinstance(error, EventLoopError)
        assert isinstance(error, QiscusError)
        assert "another event loop" in str(error)
        assert isinstance(error.__cause__, RuntimeError)

    def test_no_error_where_another_loop_works(self):
        """In process, where nothing is bound to the first loop, a second
        loop's calls succeed: the error is raised only where the pool fails."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        client = in_process(fake, "v2.1")
        assert _two_loops(client) is None
        assert len(fake.requests("user_profile")) == 2
