from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import aioqiscus
from aioqiscus import Dialect, QiscusClient, _json
from aioqiscus.backends import AiohttpBackend
from aioqiscus.testing import FakeQiscus, serve

SAMPLES = Path(__file__).parent / "samples"
#: The default base URL: where the ``mock`` router answers.
BASE = "https://api.qiscus.com"


def sample(name: str) -> Any:
    """The decoded sample file tests/samples/<name>.json."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _no_backoff():
    """Retries happen in tests, but without sleeping."""
    aioqiscus.set_testing(True)
    yield
    aioqiscus.set_testing(False)


@pytest.fixture(
    name="json_backend",
    params=[
        "json",
        pytest.param(
            "msgspec",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("msgspec") is None,
                reason="needs aioqiscus[fast]",
            ),
        ),
    ],
)
def _json_backend(request):
    """Run a test on each JSON path: the standard library, then msgspec."""
    before = _json.BACKEND
    _json.use(request.param)
    yield request.param
    _json.use(before)


@pytest.fixture(name="mock")
def _mock():
    """A respx router on BASE; routes a test sets up need not all be called."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


async def request_at(base_url: str) -> tuple[httpx.Request, str]:
    """A ``get_user`` through a client on *base_url*: its request, the user id.

    A respx router mounted on *base_url* alone answers with the documented
    v2.1 profile, so an answer proves the request went to that host and port.
    """
    with respx.mock(base_url=base_url) as router:
        route = router.get("/api/v2.1/rest/user_profile").respond(
            json=sample("v21/user_profile")
        )
        async with QiscusClient(
            "my-app", "s3cr3t-key", base_url=base_url, api_version="v2.1"
        ) as client:
            user = await client.get_user("user@email.com")
    return route.calls.last.request, user.id


MODES = {"v2": {"v2"}, "v2.1": {"v2.1"}, "both": {"v2", "v2.1"}}
ALICE, BOB, CAROL, DAVE = (
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
)


@pytest.fixture(scope="session", name="served")
def _served():
    """One fake on a loopback socket for the session; tests reset it."""
    fake = FakeQiscus()
    with serve(fake) as url:
        yield fake, url


@pytest.fixture(
    name="env",
    params=[
        (m, t) for m in MODES for t in ("in-process", "loopback", "loopback-aiohttp")
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
async def _env(request, served):
    """(fake, client, expected dialect) for every dialect mode and transport.

    Transports: in-process (ASGI), loopback HTTP through httpx, and loopback
    HTTP through aiohttp: one behaviour suite proves both backends. The
    client negotiates (``auto``), so each test also proves negotiation.
    """
    mode, transport = request.param
    if transport.startswith("loopback"):
        fake, url = served
        fake.reset(dialects=MODES[mode])
        backend = AiohttpBackend() if transport.endswith("aiohttp") else None
        client = QiscusClient(
            fake.app_id, fake.secret_key, base_url=url, backend=backend
        )
    else:
        fake = FakeQiscus(dialects=MODES[mode])
        client = QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        )
    for user in (ALICE, BOB, CAROL, DAVE):
        fake.add_user(user, user.split("@")[0].title())
    expected = Dialect.V2 if mode == "v2" else Dialect.V2_1
    async with client:
        yield fake, client, expected


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve the ASGI *app* with uvicorn on 127.0.0.1 in this event loop.

    Yields its base URL; on exit the server shuts down, lifespan included.
    Unlike :func:`aioqiscus.testing.serve` (a thread with its own loop), the
    app shares the test's loop: a bot's background handlers can be joined.
    """
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session", name="redis_server")
def _redis_server():
    """A real redis-server on a free loopback port for the session: its URL."""
    from ._redis import run_redis

    with run_redis() as url:
        yield url


@pytest.fixture(name="redis_url")
def _redis_url(redis_server):
    """The session's Redis, emptied (FLUSHALL) before each test: its URL."""
    import redis

    with redis.Redis.from_url(redis_server) as conn:
        conn.flushall()
    return redis_server
