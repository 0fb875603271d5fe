"""Retry policy: which failures to retry, and how long to wait (pure).

Holds :class:`RetryPolicy` (backoff with jitter), the retryable statuses,
``Retry-After`` parsing and the process-wide :func:`set_testing` switch.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime

import attrs

__all__ = ["RetryPolicy", "set_testing"]

#: Statuses worth retrying for idempotent requests.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses that mean the server refused the request before processing it,
#: so even a non-idempotent send may be repeated safely.
REFUSED_STATUSES = frozenset({408, 429, 503})

_testing = False
#: In testing mode, the grace wait of clients given no ``reconcile_delay``.
_testing_grace = 0.0


def set_testing(enabled: bool, *, reconcile_delay: float = 0.0) -> None:
    """Turn backoff sleeps off (``True``) for fast tests, or back on.

    Retries still happen, so tests prove retry behaviour without waiting.
    In testing mode, a send whose fate is unknown is looked up after
    *reconcile_delay* seconds (at once by default) instead of the read
    timeout, on every client created without a ``reconcile_delay`` of its
    own; a client given one keeps it.

    Raises:
        ValueError: *reconcile_delay* is negative.
    """
    global _testing, _testing_grace  # noqa: PLW0603 - a process-wide switch, like stamina's
    if reconcile_delay < 0:
        msg = f"reconcile_delay must be >= 0, got {reconcile_delay!r}"
        raise ValueError(msg)
    _testing = enabled
    _testing_grace = float(reconcile_delay)


def is_testing() -> bool:
    """Whether :func:`set_testing` turned sleeps off."""
    return _testing


def testing_grace() -> float | None:
    """The grace wait :func:`set_testing` set, or ``None`` when not testing."""
    return _testing_grace if _testing else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date) into seconds, or None."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # noqa: PLC0415 - rare path

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        msg = f"{attribute.name} must be >= 0, got {value!r}"
        raise ValueError(msg)


@attrs.frozen
class RetryPolicy:
    """How the transport retries failed requests.

    Defaults follow widely used API clients: two retries, exponential backoff
    from 0.5 s capped at 8 s with jitter, and ``Retry-After`` honoured up to a
    cap. Idempotent requests are retried on connect errors, timeouts, 408,
    429 and 5xx; non-idempotent sends only when the request provably never
    reached the server (connect errors, pool timeouts) or the server refused
    it before processing (408, 429, 503).

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_backoff: Seconds before the first retry.
        max_backoff: Cap on a single backoff sleep.
        jitter: Fraction of the backoff randomised (0 gives exact sleeps).
        max_retry_after: The longest ``Retry-After`` we wait for; a longer
            one raises :class:`~aioqiscus.errors.RateLimitError` at once.
        deadline: Seconds a call may spend over all its attempts, or None.
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    initial_backoff: float = attrs.field(default=0.5, validator=_non_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: float = attrs.field(
        default=0.25, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative)
    deadline: float | None = 120.0

    def backoff(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number *retry* (1-based)."""
        if _testing:
            return 0.0
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        base: float = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry - 1))
        if self.jitter:
            base *= 1 - self.jitter * random.random()  # noqa: S311 - not crypto
        return base
