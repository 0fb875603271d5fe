"""The only module that performs HTTP: httpx in, :class:`RawResponse` out."""

from __future__ import annotations

import logging
import time
from typing import TypeVar

import anyio
import httpx

from ._retry import REFUSED_STATUSES, RETRY_STATUSES, RetryPolicy
from ._wire import Call, RawResponse, RequestSpec
from .dialects import _common
from .errors import (
    AmbiguousSendError,
    QiscusError,
    RequestTimeoutError,
    TransportError,
)

T = TypeVar("T")

logger = logging.getLogger("aioqiscus")

DEFAULT_BASE_URL = "https://api.qiscus.com"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# The request provably never reached the server: safe to retry any request.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Transport:
    """Send :class:`RequestSpec` values over an ``httpx.AsyncClient``.

    Adds the credential headers, applies the retry policy and maps httpx
    failures to :mod:`aioqiscus.errors`. It reads nothing of a response but
    its status and, through :func:`~aioqiscus.dialects._common.decipher`, the
    envelope.

    Strictly private; :class:`~aioqiscus.QiscusClient` owns one.
    """

    def __init__(
        self,
        *,
        app_id: str,
        secret_key: str,
        base_url: str,
        http_client: httpx.AsyncClient | None,
        timeout: float | httpx.Timeout,
        retry: RetryPolicy,
    ) -> None:
        self._secret = secret_key
        # v2.1 documents dashes, v2 and every SDK underscores: send both.
        self._headers = {
            "QISCUS-SDK-APP-ID": app_id,
            "QISCUS-SDK-SECRET": secret_key,
            "QISCUS_SDK_APP_ID": app_id,
            "QISCUS_SDK_SECRET": secret_key,
        }
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            timeout=timeout, follow_redirects=False
        )
        self._timeout = timeout if http_client is None else None

    def redact(self, text: str) -> str:
        """Remove the secret key from *text*."""
        if self._secret and self._secret in text:
            return text.replace(self._secret, "***")
        return text

    async def aclose(self) -> None:
        """Close the httpx client if we created it."""
        if self._owns_client:
            await self._client.aclose()

    async def call(self, call: Call[T], *, retry: RetryPolicy | None = None) -> T:
        """Send *call*'s request and parse its ``results``."""
        raw = await self.send(call.request, retry=retry)
        results = _common.decipher(raw, self.redact)
        return _common.structure(call.parse, results, str(call.operation))

    async def send(
        self, spec: RequestSpec, *, retry: RetryPolicy | None = None
    ) -> RawResponse:
        """Send *spec*, retrying per the policy; return the final response.

        Error statuses are returned, not raised, once retries are exhausted
        (the caller deciphers them), except where a non-idempotent request's
        fate is unknown: that raises :class:`AmbiguousSendError`.
        """
        policy = retry or self.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = await self._exchange(spec, attempt)
            except QiscusError as exc:
                if not spec.idempotent and not isinstance(exc.__cause__, _NEVER_SENT):
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
        retry_after = _common.retry_after_seconds(raw.headers)
        if (
            raw.status_code == 429  # noqa: PLR2004
            and retry_after is not None
            and retry_after > policy.max_retry_after
        ):
            raise _common.error_from(raw, self.redact)
        if not spec.idempotent and raw.status_code not in REFUSED_STATUSES:
            error = _common.error_from(raw, self.redact)
            raise self._ambiguous(spec, error) from error
        return retry_after

    @staticmethod
    def _ambiguous(spec: RequestSpec, error: QiscusError) -> AmbiguousSendError:
        msg = f"{spec.method} {spec.path} may or may not have been processed: {error}"
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
        """One HTTP exchange; httpx errors mapped to ours."""
        url = self.base_url + spec.path
        started = time.perf_counter()
        try:
            response = await self._client.request(
                spec.method,
                url,
                params=spec.query or None,
                json=spec.json,
                data=spec.form,
                files=spec.files,
                headers=self._headers,
            )
        except httpx.TimeoutException as exc:
            msg = f"{type(exc).__name__} on {spec.method} {spec.path}"
            raise RequestTimeoutError(msg) from exc
        except httpx.HTTPError as exc:
            msg = (
                f"{type(exc).__name__} on {spec.method} {spec.path}: "
                f"{self.redact(str(exc))}"
            )
            raise TransportError(msg) from exc
        raw = RawResponse(response.status_code, response.headers, response.content)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (attempt %d, %.1f ms)",
                spec.method,
                spec.path,
                raw.status_code,
                attempt,
                (time.perf_counter() - started) * 1000,
            )
        return raw
