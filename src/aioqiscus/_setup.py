"""Building a client's transport from its constructor's arguments.

Strictly private. :class:`~aioqiscus.QiscusClient` and
:class:`~aioqiscus.omnichannel.OmnichannelClient` are two faces of one
machinery: both check the same settings here and get a
:class:`~aioqiscus._transport.Transport` on a backend of
:mod:`aioqiscus.backends`, differing only in their base URL and the names
of their credential headers.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from . import backends
from ._observe import observer
from ._ratelimit import RateLimit
from ._retry import RetryPolicy
from ._transport import Transport
from ._validate import (
    check_base_url,
    check_in_flight,
    check_one_of,
    check_response_limit,
)
from .backends import DEFAULT_MAX_RESPONSE_BYTES, Backend, BackendName, HttpxBackend
from .events import EventHooks

__all__ = ["build_transport"]


def build_transport(
    app_id: str,
    secret_key: str,
    *,
    base_url: str,
    http_client: httpx.AsyncClient | None,
    backend: Backend | BackendName | None,
    timeout: float | httpx.Timeout,
    retry: RetryPolicy | None,
    max_in_flight: int | None,
    max_response_bytes: int | None,
    event_hooks: EventHooks | None,
    tracer_provider: object | None,
    meter_provider: object | None,
    auth_headers: Mapping[str, str] | None = None,
    rate_limit: RateLimit | None = None,
) -> Transport:
    """A transport as the client constructors describe their arguments.

    Raises:
        InvalidArgumentError: *http_client* and *backend* both given, a
            base URL that could leak the secret, a bad limit, malformed
            hooks.
    """
    check_one_of(http_client=http_client, backend=backend)
    url = check_base_url(base_url)
    watcher = observer(
        base_url=url,
        event_hooks=event_hooks,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    named = isinstance(backend, str)
    limit_bytes = check_response_limit(max_response_bytes, None if named else backend)
    if backend is None:
        backend = HttpxBackend(
            http_client,
            timeout=timeout,
            max_response_bytes=limit_bytes or DEFAULT_MAX_RESPONSE_BYTES,
        )
    elif isinstance(backend, str):
        backend = backends.create(
            backend,
            timeout,
            max_response_bytes=limit_bytes or DEFAULT_MAX_RESPONSE_BYTES,
        )
    limit = check_in_flight(
        backend.max_connections if max_in_flight is None else max_in_flight
    )
    return Transport(
        app_id=app_id,
        secret_key=secret_key,
        base_url=url,
        backend=backend,
        retry=retry or RetryPolicy(max_retries=0),
        max_in_flight=limit,
        observer=watcher,
        auth_headers=auth_headers,
        rate_limit=rate_limit,
    )
