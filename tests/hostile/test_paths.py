"""Item 5: dot-segment ids never reach a URL path, where HTTP libraries
would collapse them onto another endpoint."""

from __future__ import annotations

import anyio
import pytest

from aioqiscus import InvalidArgumentError, QiscusClient
from aioqiscus.backends import AiohttpBackend


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
