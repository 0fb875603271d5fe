"""I/O backends: the only code that touches an HTTP library.

A backend sends one request and returns a :class:`~aioqiscus._wire.RawResponse`
or raises :class:`~aioqiscus.errors.TransportError` saying whether the
request provably never left (``never_sent``). Retries, negotiation, error
mapping and redaction live above it and behave the same on every backend.

Both backends bound each response alike: the whole attempt (connect, send,
headers and body) must finish within one deadline, and the body, decoded,
may hold at most ``max_response_bytes`` (32 MiB by default), decompression
counted as it happens, so neither a server that drips bytes nor a gzip bomb
can hold a call or fill memory.

- :class:`HttpxBackend` (default) over an ``httpx.AsyncClient``.
- :class:`AiohttpBackend` (``aioqiscus[aiohttp]``) over an
  ``aiohttp.ClientSession``, so aiohttp apps can share their session.
"""

from __future__ import annotations

import functools
import math
import ssl
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import anyio
import httpx

from ._redaction import MASK, clip
from ._wire import Query, RawResponse
from .errors import (
    ClientClosedError,
    InvalidArgumentError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "POOL_SIZE",
    "AiohttpBackend",
    "Backend",
    "BackendName",
    "HttpxBackend",
    "create",
    "shared_ssl_context",
]

#: Connections per client unless told otherwise (httpx's own default).
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
#: The largest decoded response body accepted unless told otherwise. The
#: largest documented answers (100 comments or users a page) are well under
#: 1 MiB; 32 MiB leaves room for huge payloads and still bounds memory.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: The encodings we ask for, and can decode within the size limit.
ACCEPT_ENCODING = "gzip, deflate"
#: Connections per httpx pool the default backend creates: httpx's pool
#: rescans its connections and queued requests on every request, and its
#: CPU per request stays flat up to about 8 in flight, then climbs (1.7 ms
#: at 8, 2.8 ms at 16, 4.3 ms at 128 in ``bench/sweep.py``).
POOL_SIZE = 8
#: Parsed URLs a backend keeps (one per endpoint it calls).
_PARSED_URLS = 128

_U = TypeVar("_U")


class _ParsedURLs(dict[str, _U]):
    """Endpoint URLs parsed once: ``urls[text]`` is *text* parsed by *parse*.

    httpx and aiohttp parse a URL given as text on every request (httpx its
    host through ``ipaddress`` too); a parsed one they take as is. A client
    calls a few dozen endpoints at most: at most :data:`_PARSED_URLS` are
    kept, further ones parsed on each use. A hit is a plain dict look-up.
    """

    def __init__(self, parse: Callable[[str], _U]) -> None:
        super().__init__()
        self._parse = parse

    def __missing__(self, url: str) -> _U:
        parsed = self._parse(url)
        if len(self) < _PARSED_URLS:
            self[url] = parsed
        return parsed


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
    """What the transport needs from an HTTP library.

    A backend may also have a ``read_timeout`` attribute (seconds or
    ``None``): the client waits that long after an ambiguous send before
    looking for it; and a ``clone()`` method returning a backend with the
    same settings and no connections (or ``None`` when its connections are
    not its own), which the client calls for each further event loop it
    runs on. Without one, a backend is used on the first loop only.
    Its ``send`` may also take a ``timeout`` keyword (an ``httpx.Timeout``
    for that request): ``client.with_options(timeout=...)`` then passes it;
    otherwise that option only bounds each attempt from outside.
    """

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


def _where(method: str, url: str) -> str:
    """``GET http://host:port/path``: the verb, and where it went (no query).

    The port is always named (a refused connection is as often the wrong
    port as the wrong host); the query is left out (it holds user ids).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        # A URL httpx refuses (over 64 KiB) must not hide the error itself.
        return f"{method} {url.partition('?')[0][:200]}"
    host = parsed.host
    if ":" in host:
        host = f"[{host}]"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{method} {parsed.scheme}://{host}:{port}{parsed.path}"


def _failure(
    exc: Exception, method: str, url: str, *, never_sent: bool
) -> TransportError:
    # Mask before cutting: a secret cut in two would leave a prefix.
    detail = clip(str(exc), 200)
    what = f"{type(exc).__name__} on {_where(method, url)}"
    if detail:
        what += f": {detail}"
    cls = RequestTimeoutError if "Timeout" in type(exc).__name__ else TransportError
    error = cls(what)
    error.never_sent = never_sent
    return error


def _without_frames(exc: BaseException) -> BaseException:
    """*exc* with the tracebacks of its whole chain dropped.

    aiohttp's request frames keep the request headers, the secret key among
    them, in their locals (a ``CIMultiDict`` it builds, whose ``repr`` shows
    every value): a traceback that kept them would show the key wherever
    frame locals are displayed.
    """
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        stack += [current.__cause__, current.__context__]
    return exc


def _overdue(method: str, url: str, deadline: float) -> RequestTimeoutError:
    msg = (
        f"no complete response to {_where(method, url)} within the {deadline:g} s "
        "deadline of one attempt (connect, send, headers and body)"
    )
    return RequestTimeoutError(msg)


def _closed(method: str, url: str) -> ClientClosedError:
    msg = (
        f"{_where(method, url)}: the client is closed; create a new client "
        "after aclose() (or leave the HTTP client you passed in open)"
    )
    return ClientClosedError(msg)


class BoundedBody:
    """A response body, decoded and counted as it arrives.

    Not in ``__all__``: shared by the backends and the contract tool's
    recorder, which must read answers the way the backends do.

    Raises :class:`ResponseTooLargeError` as soon as the decoded size passes
    *limit*: a declared ``Content-Length`` above it is refused before
    reading, and gzip/deflate are inflated at most one byte past what is
    left, so a bomb never expands in memory.
    """

    __slots__ = (
        "_chunks",
        "_decoder",
        "_encoding",
        "_limit",
        "_request",
        "_sink",
        "_size",
    )

    def __init__(
        self,
        headers: Mapping[str, str],
        limit: int,
        request: tuple[str, str],
        *,
        decoded: bool = False,
        sink: Callable[[bytes], object] | None = None,
    ) -> None:
        self._limit = limit
        # A download hands each decoded chunk on instead of keeping it.
        self._sink = sink
        # (method, url): the path is parsed only for an error message.
        self._request = request
        self._size = 0
        self._chunks: list[bytes] = []
        self._decoder: Any = None
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise self._too_large(f"declares {int(length)} bytes")
        encoding = None if decoded else headers.get("content-encoding")
        self._encoding = ""
        if encoding is not None:
            codings = [c.strip().lower() for c in encoding.split(",")]
            codings = [c for c in codings if c and c != "identity"]
            if codings:
                self._decoder = _decoder(codings, self._where())
                self._encoding = codings[0]

    def _where(self) -> str:
        return _where(*self._request)

    def _too_large(self, detail: str) -> ResponseTooLargeError:
        msg = (
            f"the response to {self._where()} {detail}, over max_response_bytes "
            f"({self._limit} bytes); if such answers are expected, pass a larger "
            "max_response_bytes to QiscusClient"
        )
        return ResponseTooLargeError(msg, limit=self._limit)

    def feed(self, data: bytes) -> None:
        """Add one chunk as received (still encoded)."""
        if self._decoder is not None:
            data = self._inflate(data)
        self._size += len(data)
        if self._size > self._limit:
            raise self._too_large("is larger, decoded")
        if self._sink is None:
            self._chunks.append(data)
        elif data:
            self._sink(data)

    def _inflate(self, data: bytes) -> bytes:
        decoder = self._decoder
        # One byte past what is left proves the limit is passed.
        room = self._limit - self._size + 1
        try:
            out: bytes = decoder.decompress(data, room)
            while decoder.unconsumed_tail and len(out) < room:
                out += decoder.decompress(decoder.unconsumed_tail, room - len(out))
        except zlib.error as exc:
            if self._encoding == "deflate" and not self._chunks and not self._size:
                # Some servers send raw deflate without the zlib header.
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                self._encoding = "raw deflate"
                return self._inflate(data)
            raise self._undecodable(exc) from exc
        return out

    def _undecodable(self, exc: Exception) -> TransportError:
        msg = f"could not decode the {self._encoding} body of {self._where()}: {exc}"
        return TransportError(msg)

    def result(self) -> bytes:
        """The whole decoded body."""
        decoder = self._decoder
        if decoder is not None:
            # What the decoder held back at the end counts too.
            self._decoder = None
            try:
                self.feed(decoder.flush())
            except zlib.error as exc:
                raise self._undecodable(exc) from exc
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)


def _decoder(codings: list[str], where: str) -> Any:
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        # 32 + MAX_WBITS reads a gzip or a zlib header, whichever comes.
        return zlib.decompressobj(32 + zlib.MAX_WBITS)
    msg = (
        f"the response to {where} is encoded as {', '.join(codings)!r}, which "
        f"was not asked for (we accept {ACCEPT_ENCODING})"
    )
    raise TransportError(msg)


def _deadline(timeout: httpx.Timeout) -> float | None:
    """One attempt's deadline: the longest of the connect/read/write timeouts."""
    parts = [t for t in (timeout.connect, timeout.read, timeout.write) if t is not None]
    return max(parts) if parts else None


def _pool_limit(client: httpx.AsyncClient) -> int:
    """The connection limit of *client*'s pool, else the default.

    httpx keeps ``Limits(max_connections=...)`` in its transport's httpcore
    pool only; a custom transport, or no limit (``None``), gives the
    default :data:`DEFAULT_MAX_CONNECTIONS`.
    """
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    limit = getattr(pool, "_max_connections", None)
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return limit
    return DEFAULT_MAX_CONNECTIONS


async def _reclaim(client: httpx.AsyncClient, response: httpx.Response | None) -> None:
    """Repair httpcore's pool after a request was cancelled; strictly private.

    A workaround for httpcore 1.0 bugs (encode/httpcore#1093, open), which
    raw httpx shares. Two ways a cancellation leaves the pool short of a
    slot for good:

    - It lands after the pool created a connection for the request but
      before that connection marked itself active: in the lock
      ``AsyncHTTP11Connection.handle_async_request`` takes (an anyio lock:
      a checkpoint) outside any ``try``, or while the request waits for a
      connection the pool has just created for it. The pool forgets the
      request, keeps the connection: neither idle, closed, expired nor
      available, it is never reused nor evicted, and it counts against
      ``max_connections``.
    - A native ``Task.cancel()`` lands inside the release of a finished
      response (httpcore's cleanup takes that same lock under an anyio
      shield, which native asyncio cancellation pierces): the response is
      marked closed but its request stays in the pool, holding its
      connection, active forever.

    After enough of either, every request waits for a slot until
    ``PoolTimeout``. So, after any cancellation: the request of our own
    *response*, closed but still queued, is removed; then every connection
    that no request holds and that is neither idle nor closed (an orphan,
    by the rules above) is removed and closed, shielded, and queued
    requests are offered the freed slots. Pools that do not look like
    httpcore's are left alone.
    """
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    connections = getattr(pool, "_connections", None)
    requests = getattr(pool, "_requests", None)
    if not isinstance(connections, list) or not isinstance(requests, list):
        return
    stream = getattr(getattr(response, "stream", None), "_stream", None)
    released = getattr(stream, "_httpcore_stream", None)
    stale = getattr(released, "_pool_request", None)
    repaired = getattr(released, "_closed", False) and any(r is stale for r in requests)
    if repaired:
        requests.remove(stale)
    held = {id(getattr(r, "connection", None)) for r in requests}
    orphans = [
        c
        for c in connections
        if id(c) not in held and not c.is_idle() and not c.is_closed()
    ]
    if not orphans and not repaired:
        return
    for connection in orphans:
        connections.remove(connection)
    assign = getattr(pool, "_assign_requests_to_connections", None)
    closing = assign() if assign is not None else []
    with anyio.CancelScope(shield=True):
        for connection in (*orphans, *closing):
            await connection.aclose()


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
        timeout: Timeouts of the clients we create. Each attempt, from
            connecting to the last byte of the body, must also finish within
            the longest of its connect, read and write timeouts (httpx's own
            timeouts apply to each network operation, so a server sending a
            byte a second would otherwise hold a call for as long as it
            likes).
        max_connections: Connections of the pools we create, in all; with an
            injected client, how many requests to allow in flight: by
            default that client's pool limit where httpx shows it (else
            :data:`DEFAULT_MAX_CONNECTIONS`), so a burst waits its turn
            outside each attempt's deadline instead of timing out in a
            small pool.
        max_response_bytes: The largest response body accepted, decoded;
            larger ones raise :class:`~aioqiscus.errors.ResponseTooLargeError`.
    """

    # The request provably never reached the server: safe to retry any request.
    _NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_connections: int | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if max_connections is None:
            max_connections = (
                DEFAULT_MAX_CONNECTIONS if client is None else _pool_limit(client)
            )
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self._owns = client is None
        self.timeout = httpx.Timeout(timeout) if client is None else client.timeout
        self.deadline = _deadline(self.timeout)
        #: The pools, how many connections each may open, how many requests
        #: each holds now.
        self.pools: list[httpx.AsyncClient] = []
        self._sizes: list[int] = []
        self._busy: list[int] = []
        self._urls = _ParsedURLs(httpx.URL)
        if client is None:
            self._new_pool()
        else:
            self.pools.append(client)
            self._sizes.append(max_connections)
            self._busy.append(0)

    def clone(self) -> HttpxBackend | None:
        """The same settings, no connections: for another event loop.

        ``None`` with an injected client: its pool belongs to one loop.
        """
        if not self._owns:
            return None
        return HttpxBackend(
            timeout=self.timeout,
            max_connections=self.max_connections,
            max_response_bytes=self.max_response_bytes,
        )

    @property
    def client(self) -> httpx.AsyncClient:
        """The first pool: the only one unless requests overlapped."""
        return self.pools[0]

    def _new_pool(self) -> int:
        # httpcore loads with the first pool, as httpx loads it with its
        # first client (with trio, when installed): never on import.
        from ._pool import one_request_per_connection  # noqa: PLC0415

        size = min(POOL_SIZE, self.max_connections - sum(self._sizes))
        self.pools.append(
            one_request_per_connection(
                httpx.AsyncClient(
                    timeout=self.timeout,
                    follow_redirects=False,
                    verify=shared_ssl_context(),
                    limits=httpx.Limits(
                        max_connections=size, max_keepalive_connections=size
                    ),
                )
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

    @property
    def read_timeout(self) -> float | None:
        """The read timeout: how long a server may take to answer."""
        return self.timeout.read

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
        # Not a deadline: the library's own timeouts for one request.
        timeout: httpx.Timeout | None = None,  # noqa: ASYNC109
    ) -> RawResponse:
        """Send one request with httpx; redirects are never followed.

        *timeout* replaces the client's timeouts for this request.
        """
        index = self._pick()
        client = self.pools[index]
        self._busy[index] += 1
        deadline = self.deadline if timeout is None else _deadline(timeout)
        ends = math.inf if deadline is None else anyio.current_time() + deadline
        response: httpx.Response | None = None
        # The pool's count, the deadline and the size count live in this one
        # frame: no extra coroutine per call.
        try:
            with anyio.CancelScope(deadline=ends) as scope:
                try:
                    request = client.build_request(
                        method,
                        self._urls[url],
                        params=query or None,
                        content=content,
                        data=form,
                        files=files,
                        headers=headers,
                        timeout=httpx.USE_CLIENT_DEFAULT
                        if timeout is None
                        else timeout,
                    )
                    response = await client.send(
                        request, follow_redirects=False, stream=True
                    )
                    try:
                        # A transport answering from memory (httpx.MockTransport)
                        # hands over a body already read and decoded.
                        done = response.is_stream_consumed
                        body = BoundedBody(
                            response.headers,
                            self.max_response_bytes,
                            (method, url),
                            decoded=done,
                        )
                        if done:
                            body.feed(response.content)
                        else:
                            async for chunk in response.aiter_raw():
                                body.feed(chunk)
                        raw = RawResponse(
                            response.status_code, response.headers, body.result()
                        )
                    except BaseException:
                        # Return the connection even while being cancelled.
                        with anyio.CancelScope(shield=True):
                            await response.aclose()
                        raise
                except httpx.InvalidURL as exc:
                    # Values are checked before sending (_validate); this is
                    # the net for a URL httpx still refuses: never sent.
                    msg = f"httpx refused the URL of {_where(method, url)}: {exc}"
                    raise InvalidArgumentError(msg) from exc
                except httpx.HTTPError as exc:
                    never_sent = isinstance(exc, self._NEVER_SENT)
                    raise _failure(exc, method, url, never_sent=never_sent) from exc
                except RuntimeError as exc:
                    if client.is_closed:
                        raise _closed(method, url) from exc
                    raise
                except BaseException:
                    # Cancelled (by the caller or by our deadline): see _reclaim.
                    await _reclaim(client, response)
                    raise
            if scope.cancelled_caught:
                raise _overdue(method, url, deadline or 0.0)
            return raw
        finally:
            self._busy[index] -= 1

    async def download(
        self, url: str, sink: Callable[[bytes], object], *, limit: int
    ) -> RawResponse:
        """GET *url* without credentials, following redirects (a file link).

        A 200's body goes to *sink* decoded, chunk by chunk, and at most
        *limit* bytes of it (:class:`ResponseTooLargeError` past that);
        the answer's ``body`` is empty. Any other status is answered unread.
        Each read may take the read timeout; the whole download, any time.
        """
        try:
            async with self.client.stream(
                "GET",
                url,
                headers={"Accept-Encoding": ACCEPT_ENCODING},
                follow_redirects=True,
            ) as response:
                if response.status_code != 200:  # noqa: PLR2004
                    return RawResponse(response.status_code, response.headers, b"")
                done = response.is_stream_consumed
                body = BoundedBody(
                    response.headers, limit, ("GET", url), decoded=done, sink=sink
                )
                if done:
                    body.feed(response.content)
                else:
                    async for chunk in response.aiter_raw():
                        body.feed(chunk)
                return RawResponse(
                    response.status_code, response.headers, body.result()
                )
        except httpx.HTTPError as exc:
            never_sent = isinstance(exc, self._NEVER_SENT)
            raise _failure(exc, "GET", url, never_sent=never_sent) from exc

    async def aclose(self) -> None:
        """Close the pools if we created them."""
        if self._owns:
            for pool in self.pools:
                await pool.aclose()


class AiohttpBackend:
    """Send requests with aiohttp (``pip install 'aioqiscus[aiohttp]'``).

    Args:
        session: An ``aiohttp.ClientSession`` to share (an aiohttp app's
            own); never closed by us. Without one, a session is created on
            first use and closed by :meth:`aclose`.
        timeout: Total time one attempt may take, from connecting to the
            last byte of the body (aiohttp's ``total``), in seconds.
        connect_timeout: Time to connect, in seconds.
        max_connections: Connector limit of the session we create; with a
            shared session, how many requests to allow in flight.
        max_response_bytes: The largest response body accepted, decoded;
            larger ones raise :class:`~aioqiscus.errors.ResponseTooLargeError`.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: float | None = 15.0,
        connect_timeout: float | None = 5.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        import aiohttp  # noqa: PLC0415 - an optional dependency
        import yarl  # noqa: PLC0415 - aiohttp's own URL type, with it

        self._aiohttp = aiohttp
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self._owns = session is None
        self._session = session
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, sock_connect=connect_timeout
        )
        # id(headers) -> (headers, a copy, their multidict): see _multidict.
        self._multidicts: dict[int, tuple[Mapping[str, str], dict[str, str], Any]] = {}
        self._urls = _ParsedURLs(yarl.URL)

    def clone(self) -> AiohttpBackend | None:
        """The same settings, no session: for another event loop.

        ``None`` with a shared session: it belongs to one loop.
        """
        if not self._owns:
            return None
        return AiohttpBackend(
            timeout=self._timeout.total,
            connect_timeout=self._timeout.sock_connect,
            max_connections=self.max_connections,
            max_response_bytes=self.max_response_bytes,
        )

    @property
    def read_timeout(self) -> float | None:
        """The total timeout of one attempt: how long a server may take."""
        return self._timeout.total

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
        # Not a deadline: the library's own timeouts for one request.
        timeout: httpx.Timeout | None = None,  # noqa: ASYNC109
    ) -> RawResponse:
        """Send one request with aiohttp; redirects are never followed.

        *timeout* replaces the session's for this request: its longest part
        is the total, its connect part the connect timeout.
        """
        aiohttp = self._aiohttp
        limits = self._timeout if timeout is None else self._limits(timeout)
        data: Any = content if files is None else self._form_data(form, files)
        session = self._session or self._get_session()
        try:
            # auto_decompress=False: BoundedBody inflates, counting every byte.
            # Awaited, not entered: aiohttp's context managers are two more
            # coroutines on the way in and three on the way out, for what
            # release() does (the connection goes back to the pool once the
            # body is read; unread, it is closed).
            response = await session.request(
                method,
                self._urls[url],
                params=query or None,
                data=data,
                headers=self._multidict(headers),
                allow_redirects=False,
                timeout=limits,
                auto_decompress=False,
            )
            try:
                # aiohttp's headers are a case-insensitive mapping already.
                received = response.headers
                length = received.get("Content-Length")
                if (
                    length is not None
                    and length.isdigit()
                    and int(length) <= self.max_response_bytes
                    and "Content-Encoding" not in received
                ):
                    # Plain bytes of a declared size within the limit (the
                    # common answer): aiohttp reads exactly that many, so
                    # one read() is bounded, and cheaper than a stream.
                    return RawResponse(response.status, received, await response.read())
                body = BoundedBody(received, self.max_response_bytes, (method, url))
                async for chunk in response.content.iter_chunked(65536):
                    body.feed(chunk)
                return RawResponse(response.status, received, body.result())
            finally:
                response.release()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            cause = _without_frames(exc)
            raise _failure(exc, method, url, never_sent=True) from cause
        except (aiohttp.ClientError, TimeoutError) as exc:
            cause = _without_frames(exc)
            total = limits.total
            # A bare TimeoutError is the total timeout: the attempt's deadline.
            if not isinstance(exc, aiohttp.ClientError) and total is not None:
                raise _overdue(method, url, total) from cause
            raise _failure(exc, method, url, never_sent=False) from cause
        except RuntimeError as exc:
            if session.closed:
                raise _closed(method, url) from _without_frames(exc)
            raise

    def _multidict(self, headers: Mapping[str, str]) -> Any:
        """*headers* as the multidict aiohttp would make of them, made once.

        aiohttp copies any other mapping into a multidict on every request
        (the transport's credentials, a dict subclass, the slow way); a
        multidict it reads as is. The transport sends the same few header
        mappings every time: each is converted once and reused while it
        holds the same values (compared, so a changed mapping is never
        sent stale).
        """
        cached = self._multidicts.get(id(headers))
        if cached is not None and cached[0] is headers and cached[1] == headers:
            return cached[2]
        if len(self._multidicts) >= _MULTIDICTS:
            self._multidicts.clear()
        prepared = _masked_multidict()(headers)
        self._multidicts[id(headers)] = (headers, dict(headers), prepared)
        return prepared

    def _limits(self, timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
        total = _deadline(timeout)
        return self._aiohttp.ClientTimeout(
            total=total, sock_connect=timeout.connect or total
        )

    async def download(
        self, url: str, sink: Callable[[bytes], object], *, limit: int
    ) -> RawResponse:
        """Like :meth:`HttpxBackend.download`: redirects followed, no credentials.

        The attempt's total timeout bounds each read, not the whole file.
        """
        aiohttp = self._aiohttp
        total = self._timeout.total
        timeout = aiohttp.ClientTimeout(
            sock_connect=self._timeout.sock_connect, sock_read=total
        )
        try:
            async with self._get_session().get(
                url,
                headers={"Accept-Encoding": ACCEPT_ENCODING},
                timeout=timeout,
                auto_decompress=False,
            ) as response:
                if response.status != 200:  # noqa: PLR2004
                    return RawResponse(response.status, response.headers, b"")
                body = BoundedBody(response.headers, limit, ("GET", url), sink=sink)
                async for chunk in response.content.iter_chunked(65536):
                    body.feed(chunk)
                return RawResponse(response.status, response.headers, body.result())
        except (aiohttp.ClientError, TimeoutError) as exc:
            never_sent = isinstance(
                exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
            )
            raise _failure(exc, "GET", url, never_sent=never_sent) from (
                _without_frames(exc)
            )

    def _form_data(
        self,
        form: Mapping[str, str] | None,
        files: Mapping[str, tuple[str, bytes, str]],
    ) -> Any:
        data = self._aiohttp.FormData()
        for name, value in (form or {}).items():
            data.add_field(name, value)
        for name, (filename, blob, ctype) in files.items():
            data.add_field(name, blob, filename=filename, content_type=ctype)
        return data

    async def aclose(self) -> None:
        """Close the session if we created it."""
        if self._owns and self._session is not None:
            await self._session.close()


#: The header mappings an :class:`AiohttpBackend` keeps converted (the
#: transport sends two: with and without a JSON body).
_MULTIDICTS = 8


@functools.cache
def _masked_multidict() -> type[Any]:
    """The header multidict of aiohttp, its ``repr`` masking credentials.

    Defined on first use: multidict comes with aiohttp, an optional
    dependency.
    """
    from multidict import CIMultiDict  # noqa: PLC0415 - with aiohttp only

    class Headers(CIMultiDict[str]):
        """Request headers whose ``repr`` masks every credential value."""

        __slots__ = ()

        def __repr__(self) -> str:
            shown = [(k, MASK if "SECRET" in k.upper() else v) for k, v in self.items()]
            return f"{type(self).__name__}({shown!r})"

    return Headers


#: The backends :class:`~aioqiscus.QiscusClient` creates by name.
BackendName = Literal["httpx", "aiohttp"]


def create(
    name: str,
    timeout: float | httpx.Timeout | None,
    *,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Backend:
    """The backend called *name*, with the client's *timeout*.

    ``"aiohttp"`` (``pip install 'aioqiscus[aiohttp]'``) is the faster one:
    it spends a fifth of httpx's CPU per request. Its ``total`` timeout,
    which bounds a whole attempt, is the httpx backend's deadline: the
    longest of *timeout*'s connect, read and write parts.

    Raises:
        InvalidArgumentError: *name* is not a backend.
    """
    if name == "httpx":
        return HttpxBackend(timeout=timeout, max_response_bytes=max_response_bytes)
    if name == "aiohttp":
        limits = httpx.Timeout(timeout)
        longest = _deadline(limits)
        return AiohttpBackend(
            timeout=longest,
            connect_timeout=limits.connect or longest,
            max_response_bytes=max_response_bytes,
        )
    msg = f"backend must be 'httpx', 'aiohttp' or a Backend, not {name!r}"
    raise InvalidArgumentError(msg)
