"""Which dialect serves each operation: one probe per client, single-flight.

Holds :class:`Negotiator` (probe, routing of each operation to a dialect's
codec, learning from bare 404s), the pure :func:`classify_probe`, and the
:class:`NegotiationReport` users print.

What a bare 404 (one without a Qiscus envelope) teaches is held with care,
because a proxy or a deploy can answer one by accident:

- on the probe itself, v2 is concluded only when the v2.1 probe got a bare
  404 twice in a row and a v2 probe then answered with a Qiscus envelope;
  when neither dialect answers, nothing is cached (the next call probes
  again). A ``v2`` so concluded is probed again (at most once per
  :data:`RENEGOTIATE_INTERVAL`) when an operation only v2.1 serves is called;

- on a route borrowed from the other dialect (``search_messages`` under
  ``auto``), the dialect is taken as unserved only once bare 404s have kept
  coming for :data:`EVIDENCE_SECONDS` (two at least, no success between),
  and that lesson is forgotten after :data:`FORGET_AFTER`;
- on a route of the negotiated dialect itself, the server may have stopped
  serving it: the client probes again (at most once per
  :data:`RENEGOTIATE_INTERVAL`) and, if the dialect changed, makes the call
  again once.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import anyio
import attrs

from ._diagnose import NOT_QISCUS
from ._envelope import decode_json, error_from, is_envelope
from ._lifecycle import LIFECYCLE_ERRORS
from ._loops import running_loop
from ._transport import Transport
from ._wire import Dialect, Operation, RawResponse, RequestSpec
from .errors import (
    AuthenticationError,
    NegotiationError,
    NegotiationTimeoutError,
    NegotiationTransportError,
    NotFoundError,
    QiscusError,
    RequestTimeoutError,
    TransportError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .dialects import Codec

__all__ = ["NegotiationReport", "Negotiator", "OperationRoute"]

logger = logging.getLogger("aioqiscus")

#: A cheap read-only v2.1 request. Any Qiscus envelope in reply, even
#: "user not found", proves v2.1 is served.
PROBE = RequestSpec(
    "GET",
    f"{Dialect.V2_1.prefix}/user_profile",
    (("user_id", "aioqiscus-dialect-probe"),),
)

#: The v2 probe that confirms v2 after bare 404s on :data:`PROBE`.
V2_PROBE = RequestSpec(
    "GET",
    f"{Dialect.V2.prefix}/user_profile",
    (("user_email", "aioqiscus-dialect-probe"),),
)

#: Statuses that, without a Qiscus envelope, mean "no such route here".
_NO_ROUTE = frozenset({404, 405, 410})
#: Bare 404s on a borrowed dialect must keep coming this long (seconds;
#: two 404s at least) before the dialect is taken as unserved.
EVIDENCE_SECONDS = 1.0
#: How long a dialect taken as unserved stays so before it is tried again.
FORGET_AFTER = 600.0
#: The least time between two probes caused by bare 404s on the negotiated
#: dialect's own routes.
RENEGOTIATE_INTERVAL = 60.0


def _codecs() -> Mapping[Dialect, Codec]:
    """The dialects' codecs, imported with a client's first route.

    Not with the client: the dialects and their payload readers are a
    tenth of what ``import httpx`` costs, due only when a call is made
    (each route is cached, so this runs a few times per client).
    """
    from .dialects import CODECS  # noqa: PLC0415 - see above

    return CODECS


@attrs.frozen
class OperationRoute:
    """How one operation is served: dialect, HTTP verb and path.

    ``dialect`` is ``None`` (and verb/path empty) when no dialect the server
    speaks can serve it.
    """

    operation: Operation
    dialect: Dialect | None
    method: str
    path: str


@attrs.frozen
class NegotiationReport:
    """The outcome of negotiation: the dialect and the route per operation.

    ``str(report)`` is a table that migration code can print.
    """

    dialect: Dialect
    pinned: bool
    routes: tuple[OperationRoute, ...]

    def route(self, operation: Operation) -> OperationRoute:
        """The route of *operation*."""
        for found in self.routes:
            if found.operation is operation:
                return found
        raise KeyError(operation)  # pragma: no cover - every operation is listed

    def __str__(self) -> str:
        how = "pinned" if self.pinned else "negotiated"
        lines = [f"dialect: {self.dialect} ({how})"]
        width = max(len(str(r.operation)) for r in self.routes)
        for r in self.routes:
            where = (
                f"{r.dialect!s:<4} {r.method:<6} {r.path}"
                if r.dialect
                else "unsupported"
            )
            lines.append(f"  {r.operation!s:<{width}}  {where}")
        return "\n".join(lines)


def classify_probe(raw: RawResponse, base_url: str = "the base URL") -> Dialect:
    """Map the probe's response to a dialect, or raise (pure).

    *base_url* is named in the error when the answer is not Qiscus's.

    Raises:
        AuthenticationError: 401/403: the credentials were refused.
        NegotiationError: anything that does not say which dialect is served.
    """
    status = raw.status_code
    if status in (401, 403):
        raise error_from(raw)
    try:
        data = decode_json(raw)
    except QiscusError:
        data = None
    if is_envelope(data):
        if status < 500:  # noqa: PLR2004
            return Dialect.V2_1
    elif status in _NO_ROUTE:
        return Dialect.V2
    error = error_from(raw) if status >= 400 else None  # noqa: PLR2004
    if not is_envelope(data) and status < 500:  # noqa: PLR2004
        # HTML, plain text or another service's JSON, and not a gateway's
        # 5xx: the server itself is not Qiscus (or base_url is wrong).
        start = NOT_QISCUS.format(url=base_url)
        msg = (
            f"{start}: the probe {PROBE.method} {PROBE.path} got {status} "
            f"({error_from(raw).message}); check base_url"
        )
        raise NegotiationError(msg) from error
    msg = (
        f"could not tell the server's dialect: the probe got {status}; check "
        "base_url, or pin api_version='v2' or 'v2.1' (the next call probes again)"
    )
    if error is not None:
        msg += f" ({error.message})"
    raise NegotiationError(msg) from error


def _failed(message: str, cause: BaseException) -> NegotiationError:
    """The negotiation error for *cause*: a transport error stays one.

    A probe that got no answer raises a :class:`NegotiationTransportError`
    (a :class:`TransportError` too; a :class:`NegotiationTimeoutError` for
    a timeout), so ``except TransportError`` catches a refused connection on
    the first call as on any other.
    """
    if not isinstance(cause, TransportError):
        return NegotiationError(message)
    cls = (
        NegotiationTimeoutError
        if isinstance(cause, RequestTimeoutError)
        else NegotiationTransportError
    )
    error = cls(message)
    error.never_sent = cause.never_sent
    return error


def _event() -> anyio.Event:
    # anyio.Event looked up when a probe starts, not at import: the lookup
    # loads anyio's task machinery, a twentieth of the package's import.
    return anyio.Event()


@attrs.define
class _Attempt:
    done: anyio.Event = attrs.Factory(_event)
    error: BaseException | None = None


class Negotiator:
    """Decide, once per client, which dialect serves each operation.

    Pinned dialects skip the probe. In ``auto`` mode the first call probes;
    concurrent first callers wait for that single probe and share its
    outcome (per event loop: callers on loops running at the same time
    each probe once). A failed or cancelled probe is not cached: the next
    call probes again.

    Strictly private; the client owns one.
    """

    def __init__(self, transport: Transport, pinned: Dialect | None) -> None:
        self._transport = transport
        self._pinned = pinned
        #: The negotiated or pinned dialect, or None before negotiation (an
        #: attribute: read on every request, a property's call is not free).
        self.dialect = pinned
        #: The probe in flight on each event loop: an anyio event belongs to
        #: one loop, so callers on another loop probe on their own.
        self._inflight: dict[object, _Attempt] = {}
        #: Dialects taken as unserved, with when it was learned.
        self._unserved: dict[Dialect, float] = {}
        #: When the current run of bare 404s on a borrowed dialect began.
        self._strikes: dict[Dialect, float] = {}
        self._renegotiated = -RENEGOTIATE_INTERVAL
        self._routes: dict[tuple[Operation, Dialect], Codec] = {}
        #: The v2.1 verb each operation with two was answered to, once known
        #: (``get_or_create_channel``: the documented GET or the Go SDK's POST).
        self._verbs: dict[Operation, str] = {}

    @property
    def pinned(self) -> bool:
        """Whether the dialect was pinned (``api_version`` not ``"auto"``)."""
        return self._pinned is not None

    async def resolve(self, transport: Transport | None = None) -> Dialect:
        """The server's dialect, probing once if needed.

        A probe goes through *transport* (the calling view's, with its
        timeout), else the client's own.
        """
        while self.dialect is None:
            loop = running_loop()
            attempt = self._inflight.get(loop)
            if attempt is None:
                await self._lead(loop, transport or self._transport)
            else:
                await attempt.done.wait()
                error = attempt.error
                if isinstance(error, LIFECYCLE_ERRORS):
                    raise type(error)(str(error)) from error
                if isinstance(error, AuthenticationError):
                    raise AuthenticationError(
                        error.status_code,
                        error.message,
                        detailed_messages=error.detailed_messages,
                        body=error.body,
                        request_id=error.request_id,
                        from_envelope=error.from_envelope,
                    ) from error
                if error is not None:
                    raise _failed(f"negotiation failed: {error}", error) from error
                # A cancelled leader leaves no result and no error: go again.
        return self.dialect

    async def _lead(self, loop: object, transport: Transport) -> None:
        attempt = self._inflight[loop] = _Attempt()
        try:
            raw = await transport.send(PROBE, "negotiate", Dialect.V2_1)
            dialect = classify_probe(raw, transport.base_url)
            if dialect is Dialect.V2:
                dialect = await self._confirm_v2(transport)
        except (AuthenticationError, *LIFECYCLE_ERRORS) as exc:
            # Not a probe's answer: the caller's own problem, said as it is.
            attempt.error = exc
            raise
        except QiscusError as exc:
            attempt.error = exc
            if isinstance(exc, NegotiationError):
                raise
            msg = f"could not tell the server's dialect: {exc}"
            error = attempt.error = _failed(msg, exc)
            raise error from exc
        else:
            self.dialect = dialect
            logger.info("negotiated Qiscus API dialect %s", dialect)
        finally:
            del self._inflight[loop]
            attempt.done.set()

    async def _confirm_v2(self, transport: Transport) -> Dialect:
        """After a bare 404 on the probe: v2.1 again, then v2 itself.

        A gateway's hiccup answers one bare 404 as readily as a v2-only
        server does; taking it as v2 would lose every v2.1-only operation
        on a server that serves both.
        """
        send = transport.send
        raw = await send(PROBE, "negotiate", Dialect.V2_1)
        if classify_probe(raw, transport.base_url) is Dialect.V2_1:
            return Dialect.V2_1
        raw = await send(V2_PROBE, "negotiate", Dialect.V2)
        if raw.status_code in (401, 403):
            raise error_from(raw)
        try:
            data = decode_json(raw)
        except QiscusError:
            data = None
        if is_envelope(data) and raw.status_code < 500:  # noqa: PLR2004
            return Dialect.V2
        start = NOT_QISCUS.format(url=transport.base_url)
        msg = (
            f"{start}: neither v2.1 nor v2 answered the probe with a Qiscus "
            f"envelope (v2 got {raw.status_code}); check base_url, or pin "
            "api_version (the next call probes again)"
        )
        raise NegotiationError(msg)

    async def reroute(
        self, operation: Operation, dialect: Dialect, error: UnsupportedOperationError
    ) -> Codec:
        """*operation* needs v2.1 but v2 was negotiated: probe again, once.

        v2 is concluded from bare 404s, which a gateway can answer by
        accident: before refusing an operation only v2.1 serves, the client
        probes again (at most once per :data:`RENEGOTIATE_INTERVAL`).

        Raises:
            UnsupportedOperationError: *error*, if the server still is v2.
        """
        if (
            self._pinned is not None
            or dialect is not Dialect.V2
            or operation not in _codecs()[Dialect.V2_1].ROUTES
        ):
            raise error
        if self.dialect is dialect:
            # Not probed again since: probe, unless it was done lately.
            now = time.monotonic()
            if now - self._renegotiated < RENEGOTIATE_INTERVAL:
                raise error
            self._renegotiated = now
            logger.info("%s needs v2.1: probing the server again", operation)
            self.dialect = None
            self._routes.clear()
        # Else another call is probing (or has): share its outcome.
        again = await self.resolve()
        if again is dialect:
            raise error
        return self.codec_for(operation, again)

    def codec_for(self, operation: Operation, dialect: Dialect) -> Codec:
        """The codec that serves *operation* when the server speaks *dialect*.

        v2.1 is preferred; in ``auto`` mode an operation only v2 serves is
        routed to v2 (Qiscus servers that speak v2.1 also speak v2).

        Raises:
            UnsupportedOperationError: before any request is sent.
        """
        key = (operation, dialect)
        cached = self._routes.get(key)
        if cached is not None:
            return cached
        codec = self._route(operation, dialect)
        self._routes[key] = codec
        return codec

    def _route(self, operation: Operation, dialect: Dialect) -> Codec:
        codecs = _codecs()
        codec = codecs[dialect]
        if operation in codec.ROUTES:
            return codec
        if (
            self._pinned is None
            and dialect is Dialect.V2_1
            and self._served(Dialect.V2)
        ):
            fallback = codecs[Dialect.V2]
            if operation in fallback.ROUTES:
                return fallback
        other = Dialect.V2 if dialect is Dialect.V2_1 else Dialect.V2_1
        if operation in codecs[other].ROUTES:
            if self._pinned is not None and self._served(other):
                hint = f"it needs {other}: use api_version='{other}' or 'auto'"
            else:
                hint = f"it needs {other}, which this server does not serve"
        else:
            hint = "no dialect serves it"
        raise UnsupportedOperationError(operation, dialect, hint)

    def _served(self, dialect: Dialect) -> bool:
        """Whether *dialect* may be served: not learned otherwise, or forgotten."""
        learned = self._unserved.get(dialect)
        if learned is None:
            return True
        if time.monotonic() - learned < FORGET_AFTER:
            return False
        del self._unserved[dialect]
        logger.info("trying the %s dialect again", dialect)
        return True

    def answered(self, dialect: Dialect) -> None:
        """A borrowed route of *dialect* answered: forget any bare 404s."""
        self._strikes.pop(dialect, None)

    async def after_not_found(
        self,
        operation: Operation,
        codec: Codec,
        dialect: Dialect,
        error: NotFoundError,
    ) -> bool:
        """Learn from a 404 answered to *operation*; True to make the call again.

        A 404 with a Qiscus envelope is the caller's (no such user or room).
        A bare 404 on a route borrowed from the other dialect counts towards
        refusing that dialect (see the module docstring); a bare 404 on the
        negotiated dialect's own route makes the client probe again, and
        the call is made again if the server now speaks another dialect.

        Raises:
            UnsupportedOperationError: the borrowed dialect is now taken as
                unserved.
            NegotiationError: the new probe could not tell the dialect.
        """
        borrowed = codec.DIALECT
        if error.from_envelope:
            self._strikes.pop(borrowed, None)
            return False
        if borrowed is not dialect:
            refusal = self._borrowed_missing(operation, borrowed, dialect)
            if refusal is not None:
                raise refusal from error
            return False
        if self._pinned is not None:
            return False
        if self.dialect is not None and self.dialect is not dialect:
            return True  # another call renegotiated meanwhile
        now = time.monotonic()
        if now - self._renegotiated < RENEGOTIATE_INTERVAL:
            return False
        self._renegotiated = now
        if self.dialect is dialect:
            logger.info(
                "%s answered a bare 404 on %s: probing again", dialect, operation
            )
            self.dialect = None
            self._routes.clear()
        return await self.resolve() is not dialect

    def _borrowed_missing(
        self, operation: Operation, borrowed: Dialect, dialect: Dialect
    ) -> UnsupportedOperationError | None:
        now = time.monotonic()
        first = self._strikes.get(borrowed)
        if first is None:
            self._strikes[borrowed] = now
            return None
        if now - first < EVIDENCE_SECONDS:
            return None
        del self._strikes[borrowed]
        self._unserved[borrowed] = now
        self._routes.clear()
        logger.info("this server does not serve the %s dialect", borrowed)
        hint = f"this server does not serve {borrowed}"
        return UnsupportedOperationError(operation, dialect, hint)

    def verb(self, operation: Operation) -> str | None:
        """The verb *operation* was answered to, or ``None`` before one was."""
        return self._verbs.get(operation)

    def learn_verb(self, operation: Operation, verb: str) -> None:
        """Keep *verb* for *operation* on v2.1, for later calls and the report."""
        self._verbs[operation] = verb

    def report(self) -> NegotiationReport:
        """Per operation, the dialect, verb and path that will be used."""
        dialect = self.dialect
        if dialect is None:
            msg = "not negotiated yet: await client.negotiate() first"
            raise NegotiationError(msg)
        routes = []
        for op in Operation:
            try:
                codec = self.codec_for(op, dialect)
            except UnsupportedOperationError:
                routes.append(OperationRoute(op, None, "", ""))
                continue
            route = codec.ROUTES[op]
            method = route.method
            if codec.DIALECT is Dialect.V2_1:
                method = self._verbs.get(op, method)
            routes.append(OperationRoute(op, codec.DIALECT, method, route.path))
        return NegotiationReport(dialect, self._pinned is not None, tuple(routes))
