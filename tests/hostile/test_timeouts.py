"""Per-call timeouts: ``with_options(timeout=...)`` against slow loopback servers."""

from __future__ import annotations

import asyncio
import json
import math
import time

import anyio
import httpx
import pytest

from aioqiscus import (
    AmbiguousSendError,
    InvalidArgumentError,
    QiscusClient,
    QiscusError,
    RequestTimeoutError,
)

from ..conftest import sample
from ._servers import raw_server, read_head, response_head

BACKENDS = ["httpx", "aiohttp"]
PROFILE = json.dumps(sample("v21/user_profile")).encode()


def client_on(url: str, backend: str = "httpx", **kwargs) -> QiscusClient:
    return QiscusClient("my-app", "s3cr3t-key", base_url=url, backend=backend, **kwargs)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the request, never answer (the server is cancelled on exit)."""
    await read_head(reader)
    await asyncio.sleep(3600)


def answering_after(seconds: float, counter: list[str] | None = None):
    """A server that answers the v2.1 profile *seconds* after each request."""

    async def handler(reader, writer) -> None:
        while True:
            head = await read_head(reader)
            if counter is not None:
                counter.append(head.split(b" ")[1].decode())
            await asyncio.sleep(seconds)
            writer.write(
                response_head(
                    200,
                    content_type="application/json",
                    content_length=str(len(PROFILE)),
                )
                + PROFILE
            )
            await writer.drain()

    return handler


class TestEveryAttempt:
    @pytest.mark.parametrize("backend", BACKENDS)
    async def test_shorter_than_the_clients(self, backend):
        """A server that never answers fails the view's call at its 0.3 s, not at 15 s."""
        async with (
            raw_server(silent) as url,
            client_on(url, backend, api_version="v2.1") as client,
        ):
            started = time.monotonic()
            with anyio.fail_after(5), pytest.raises(RequestTimeoutError):
                await client.with_options(timeout=0.3, max_retries=0).get_user("u")
        assert 0.25 <= time.monotonic() - started < 2.0

    @pytest.mark.parametrize("backend", BACKENDS)
    async def test_longer_than_the_clients(self, backend):
        """An answer after 0.5 s fails the client's 0.2 s timeout but not the view's 3 s."""
        async with (
            raw_server(answering_after(0.5)) as url,
            client_on(
                url, backend, api_version="v2.1", timeout=0.2, retry=None
            ) as client,
        ):
            with anyio.fail_after(5):
                with pytest.raises(RequestTimeoutError):
                    await client.get_user("user@email.com")
                user = await client.with_options(timeout=3).get_user("user@email.com")
        assert user.name == "Johnny Cage"

    async def test_each_retry_gets_the_timeout(self):
        """Three attempts of a GET each end at the view's 0.2 s."""
        seen: list[str] = []

        async def counting(reader, writer) -> None:
            seen.append("attempt")
            await silent(reader, writer)

        async with (
            raw_server(counting) as url,
            client_on(url, api_version="v2.1") as client,
        ):
            started = time.monotonic()
            with anyio.fail_after(5), pytest.raises(RequestTimeoutError):
                await client.with_options(timeout=0.2, max_retries=2).get_user("u")
        assert seen == ["attempt"] * 3
        assert 0.55 <= time.monotonic() - started < 3.0

    async def test_the_probe_gets_it(self):
        """A view's first call on an auto client probes within the view's timeout."""
        async with raw_server(silent) as url, client_on(url) as client:
            started = time.monotonic()
            with anyio.fail_after(5), pytest.raises(QiscusError):
                await client.with_options(timeout=0.3, max_retries=0).get_user("u")
        assert time.monotonic() - started < 2.0

    async def test_the_reconcile_look_up_gets_it(self):
        """A dropped send whose look-up hangs is settled as ambiguous at the view's timeout."""
        paths: list[bytes] = []

        async def handler(reader, writer) -> None:
            head = await read_head(reader)
            paths.append(head.split(b" ")[1])
            if b"post_comment" in head:
                return  # dropped: the send's fate is unknown
            await asyncio.sleep(3600)

        async with (
            raw_server(handler) as url,
            client_on(url, api_version="v2.1") as client,
        ):
            view = client.with_options(timeout=0.3, max_retries=0)
            started = time.monotonic()
            with (
                anyio.fail_after(5),
                pytest.raises(AmbiguousSendError, match="looking for it failed"),
            ):
                await view.post_text("room", "alice", "hi")
        assert time.monotonic() - started < 2.0
        assert [p.split(b"?")[0] for p in paths] == [
            b"/api/v2.1/rest/post_comment",
            b"/api/v2.1/rest/load_comments",
        ]


class SleepyBackend:
    """A backend of a user's own, whose send takes no timeout keyword."""

    max_connections = 4

    async def send(self, *args, **kwargs):
        """Hang (*args* are the method and URL; no timeout among *kwargs*)."""
        assert len(args) == 2
        assert "timeout" not in kwargs
        await anyio.sleep(10)
        raise AssertionError("not reached")

    async def aclose(self) -> None:
        pass


async def test_a_backend_without_the_keyword_is_bounded_from_outside():
    """A backend that cannot take a timeout still gets each attempt's deadline."""
    async with QiscusClient(
        "my-app", "s3cr3t-key", api_version="v2.1", backend=SleepyBackend()
    ) as client:
        started = time.monotonic()
        with anyio.fail_after(5), pytest.raises(RequestTimeoutError, match=r"0\.2 s"):
            await client.with_options(timeout=0.2, max_retries=0).get_user("u")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("timeout", "error"),
    [
        (0, InvalidArgumentError),
        (-1.0, InvalidArgumentError),
        (math.nan, InvalidArgumentError),
        (math.inf, InvalidArgumentError),
        (httpx.Timeout(1.0, read=0), InvalidArgumentError),
        ("5", TypeError),
        (True, TypeError),
    ],
)
def test_bad_timeouts_are_refused(timeout, error):
    """A timeout that is not positive seconds or an httpx.Timeout is refused at once."""
    client = QiscusClient("my-app", "s3cr3t-key")
    with pytest.raises(error):
        client.with_options(timeout=timeout)


def test_views_chain():
    """A view of a view keeps the last timeout and the first backend underneath."""
    client = QiscusClient("my-app", "s3cr3t-key")
    view = client.with_options(timeout=1).with_options(timeout=2, max_retries=0)
    transport = view._transport
    assert transport.timeout == httpx.Timeout(2)
    assert transport.backend is client._transport.backend
    # Each loop's backend is wrapped once, with the last timeout.
    timed = transport._timed_backend(client._transport.backend, transport.timeout)
    assert timed.timeout == httpx.Timeout(2)
    assert timed.inner is client._transport.backend
