"""Helpers shared by tests: an in-process client, waiting for a server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from aioqiscus import QiscusClient
from aioqiscus.testing import FakeQiscus

T = TypeVar("T")


def in_process(
    fake: FakeQiscus, api_version: str = "auto", **options: Any
) -> QiscusClient:
    """A client wired to *fake* in-process (no sockets), with *options*."""
    return QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        api_version=api_version,
        http_client=fake.http_client(),
        **options,
    )


def until_serving(call: Callable[[], T], timeout: float = 15) -> T:
    """``call()`` once a server starting in another process accepts it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
