"""Errors that point at the cause: the URL tried, the dialect pinned, what to pass."""

from __future__ import annotations

import asyncio
import socket

import anyio
import pytest

from aioqiscus import (
    InvalidArgumentError,
    NegotiationError,
    NotFoundError,
    QiscusClient,
    RequestTimeoutError,
    ResponseShapeError,
    TransportError,
)
from aioqiscus.testing import FakeQiscus, serve

from ._servers import raw_server, read_head, response_head

BACKENDS = ["httpx", "aiohttp"]
NGINX = b"<html><body><h1>Welcome to nginx!</h1></body></html>"


@pytest.fixture(name="closed_port")
def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_on(url: str, backend: str = "httpx", **kwargs) -> QiscusClient:
    return QiscusClient("my-app", "s3cr3t-key", base_url=url, backend=backend, **kwargs)


def html(status: int):
    """A server answering every request *status* with an HTML page."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        while True:
            await read_head(reader)
            head = response_head(
                status, content_type="text/html", content_length=str(len(NGINX))
            )
            writer.write(head + NGINX)
            await writer.drain()

    return handler


class TestConnectionRefused:
    @pytest.mark.parametrize("backend", BACKENDS)
    async def test_pinned_names_scheme_host_and_port(self, closed_port, backend):
        """A refused connection names http://127.0.0.1:PORT and never left."""
        url = f"http://127.0.0.1:{closed_port}"
        async with client_on(url, backend, api_version="v2.1", retry=None) as client:
            with anyio.fail_after(10), pytest.raises(TransportError) as info:
                await client.get_user("u")
        assert f"http://127.0.0.1:{closed_port}/api/v2.1/rest/user_profile" in str(
            info.value
        )
        assert info.value.never_sent

    @pytest.mark.parametrize("backend", BACKENDS)
    async def test_during_negotiation_both_kinds(self, closed_port, backend):
        """Refused while probing: a TransportError and a NegotiationError, for every waiter."""
        url = f"http://127.0.0.1:{closed_port}"
        errors: list[BaseException] = []

        async def call(client: QiscusClient) -> None:
            try:
                await client.get_user("u")
            except NegotiationError as exc:
                errors.append(exc)

        async with client_on(url, backend, retry=None) as client:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(call, client)
        assert len(errors) == 3
        for error in errors:
            assert isinstance(error, TransportError)
            assert error.never_sent
            assert f"127.0.0.1:{closed_port}" in str(error)

    async def test_negotiation_timeout_is_a_timeout(self):
        """A probe that times out is a RequestTimeoutError and a NegotiationError."""

        async def silent(reader, writer) -> None:
            await read_head(reader)
            await asyncio.sleep(3600)

        async with raw_server(silent) as url, client_on(url, timeout=0.3) as client:
            with anyio.fail_after(10), pytest.raises(RequestTimeoutError) as info:
                await client.with_options(max_retries=0).get_user("u")
        assert isinstance(info.value, NegotiationError)
        assert url in str(info.value)


class TestBaseUrl:
    @pytest.mark.parametrize(
        "path", ["/api/v2.1/rest", "/api/v2/rest/", "/api/v2.1", "/api/v2.1/rest/x"]
    )
    def test_api_path_refused_with_what_to_pass(self, path):
        """A base URL holding the API path says which base URL to pass instead."""
        with pytest.raises(InvalidArgumentError) as info:
            QiscusClient("app", "key", base_url=f"https://api.example.com{path}")
        assert "base_url='https://api.example.com'" in str(info.value)

    def test_a_mount_point_is_kept(self):
        """A base URL below a proxy's mount point is fine: only the API path is refused."""
        client = QiscusClient("app", "key", base_url="https://gw.example.com/qiscus/")
        assert "https://gw.example.com/qiscus" in repr(client)


class TestNotQiscus:
    async def test_html_200_probe(self):
        """An HTML page answering the probe: not a Qiscus server, with the status."""
        async with raw_server(html(200)) as url, client_on(url) as client:
            with anyio.fail_after(10), pytest.raises(NegotiationError) as info:
                await client.get_user("u")
        text = str(info.value)
        assert f"this does not look like a Qiscus server at {url}" in text
        assert "200" in text

    async def test_html_404_everywhere(self):
        """HTML 404s on both dialects' probes: not a Qiscus server, not 'no such user'.

        Neither dialect answers with a Qiscus envelope, so negotiation fails
        (and is not cached) instead of settling on v2.
        """
        async with raw_server(html(404)) as url, client_on(url, retry=None) as client:
            with anyio.fail_after(10), pytest.raises(NegotiationError) as info:
                await client.get_user("u")
            assert client.dialect is None
        text = str(info.value)
        assert f"this does not look like a Qiscus server at {url}" in text
        assert "404" in text

    async def test_html_200_pinned(self):
        """A pinned client reading an HTML 200 says the same, as a ResponseShapeError."""
        async with (
            raw_server(html(200)) as url,
            client_on(url, api_version="v2") as client,
        ):
            with anyio.fail_after(10), pytest.raises(ResponseShapeError) as info:
                await client.get_user("u")
        assert f"this does not look like a Qiscus server at {url}" in str(info.value)
        assert "200" in str(info.value)


async def test_pinned_dialect_not_served():
    """v2.1 pinned on a v2-only server: the 404 names v2.1 and suggests auto."""
    fake = FakeQiscus(dialects={"v2"})
    fake.add_user("alice@example.com", "Alice")
    with serve(fake) as url:
        async with client_on(url, api_version="v2.1", retry=None) as client:
            with anyio.fail_after(10), pytest.raises(NotFoundError) as info:
                await client.get_user("alice@example.com")
    text = str(info.value)
    assert "v2.1" in text
    assert "api_version='auto'" in text
    assert url in text
