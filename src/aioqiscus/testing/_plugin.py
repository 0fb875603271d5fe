"""pytest plugin: fixtures for testing code that uses aioqiscus.

Registered through the ``pytest11`` entry point whenever aioqiscus is
installed; the fixtures need ``aioqiscus[testing]`` (uvicorn) only for
``qiscus_server``.

Fixtures:
    qiscus_fake: a fresh :class:`FakeQiscus` per test.
    qiscus_client: a :class:`~aioqiscus.QiscusClient` wired to it in-process.
    qiscus_server: the fake served on a loopback socket; its base URL.

Every test that uses one of them, directly or through a fixture of yours,
runs with :func:`aioqiscus.set_testing` on (retries without backoff sleeps,
sends whose fate is unknown looked up without the grace wait), and an
``async def`` such test runs with no configuration: if no async test runner
claims it (pytest-asyncio in auto mode or with its marker, anyio's or
trio's marker), the plugin runs it on a fresh asyncio event loop itself.

Configure with the ``qiscus`` marker, e.g.
``@pytest.mark.qiscus(dialects={"v2"}, api_version="v2")`` (and
``reconcile_delay=0.5`` for a test about the grace wait), or parametrise
``qiscus_client`` indirectly with an ``api_version`` value.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from .._client import QiscusClient
from .._retry import is_testing, set_testing, testing_grace
from ._fake import DIALECTS, FakeQiscus
from ._server import serve

#: The fixtures that make a test ours to run when nothing else runs it.
FIXTURES = frozenset({"qiscus_fake", "qiscus_client", "qiscus_server"})
#: Markers of the async test runners that run a test their own way.
_RUNNER_MARKERS = ("asyncio", "anyio", "trio")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``qiscus`` marker."""
    config.addinivalue_line(
        "markers",
        "qiscus(dialects=None, api_version='auto', app_id=None, secret_key=None, "
        "reconcile_delay=0): configure the aioqiscus fake server fixtures",
    )


def _unclaimed_coroutine(item: pytest.Function) -> bool:
    """Whether *item* is an ``async def`` test of ours that no runner claims.

    Ours: it uses one of :data:`FIXTURES`, directly or through a fixture.
    pytest-asyncio swaps a test it runs for a synchronous wrapper before this
    hook sees it, and anyio runs the tests that request ``anyio_backend``;
    both are left alone, as is any test carrying a runner's marker.
    """
    if not inspect.iscoroutinefunction(item.obj):
        return False
    if "anyio_backend" in item.funcargs:
        return False
    if any(item.get_closest_marker(name) for name in _RUNNER_MARKERS):
        return False
    return not FIXTURES.isdisjoint(item.fixturenames)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an unclaimed ``async def`` test that uses our fixtures.

    Each such test gets a fresh asyncio event loop (what pytest-asyncio gives
    a test by default), so the README's tests pass in a project with no
    ``asyncio_mode`` and no async plugin configured. Async fixtures of your
    own still need your runner; once it runs the test, this hook steps aside.
    """
    if not _unclaimed_coroutine(pyfuncitem):
        return None
    wanted = inspect.signature(pyfuncitem.obj).parameters
    kwargs = {k: v for k, v in pyfuncitem.funcargs.items() if k in wanted}
    anyio.run(functools.partial(pyfuncitem.obj, **kwargs), backend="asyncio")
    return True


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("qiscus")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def _qiscus_no_backoff(request: pytest.FixtureRequest) -> Iterator[None]:
    """Testing mode for the test; the old setting after it.

    Retries without backoff sleeps, and ambiguous sends looked up after the
    marker's ``reconcile_delay`` (at once by default). The switch is
    process-wide (like stamina's), so it also covers clients a test builds
    itself on ``qiscus_server``.
    """
    before = (is_testing(), testing_grace() or 0.0)
    grace = _settings(request).get("reconcile_delay", 0.0)
    set_testing(True, reconcile_delay=grace)
    try:
        yield
    finally:
        set_testing(before[0], reconcile_delay=before[1])


@pytest.fixture
def qiscus_fake(request: pytest.FixtureRequest, _qiscus_no_backoff: None) -> FakeQiscus:
    """A fresh fake Qiscus app (both dialects unless configured)."""
    settings = _settings(request)
    dialects = getattr(request, "param", None) or settings.get("dialects") or DIALECTS
    kwargs = {k: settings[k] for k in ("app_id", "secret_key") if k in settings}
    return FakeQiscus(dialects=dialects, **kwargs)


@pytest.fixture
def qiscus_client(
    qiscus_fake: FakeQiscus, request: pytest.FixtureRequest
) -> QiscusClient:
    """A QiscusClient talking to ``qiscus_fake`` in-process (no sockets)."""
    version = getattr(request, "param", None) or _settings(request).get(
        "api_version", "auto"
    )
    return QiscusClient(
        qiscus_fake.app_id,
        qiscus_fake.secret_key,
        base_url="http://127.0.0.1",
        api_version=version,
        http_client=qiscus_fake.http_client(),
    )


@pytest.fixture
def qiscus_server(qiscus_fake: FakeQiscus) -> Iterator[str]:
    """``qiscus_fake`` on a loopback port; yields ``http://127.0.0.1:PORT``."""
    with serve(qiscus_fake) as url:
        yield url
