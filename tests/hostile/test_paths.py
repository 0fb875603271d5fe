"""Item 5: dot-segment ids never reach a URL path, where HTTP libraries
would collapse them onto another endpoint."""

from __future__ import annotations

import anyio
import pytest

from aioqiscus import InvalidArgumentError, QiscusClient
from aioqiscus.backends import AiohttpBackend, HttpxBackend


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("backup_id", [".", ".."])
@pytest.mark.parametrize("call", ["get_export", "delete_export", "wait_for_export"])
async def test_dot_segments_refused_before_sending(served, backend, backup_id, call):
    """get/delete/wait_for_export('.' or '..') raise before any request reaches the server."""
    fake, url = served
    fake.reset()
    made = AiohttpBackend() if backend == "aiohttp" else None
    async with QiscusClient(
        fake.app_id, fake.secret_key, base_url=url, api_version="v2.1", backend=made
    ) as client:
        with (
            anyio.fail_after(5),
            pytest.raises(InvalidArgumentError, match="backup_id"),
        ):
            await getattr(client, call)(backup_id)
    assert fake.journal == []


LONG = "a" * 70_000  # httpx refuses URLs over 64 KiB with InvalidURL


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("get_user", (LONG,)),
        ("get_user_token", (LONG,)),
        ("get_export", (LONG,)),
        ("delete_export", (LONG,)),
        ("search_messages", (LONG,)),
        ("find_comment", ("1001", LONG)),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
async def test_overlong_values_refused_before_sending(served, backend, call, args):
    """An id or query value over the URL limit raises InvalidArgumentError naming the limit, sends nothing."""
    fake, url = served
    fake.reset()
    made = AiohttpBackend() if backend == "aiohttp" else None
    kwargs = {"user_id": "u@example.com"} if call == "search_messages" else {}
    async with QiscusClient(
        fake.app_id, fake.secret_key, base_url=url, api_version="v2", backend=made
    ) as client:
        with (
            anyio.fail_after(5),
            pytest.raises(InvalidArgumentError, match="8192"),
        ):
            await getattr(client, call)(*args, **kwargs)
    assert fake.journal == []


async def test_httpx_backend_maps_a_refused_url():
    """A URL httpx itself refuses raises InvalidArgumentError from the backend, not httpx.InvalidURL."""
    backend = HttpxBackend()
    try:
        with (
            anyio.fail_after(5),
            pytest.raises(InvalidArgumentError, match="refused the URL"),
        ):
            await backend.send(
                "GET",
                "http://127.0.0.1:9/api/" + LONG,
                query=(),
                headers={},
                content=None,
                files=None,
                form=None,
            )
    finally:
        await backend.aclose()
