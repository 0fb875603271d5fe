"""I/O backends: the only code that touches an HTTP library.

A backend sends one request and returns a :class:`~aioqiscus._wire.RawResponse`
or raises :class:`~aioqiscus.errors.TransportError` saying whether the
request provably never left (``never_sent``). Retries, negotiation, error
mapping and redaction live above it and behave the same on every backend.

- :class:`HttpxBackend` (default) over an ``httpx.AsyncClient``.
- :class:`AiohttpBackend` (``aioqiscus[aiohttp]``) over an
  ``aiohttp.ClientSession``, so aiohttp apps can share their session.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from ._wire import Query, RawResponse
from .errors import InvalidArgumentError, RequestTimeoutError, TransportError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpBackend", "Backend", "BackendName", "HttpxBackend", "create"]

#: Connections per client unless told otherwise (httpx's own default).
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The SSL context of every httpx client aioqiscus creates.

    httpx builds one per client by default, reading the whole CA bundle
    (25 to 50 ms); one per process, built on first use, makes a client cheap
    to construct. It is httpx's own default (certifi, or ``SSL_CERT_FILE``
    / ``SSL_CERT_DIR`` as set when it is first built).
    """
    return httpx.create_ssl_context()


class Backend(Protocol):
    """What the transport needs from an HTTP library."""

    #: How many requests the backend can have in flight without queueing.
    max_connections: int

    async def send(
        self,
        method: str,
        url: str,
        *,
        query: Query,
        headers: Mapping[str, str],
        content: bytes | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        form: Mapping[str, str] | None,
    ) -> RawResponse:
        """Send one request.

        Raises:
            TransportError: with ``never_sent`` set when the request
                provably did not reach the server.
        """
        ...

    async def aclose(self) -> None:
        """Release what the backend created (never what it was given)."""
        ...


def _failure(
    exc: Exception, method: str, url: str, *, never_sent: bool
) -> TransportError:
    detail = str(exc)[:200]
    what = f"{type(exc).__name__} on {method} {httpx.URL(url).path}"
    if detail:
        what += f": {detail}"
    cls = RequestTimeoutError if "Timeout" in type(exc).__name__ else TransportError
    error = cls(what)
    error.never_sent = never_sent
    return error


#: Connections per httpx pool the default backend creates: httpx's pool
#: rescans its connections and queued requests on every request, and its
#: CPU per request stays flat up to about 8 in flight, then climbs (1.7 ms
#: at 8, 2.8 ms at 16, 4.3 ms at 128 in ``bench/sweep.py``).
POOL_SIZE = 8


class HttpxBackend:
    """Send requests with httpx.

    Without a client of yours, requests go through pools of at most
    :data:`POOL_SIZE` connections: the first pool with a free connection
    takes the request, and another pool is opened when all are busy, up to
    *max_connections* in all. httpx's single pool costs more CPU per request
    the more requests it holds (2.5x at 128 in flight); pools of 8 keep it
    at its cost for 8 without limiting how many requests are in flight, so
    a slow or distant server still gets as many as it can serve. Sequential
    calls use one pool and one connection.

    Args:
        client: An ``httpx.AsyncClient`` to use; never closed by us, and used
            as it is (one pool). Without one, pools are created with
            *timeout* and closed by :meth:`aclose`.
        timeout: Timeouts of the clients we create.
        max_connections: Connections of the pools we create, in all; with an
            injected client, how many requests to allow in flight (match it
            to that client's pool).
    """

    # The request provably never reached the server: safe to retry any request.
    _NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.max_connections = max_connections
        self._owns = client is None
        self.timeout = httpx.Timeout(timeout) if client is None else client.timeout
        #: The pools, how many connections each may open, how many requests
        #: each holds now.
        self.pools: list[httpx.AsyncClient] = []
        self._sizes: list[int] = []
        self._busy: list[int] = []
        if client is None:
            self._new_pool()
        else:
            self.pools.append(client)
            self._sizes.append(max_connections)
            self._busy.append(0)

    @property
    def client(self) -> httpx.AsyncClient:
        """The first pool: the only one unless requests overlapped."""
        return self.pools[0]

    def _new_pool(self) -> int:
        size = min(POOL_SIZE, self.max_connections - sum(self._sizes))
        self.pools.append(
            httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                verify=shared_ssl_context(),
                limits=httpx.Limits(
                    max_connections=size, max_keepalive_connections=size
                ),
            )
        )
        self._sizes.append(size)
        self._busy.append(0)
        return len(self.pools) - 1

    def _pick(self) -> int:
        """The pool for the next request: the first with a free connection."""
        busy = self._busy
        for index, size in enumerate(self._sizes):
            if busy[index] < size:
                return index
        if self._owns and sum(self._sizes) < self.max_connections:
            return self._new_pool()
        # More in flight than connections (max_in_flight above the pool):
        # they wait in the least busy pool.
        return busy.index(min(busy))

    async def send(
        self,
        method: str,
        url: str,
        *,
        query: Query,
        headers: Mapping[str, str],
        content: bytes | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        form: Mapping[str, str] | None,
    ) -> RawResponse:
        """Send one request with httpx; redirects are never followed."""
        index = self._pick()
        self._busy[index] += 1
        try:
            response = await self.pools[index].request(
                method,
                url,
                params=query or None,
                content=content,
                data=form,
                files=files,
                headers=headers,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            never_sent = isinstance(exc, self._NEVER_SENT)
            raise _failure(exc, method, url, never_sent=never_sent) from exc
        finally:
            self._busy[index] -= 1
        return RawResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        """Close the pools if we created them."""
        if self._owns:
            for pool in self.pools:
                await pool.aclose()


class AiohttpBackend:
    """Send requests with aiohttp (``pip install aioqiscus[aiohttp]``).

    Args:
        session: An ``aiohttp.ClientSession`` to share (an aiohttp app's
            own); never closed by us. Without one, a session is created on
            first use and closed by :meth:`aclose`.
        timeout: Total and connect timeouts, in seconds, of each request.
        max_connections: Connector limit of the session we create; with a
            shared session, how many requests to allow in flight.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: float | None = 15.0,
        connect_timeout: float | None = 5.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        import aiohttp  # noqa: PLC0415 - an optional dependency

        self._aiohttp = aiohttp
        self.max_connections = max_connections
        self._owns = session is None
        self._session = session
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, sock_connect=connect_timeout
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._aiohttp.ClientSession(
                connector=self._aiohttp.TCPConnector(limit=self.max_connections),
                timeout=self._timeout,
            )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        query: Query,
        headers: Mapping[str, str],
        content: bytes | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        form: Mapping[str, str] | None,
    ) -> RawResponse:
        """Send one request with aiohttp; redirects are never followed."""
        aiohttp = self._aiohttp
        data: Any = content
        if files is not None:
            data = aiohttp.FormData()
            for name, value in (form or {}).items():
                data.add_field(name, value)
            for name, (filename, blob, ctype) in files.items():
                data.add_field(name, blob, filename=filename, content_type=ctype)
        try:
            async with self._get_session().request(
                method,
                url,
                params=query or None,
                data=data,
                headers=headers,
                allow_redirects=False,
                timeout=self._timeout,
            ) as response:
                body = await response.read()
                # aiohttp's headers are a case-insensitive mapping already.
                return RawResponse(response.status, response.headers, body)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _failure(exc, method, url, never_sent=True) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _failure(exc, method, url, never_sent=False) from exc

    async def aclose(self) -> None:
        """Close the session if we created it."""
        if self._owns and self._session is not None:
            await self._session.close()


#: The backends :class:`~aioqiscus.QiscusClient` creates by name.
BackendName = Literal["httpx", "aiohttp"]


def create(name: str, timeout: float | httpx.Timeout) -> Backend:
    """The backend called *name*, with the client's *timeout*.

    ``"aiohttp"`` (``pip install aioqiscus[aiohttp]``) is the faster one: it
    spends a fifth of httpx's CPU per request. Its ``total`` timeout, which
    bounds a whole attempt, is the longest of *timeout*'s parts.

    Raises:
        InvalidArgumentError: *name* is not a backend.
    """
    if name == "httpx":
        return HttpxBackend(timeout=timeout)
    if name == "aiohttp":
        limits = httpx.Timeout(timeout)
        parts = [limits.connect, limits.read, limits.write, limits.pool]
        longest = max((t for t in parts if t is not None), default=None)
        return AiohttpBackend(
            timeout=longest, connect_timeout=limits.connect or longest
        )
    msg = f"backend must be 'httpx', 'aiohttp' or a Backend, not {name!r}"
    raise InvalidArgumentError(msg)
