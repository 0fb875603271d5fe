"""The exceptions aioqiscus raises.

Every exception derives from :class:`QiscusError`::

    QiscusError
     +-- InvalidArgumentError (also a ValueError; raised before any request)
     +-- TransportError (the request did not complete: connect/read failure)
     |    +-- RequestTimeoutError (a timeout, or the attempt's overall deadline)
     |    +-- ResponseTooLargeError (also a ResponseShapeError; over the size limit)
     +-- APIError (the server answered with an error status)
     |    +-- BadRequestError (400, 422: validation)
     |    +-- AuthenticationError (401, 403)
     |    +-- NotFoundError (404)
     |    +-- RateLimitError (429; carries retry_after)
     |    +-- ServerError (5xx)
     +-- ResponseShapeError (not JSON, not an envelope, missing or mistyped fields)
     +-- UnsupportedOperationError (the dialect in use cannot serve the call)
     +-- NegotiationError (the dialect could not be determined)
     |    +-- NegotiationTransportError (also a TransportError: the probe got no answer)
     |         +-- NegotiationTimeoutError (also a RequestTimeoutError)
     +-- AmbiguousSendError (a send may or may not have landed)
     +-- RateLimitedError (our own rate limit had no token in time; nothing sent)
     +-- StoreError (a shared store, Redis, failed: catch it for "Redis is down")
     |    +-- RateLimitStoreError (the shared rate limit's store; nothing sent)
     |    +-- aioqiscus.stores' errors (dedupe and conversation stores)
     +-- BackupFailedError (an export or import reported failure)
     +-- BackupTimeoutError (also a TimeoutError; waiting took too long)
     +-- ClientClosedError (also a RuntimeError; the client was used after aclose)
     +-- EventLoopError (also a RuntimeError; used from a loop it cannot serve)

httpx and cattrs exceptions never escape: they are mapped here and chained as
``__cause__``. Every error is a value: it survives ``pickle`` and
``copy`` with its attributes (a worker process can raise one), and its
message and attributes never hold a registered secret key (they are
scrubbed when the error is built).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._redaction import clip, scrub

if TYPE_CHECKING:
    from ._wire import Dialect, Operation

__all__ = [
    "APIError",
    "AmbiguousSendError",
    "AuthenticationError",
    "BackupFailedError",
    "BackupTimeoutError",
    "BadRequestError",
    "ClientClosedError",
    "EventLoopError",
    "InvalidArgumentError",
    "NegotiationError",
    "NegotiationTimeoutError",
    "NegotiationTransportError",
    "NotFoundError",
    "QiscusError",
    "RateLimitError",
    "RateLimitStoreError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ResponseShapeError",
    "ResponseTooLargeError",
    "ServerError",
    "StoreError",
    "TransportError",
    "UnsupportedOperationError",
]

#: How much of an error body we keep, in characters.
BODY_LIMIT = 2048

_SENSITIVE = re.compile(
    r'("(?:token|password|secret|secret_key|authentication_token|rtKey)"\s*:\s*)'
    r'"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)


def scrub_body(body: str) -> str:
    """Blank out credential-like JSON values and secrets, then truncate *body*.

    Masking comes first, so a secret cut in two by the limit leaves no
    prefix behind. Strictly private to aioqiscus; exposed for the transport.
    """
    return clip(_SENSITIVE.sub(r'\1"***"', body), BODY_LIMIT)


def _rebuild(
    cls: type[QiscusError], args: tuple[Any, ...], state: dict[str, Any]
) -> Any:
    """Recreate an error from its args and attributes, without its __init__."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class QiscusError(Exception):
    """Base class of every exception raised by aioqiscus.

    String arguments are scrubbed of registered secret keys. Subclasses
    with their own ``__init__`` pickle and copy through :meth:`__reduce__`,
    which restores ``args`` and attributes without calling ``__init__``.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class InvalidArgumentError(QiscusError, ValueError):
    """An argument was invalid; raised before any request is sent."""


class TransportError(QiscusError):
    """The HTTP exchange failed before a complete response arrived.

    Attributes:
        never_sent: Whether the request provably never reached the server
            (connection refused, pool exhausted), so repeating it is safe.
    """

    never_sent: bool = False


class RequestTimeoutError(TransportError):
    """A connect, read, write or pool timeout, or the attempt's deadline, expired."""


class APIError(QiscusError):
    """The server answered with an error status.

    Attributes:
        status_code: The HTTP status.
        message: The envelope's ``error.message`` (or a summary of the body).
        detailed_messages: The envelope's ``error.detailed_messages``.
        body: The response body, truncated and with credentials scrubbed.
        request_id: The ``X-Request-Id`` header, when the server sent one.
        from_envelope: Whether the body was a Qiscus JSON envelope (and not,
            say, a proxy's HTML page).
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        detailed_messages: Sequence[str] = (),
        body: str = "",
        request_id: str | None = None,
        from_envelope: bool = False,
    ) -> None:
        self.status_code = status_code
        self.from_envelope = from_envelope
        self.message = message = scrub(message)
        self.detailed_messages = tuple(scrub(d) for d in detailed_messages)
        self.body = scrub(body)
        self.request_id = request_id
        text = f"{status_code}: {message}"
        if self.detailed_messages:
            text += " (" + "; ".join(self.detailed_messages) + ")"
        super().__init__(text)


class BadRequestError(APIError):
    """400/422: the server rejected the parameters."""


class AuthenticationError(APIError):
    """401/403: the app id or secret key was refused."""


class NotFoundError(APIError):
    """404: the endpoint, user or room does not exist."""


class RateLimitError(APIError):
    """429: the server said too many requests.

    Not to be confused with :class:`RateLimitedError`, raised by the
    client's own rate limit before anything is sent.

    Attributes:
        retry_after: Seconds the server asked us to wait, if it said.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(status_code, message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


class ResponseShapeError(QiscusError):
    """The response was not the JSON shape the documents describe."""


class ResponseTooLargeError(TransportError, ResponseShapeError):
    """The response body, decoded, exceeded the client's ``max_response_bytes``.

    A :class:`TransportError` (a send it interrupts may have been processed,
    so it is reconciled like a dropped connection) that is never retried,
    and a :class:`ResponseShapeError` (no sensible answer is that large).

    Attributes:
        limit: The limit in bytes.
    """

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class UnsupportedOperationError(QiscusError):
    """The dialect in use cannot serve this operation.

    Attributes:
        operation: The operation asked for.
        dialect: The dialect that cannot serve it (``None`` if none can).
    """

    def __init__(
        self, operation: Operation, dialect: Dialect | None, alternative: str
    ) -> None:
        self.operation = operation
        self.dialect = dialect
        where = f"the {dialect} dialect" if dialect else "this server"
        super().__init__(f"{operation} is not served by {where}; {alternative}")


class NegotiationError(QiscusError):
    """The probe could not tell which dialect the server speaks.

    Failed probes are not cached: the next call probes again. When the
    probe got no answer at all, the error is a
    :class:`NegotiationTransportError`, which is also a
    :class:`TransportError`.
    """


class NegotiationTransportError(NegotiationError, TransportError):
    """The probe failed to reach the server (refused, reset, too large).

    Both kinds at once, so ``except TransportError`` sees a connection
    failure wherever it happens, first call included, and
    ``except NegotiationError`` still sees every failed negotiation.
    ``never_sent`` is the failed attempt's.
    """


class NegotiationTimeoutError(NegotiationTransportError, RequestTimeoutError):
    """The probe timed out: a :class:`RequestTimeoutError` too."""


class AmbiguousSendError(QiscusError):
    """A non-idempotent request may or may not have been processed.

    Attributes:
        marker: The client-generated idempotency marker (the comment's
            ``unique_temp_id``), for reconciliation, or ``None``.
        sent_at: When the send began (aware UTC), or ``None``: pass it as
            ``find_comment(room_id, marker, since=sent_at)`` to settle the
            send from another process.
    """

    def __init__(
        self,
        message: str,
        *,
        marker: str | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.marker = marker
        self.sent_at = sent_at


class RateLimitedError(QiscusError):
    """The client's own rate limit had no token in time; nothing was sent.

    Raised by a ``QiscusClient(rate_limit=...)`` when the next token of its
    :class:`~aioqiscus.TokenBucket` (or
    :class:`~aioqiscus.RedisTokenBucket`) is further away than the bucket's
    ``max_wait``; raised at once, without waiting in vain. Not to be
    confused with :class:`RateLimitError`, the server's 429.

    Attributes:
        wait: Seconds until the token would have come (at least), or
            ``None`` when unknown.
        max_wait: The bucket's bound, in seconds.
    """

    def __init__(
        self, message: str, *, wait: float | None = None, max_wait: float = 0.0
    ) -> None:
        super().__init__(message)
        self.wait = wait
        self.max_wait = max_wait


class StoreError(QiscusError):
    """A shared store (Redis) failed: a rate limit's bucket, dedupe, conversations.

    The base of :class:`RateLimitStoreError` and of the errors of
    :mod:`aioqiscus.stores`, so an application catches "Redis is down" once.
    """


class RateLimitStoreError(StoreError):
    """The store behind a shared rate limit (Redis) failed or timed out.

    The request was not sent. Raised within the store's socket timeouts,
    never after an unbounded wait: check that Redis is up and reachable.
    """


class BackupFailedError(QiscusError):
    """An export or import finished with status ``failed``.

    Attributes:
        backup: The failed :class:`~aioqiscus.models.Backup`.
    """

    def __init__(self, message: str, backup: Any) -> None:
        super().__init__(message)
        self.backup = backup


class BackupTimeoutError(QiscusError, TimeoutError):
    """Waiting for an export or import gave up before it finished.

    Attributes:
        backup: The last state seen, or ``None``.
    """

    def __init__(self, message: str, backup: Any) -> None:
        super().__init__(message)
        self.backup = backup


class ClientClosedError(QiscusError, RuntimeError):
    """The client was used after ``aclose()`` (or its HTTP client was closed)."""


class EventLoopError(QiscusError, RuntimeError):
    """The client was used from an event loop its connections cannot serve.

    A client opens connections per event loop, so one client serves
    successive ``asyncio.run`` calls, trio after asyncio, and loops running
    at once in several threads. An ``http_client``, aiohttp session or
    backend object you pass in is yours and belongs to the loop it first
    ran on: a call from any other loop raises this, every time, before any
    request. A :class:`~aioqiscus.SyncQiscusClient` called from inside a
    running event loop raises it too (a blocking call there would stall
    the loop).
    """
