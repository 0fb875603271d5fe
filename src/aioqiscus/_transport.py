"""The transport: credentials, retries, the in-flight limit, tracing.

:class:`Transport` sends a :class:`~aioqiscus._wire.RequestSpec` through a
:mod:`~aioqiscus.backends` backend (HTTP itself is the backend's job) and
returns the final :class:`~aioqiscus._wire.RawResponse`. It reads nothing of
a response but its status and headers; it maps a status to an error (with
:func:`~aioqiscus._envelope.error_from`) only where it must raise instead of
returning, and knows no dialect: the client deciphers and parses.
"""

from __future__ import annotations

import logging
import time

import anyio

from . import _json, _redaction
from ._envelope import error_from
from ._limiter import Limiter
from ._retry import REFUSED_STATUSES, RETRY_STATUSES, RetryPolicy, retry_after_seconds
from ._wire import RawResponse, RequestSpec
from .backends import Backend
from .errors import AmbiguousSendError, QiscusError, TransportError

logger = logging.getLogger("aioqiscus")

DEFAULT_BASE_URL = "https://api.qiscus.com"
_JSON = "application/json"


class Transport:
    """Send :class:`RequestSpec` values through a backend.

    Adds the credential headers, bounds the requests in flight, applies the
    retry policy and maps failures to :mod:`aioqiscus.errors`.

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
    ) -> None:
        _redaction.register(secret_key)
        # v2.1 documents dashes, v2 and every SDK underscores: send both.
        self._headers = {
            "QISCUS-SDK-APP-ID": app_id,
            "QISCUS-SDK-SECRET": secret_key,
            "QISCUS_SDK_APP_ID": app_id,
            "QISCUS_SDK_SECRET": secret_key,
        }
        self._json_headers = {**self._headers, "Content-Type": _JSON}
        self.base_url = base_url.rstrip("/")
        self.backend = backend
        self.retry = retry
        # Callers beyond the pool wait here, unbounded in time, instead of
        # timing out in the pool (10,000 gathered calls must all complete).
        self.max_in_flight = max_in_flight
        self.limiter = Limiter(max_in_flight)

    def with_retry(self, retry: RetryPolicy) -> Transport:
        """A view sharing the backend, limiter and credentials, other retries."""
        view = object.__new__(Transport)
        view.__dict__.update(self.__dict__)
        view.retry = retry
        return view

    @staticmethod
    def redact(text: str) -> str:
        """Mask every registered secret key in *text*."""
        return _redaction.scrub(text)

    async def aclose(self) -> None:
        """Close the backend's resources (never injected ones)."""
        await self.backend.aclose()

    async def send(self, spec: RequestSpec) -> RawResponse:
        """Send *spec*, retrying per the policy; return the final response.

        Error statuses are returned, not raised, once retries are exhausted
        (the caller deciphers them), except where a non-idempotent request's
        fate is unknown: that raises :class:`AmbiguousSendError`.
        """
        policy = self.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = await self._exchange(spec, attempt)
            except TransportError as exc:
                if not spec.idempotent and not exc.never_sent:
                    raise self._ambiguous(spec, exc) from exc
                delay = self._next_delay(policy, attempt, started, None)
                if delay is None:
                    raise
            else:
                if raw.status_code not in RETRY_STATUSES:
                    return raw
                retry_after = self._check_retryable(spec, raw, policy)
                delay = self._next_delay(policy, attempt, started, retry_after)
                if delay is None:
                    return raw
            await anyio.sleep(delay)

    def _check_retryable(
        self, spec: RequestSpec, raw: RawResponse, policy: RetryPolicy
    ) -> float | None:
        """Raise if a retryable status must not be retried; else Retry-After."""
        retry_after = retry_after_seconds(raw.headers)
        if (
            raw.status_code == 429  # noqa: PLR2004
            and retry_after is not None
            and retry_after > policy.max_retry_after
        ):
            raise error_from(raw, self.redact)
        if not spec.idempotent and raw.status_code not in REFUSED_STATUSES:
            error = error_from(raw, self.redact)
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
        """One HTTP exchange through the backend, within the in-flight limit."""
        if spec.json is not None:
            content: bytes | None = _json.dumps(spec.json)
            headers = self._json_headers
        else:
            content, headers = None, self._headers
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        async with self.limiter:
            raw = await self.backend.send(
                spec.method,
                self.base_url + spec.path,
                query=spec.query,
                headers=headers,
                content=content,
                files=spec.files,
                form=spec.form,
            )
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
