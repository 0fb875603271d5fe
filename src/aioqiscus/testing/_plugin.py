"""pytest plugin: fixtures for testing code that uses aioqiscus.

Installed with ``aioqiscus[testing]`` through the ``pytest11`` entry point.

Fixtures:
    qiscus_fake: a fresh :class:`FakeQiscus` per test.
    qiscus_client: a :class:`~aioqiscus.QiscusClient` wired to it in-process.
    qiscus_server: the fake served on a loopback socket; its base URL.

Configure with the ``qiscus`` marker, e.g.
``@pytest.mark.qiscus(dialects={"v2"}, api_version="v2")``, or parametrise
``qiscus_client`` indirectly with an ``api_version`` value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .._client import QiscusClient
from ._fake import DIALECTS, FakeQiscus
from ._server import serve


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``qiscus`` marker."""
    config.addinivalue_line(
        "markers",
        "qiscus(dialects=None, api_version='auto', app_id=None, secret_key=None): "
        "configure the aioqiscus fake server fixtures",
    )


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("qiscus")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def qiscus_fake(request: pytest.FixtureRequest) -> FakeQiscus:
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
