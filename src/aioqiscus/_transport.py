"""The transport: credentials, the rate limit, retries, the in-flight limit, tracing.

:class:`Transport` sends a :class:`~aioqiscus._wire.RequestSpec` through a
:mod:`~aioqiscus.backends` backend (HTTP itself is the backend's job) and
returns the final :class:`~aioqiscus._wire.RawResponse`. It reads nothing of
a response but its status and headers; it maps a status to an error (with
:func:`~aioqiscus._envelope.error_from`) only where it must raise instead of
returning, and knows no dialect: the client deciphers and parses. The
credential headers live in a :class:`Credentials` mapping whose ``repr``
masks the secret, so a traceback's frame locals never show it.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Mapping

import anyio
import httpx

from . import _json, _redaction
from ._envelope import error_from
from ._lifecycle import Lifecycle
from ._limiter import Limiter
from ._loops import PerLoop
from ._observe import Observer
from ._ratelimit import RateLimit
from ._retry import REFUSED_STATUSES, RETRY_STATUSES, RetryPolicy, retry_after_seconds
from ._timeouts import TimedBackend
from ._wire import Dialect, Operation, RawResponse, RequestSpec
from .backends import ACCEPT_ENCODING, Backend
from .errors import (
    AmbiguousSendError,
    QiscusError,
    ResponseTooLargeError,
    TransportError,
)

logger = logging.getLogger("aioqiscus")

DEFAULT_BASE_URL = "https://api.qiscus.com"
_JSON = "application/json"


class Credentials(dict[str, str]):
    """Request headers whose ``repr`` masks every credential value.

    A plain dict here would print the secret key wherever frame locals are
    shown (``pytest --showlocals``, debuggers, error trackers).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {
            k: (_redaction.MASK if "SECRET" in k.upper() else v)
            for k, v in self.items()
        }
        return f"{type(self).__name__}({shown!r})"


class Transport:
    """Send :class:`RequestSpec` values through a backend.

    Adds the credential headers, takes a token of the rate limit (if any)
    for each attempt, bounds the requests in flight, applies the retry
    policy and maps failures to :mod:`aioqiscus.errors`.

    Strictly private; :class:`~aioqiscus.QiscusClient` owns one.
    """

    def __init__(
        self,
        *,
        app_id: str,
        secret_key: str,
        base_url: str,
        backend: Backend,
        retry: RetryPolicy,
        max_in_flight: int,
        observer: Observer | None = None,
        rate_limit: RateLimit | None = None,
        auth_headers: Mapping[str, str] | None = None,
    ) -> None:
        _redaction.register(secret_key)
        # The key stays masked while the client lives: released by aclose(),
        # or when the transport is collected, so the registry stays small.
        self._release = weakref.finalize(self, _redaction.release, secret_key)
        # Shared with every with_retry view: closing the client closes them.
        self.lifecycle = Lifecycle()
        # None unless a hook or OpenTelemetry wants each attempt reported.
        self.observer = observer
        # v2.1 documents dashes, v2 and every SDK underscores: send both.
        # Another face of the API (Omnichannel) names its own *auth_headers*.
        # Accept-Encoding names only what the backends inflate within the
        # size limit (an injected httpx client would also offer br/zstd).
        credentials = (
            {
                "QISCUS-SDK-APP-ID": app_id,
                "QISCUS-SDK-SECRET": secret_key,
                "QISCUS_SDK_APP_ID": app_id,
                "QISCUS_SDK_SECRET": secret_key,
            }
            if auth_headers is None
            else dict(auth_headers)
        )
        self._headers = Credentials({**credentials, "Accept-Encoding": ACCEPT_ENCODING})
        self._json_headers = Credentials({**self._headers, "Content-Type": _JSON})
        self.base_url = base_url.rstrip("/")
        self.backend = backend
        self.retry = retry
        # Callers beyond the pool wait here, unbounded in time, instead of
        # timing out in the pool (10,000 gathered calls must all complete).
        # (Per event loop: each loop a client runs on has its own
        # connections, see _loops.)
        self.max_in_flight = max_in_flight
        self.loops = PerLoop(backend, max_in_flight)
        #: A view's per-attempt timeout (``with_options(timeout=...)``), and
        #: each loop's backend wrapped with it; ``None`` on the client's own.
        self.timeout: httpx.Timeout | None = None
        self._timed: dict[int, TimedBackend] = {}
        # Shared with every view and, through it, with other clients and
        # processes; None costs one check per attempt.
        self.rate_limit = rate_limit

    @property
    def limiter(self) -> Limiter:
        """The running event loop's in-flight limiter."""
        return self.loops.here().limiter

    def with_retry(self, retry: RetryPolicy) -> Transport:
        """A view sharing the backend, limiter and credentials, other retries."""
        view = object.__new__(Transport)
        view.__dict__.update(self.__dict__)
        view.retry = retry
        return view

    def with_timeout(self, timeout: httpx.Timeout) -> Transport:
        """A view like :meth:`with_retry` whose every attempt has *timeout*."""
        view = self.with_retry(self.retry)
        # Each loop's backend is wrapped where it is used (_timed_backend).
        view.timeout = timeout
        view._timed = {}  # noqa: SLF001 - a view of our own class
        return view

    def _timed_backend(self, backend: Backend, timeout: httpx.Timeout) -> Backend:
        """*backend* (one event loop's) with this view's *timeout*."""
        timed = self._timed.get(id(backend))
        if timed is None or timed.inner is not backend:
            timed = self._timed[id(backend)] = TimedBackend(backend, timeout)
        return timed

    async def aclose(self) -> None:
        """Close the backend's resources (never injected ones); idempotent."""
        if not self.lifecycle.closed:
            self.lifecycle.closed = True
            try:
                await self.loops.aclose()
            finally:
                self._release()

    def plain(self) -> bool:
        """Whether an attempt is the exchange alone (see :meth:`attempt_json`).

        Nothing observes, times or logs attempts (a rate limit's token is
        taken as :meth:`send` takes it): a caller may then make the first
        attempt itself and hand its outcome to :meth:`send`.
        """
        return (
            self.observer is None
            and self.timeout is None
            and not logger.isEnabledFor(logging.DEBUG)
        )

    async def attempt_json(
        self, method: str, path: str, body: Mapping[str, object]
    ) -> RawResponse:
        """One attempt of a JSON request, when :meth:`plain`: the first of a send.

        The closed-client check, the rate limit's token, the in-flight slot
        and the exchange, as :meth:`send` makes its first attempt, without
        the retry loop around it; its outcome (the response, or the
        :class:`TransportError` it raises) goes to :meth:`send` as *first*,
        which then decides as it would have. Its slot and backend call are
        :meth:`_exchange`'s, written again without a ``RequestSpec``, debug
        timing or timeout view (none applies when :meth:`plain`): through
        ``_exchange`` a send costs 7 % more instructions.
        """
        self.lifecycle.admit(method, path)
        rate_limit = self.rate_limit
        if rate_limit is not None:
            # As send's: before the in-flight slot, and closed meanwhile?
            await rate_limit.acquire()
            self.lifecycle.admit(method, path)
        content = _json.dumps(body)
        here = self.loops.here()
        limiter = here.limiter
        if not limiter.take():
            await limiter.wait()
        try:
            return await here.backend.send(
                method,
                self.base_url + path,
                query=(),
                headers=self._json_headers,
                content=content,
                files=None,
                form=None,
            )
        finally:
            limiter.release()

    async def send(  # noqa: C901, PLR0912 - every attempt's outcome decided in one loop
        self,
        spec: RequestSpec,
        operation: Operation | str = "",
        dialect: Dialect | str = "",
        *,
        first: RawResponse | TransportError | None = None,
        started: float | None = None,
    ) -> RawResponse:
        """Send *spec*, retrying per the policy; return the final response.

        Error statuses are returned, not raised, once retries are exhausted
        (the caller deciphers them), except where a non-idempotent request's
        fate is unknown: that raises :class:`AmbiguousSendError`. *operation*
        and *dialect* name the call for the observer, if there is one (as
        enums: only an observer spends time turning them into text).

        *first* is the outcome of a first attempt the caller made with
        :meth:`attempt_json` (*spec*'s request, begun at *started*, a
        ``time.monotonic()``): it counts as attempt 1, decided as if this
        method had made it.
        """
        if first is None:
            self.lifecycle.admit(spec.method, spec.path)
        policy, observer, rate_limit = self.retry, self.observer, self.rate_limit
        if started is None:
            started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome: RawResponse | TransportError
            if rate_limit is not None and first is None:
                # Before the in-flight slot and the connection: a caller
                # waiting for its token holds neither.
                await rate_limit.acquire()
                # Closed while waiting for the token? (See the backoff's.)
                self.lifecycle.admit(spec.method, spec.path)
            try:
                if first is not None:
                    made, first = first, None
                    if isinstance(made, TransportError):
                        raise made
                    raw = made
                else:
                    # Unobserved, the attempt is the exchange itself: no wrapper.
                    raw = await (
                        self._exchange(spec, attempt)
                        if observer is None
                        else observer.exchange(
                            self._exchange, spec, attempt, operation, dialect
                        )
                    )
            except TransportError as exc:
                if not spec.idempotent and not exc.never_sent:
                    raise self._ambiguous(spec, exc) from exc
                # An oversized answer would be as large again: never retried.
                delay = (
                    None
                    if isinstance(exc, ResponseTooLargeError)
                    else self._next_delay(policy, attempt, started, None)
                )
                if delay is None:
                    raise
                outcome = exc
            else:
                if raw.status_code not in RETRY_STATUSES:
                    return raw
                retry_after = await self._check_retryable(spec, raw, policy)
                delay = self._next_delay(policy, attempt, started, retry_after)
                if delay is None:
                    return raw
                outcome = raw
            if observer is not None:
                observer.retry(spec, attempt, delay, operation, dialect, outcome)
            await anyio.sleep(delay)
            # Closed during the backoff, the next attempt would open a new
            # loop state, connections no one closes. (Nothing else is awaited
            # between the check at the start and an attempt.)
            self.lifecycle.admit(spec.method, spec.path)

    async def _check_retryable(
        self, spec: RequestSpec, raw: RawResponse, policy: RetryPolicy
    ) -> float | None:
        """Raise if a retryable status must not be retried; else Retry-After.

        A 429's ``Retry-After`` first pauses every sharer of the rate limit,
        capped by the policy's ``max_retry_after`` (a server asking for an
        hour would otherwise hold every client for an hour).
        """
        retry_after = retry_after_seconds(raw.headers)
        if raw.status_code == 429 and retry_after is not None:  # noqa: PLR2004
            if retry_after and self.rate_limit is not None:
                await self.rate_limit.pause(min(retry_after, policy.max_retry_after))
            if retry_after > policy.max_retry_after:
                raise error_from(raw)
        if not spec.idempotent and raw.status_code not in REFUSED_STATUSES:
            error = error_from(raw)
            raise self._ambiguous(spec, error) from error
        return retry_after

    @staticmethod
    def _ambiguous(spec: RequestSpec, error: QiscusError) -> AmbiguousSendError:
        msg = (
            f"{spec.method} {spec.path} may or may not have been processed "
            f"({error}); check whether it took effect before repeating it"
        )
        return AmbiguousSendError(msg)

    @staticmethod
    def _next_delay(
        policy: RetryPolicy, attempt: int, started: float, retry_after: float | None
    ) -> float | None:
        """The sleep before the next attempt, or None when retries are spent."""
        if attempt > policy.max_retries:
            return None
        delay = policy.backoff(attempt, retry_after)
        deadline = policy.deadline
        if deadline is not None and time.monotonic() - started + delay > deadline:
            return None
        return delay

    async def _exchange(self, spec: RequestSpec, attempt: int) -> RawResponse:
        """One HTTP exchange through the backend, within the in-flight limit.

        :meth:`attempt_json` makes a plain send's first one the same way.
        """
        if spec.json is not None:
            content: bytes | None = _json.dumps(spec.json)
            headers = self._json_headers
        else:
            content, headers = None, self._headers
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        here = self.loops.here()
        timeout = self.timeout
        backend = (
            here.backend
            if timeout is None
            else self._timed_backend(here.backend, timeout)
        )
        # ``async with limiter`` without its two coroutines: a free slot
        # (the common case) is taken and given back by plain calls.
        limiter = here.limiter
        if not limiter.take():
            await limiter.wait()
        try:
            raw = await backend.send(
                spec.method,
                self.base_url + spec.path,
                query=spec.query,
                headers=headers,
                content=content,
                files=spec.files,
                form=spec.form,
            )
        finally:
            limiter.release()
        if debug:
            logger.debug(
                "%s %s -> %d (attempt %d, %.1f ms)",
                spec.method,
                spec.path,
                raw.status_code,
                attempt,
                (time.perf_counter() - started) * 1000,
            )
        return raw
