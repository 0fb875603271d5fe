"""Fault injection rules for the fake server (seeded, deterministic).

Besides refusals and malformed answers, the faults model what makes a send's
fate unknown: a connection dropped after the request was processed
(:meth:`Fault.drop`), a gateway answering an error after its upstream stored
the request (``Fault.status(504, processed=True)``), and a gateway answering
(or dropping) at once while its upstream stores the request a moment later
(:meth:`Fault.lagging`). A :class:`RateRule` plays a server that enforces
a request rate per app.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

import attrs

__all__ = ["Fault", "FaultRule", "RateRule"]

_MALFORMED = frozenset({"html", "truncated", "wrong_types", "empty", "not_envelope"})


@attrs.frozen
class Fault:
    """What goes wrong. Build one with the class methods.

    Attributes:
        kind: ``status``, ``delay``, ``malformed``, ``drop`` or ``lagging``.
        status_code: The status a ``status`` or ``lagging`` fault answers
            (``0``: a ``lagging`` fault drops the connection instead).
        retry_after: The ``Retry-After`` header value, if any.
        seconds: How long a ``delay`` fault waits before processing, or a
            ``lagging`` fault after answering.
        body: Which malformed body: ``html``, ``truncated``, ``wrong_types``,
            ``empty`` or ``not_envelope``.
        processed: Whether a ``status`` fault processes the request before
            answering its status.
    """

    kind: str
    status_code: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    body: str = "html"
    processed: bool = False

    @classmethod
    def status(
        cls,
        code: int,
        *,
        retry_after: float | str | None = None,
        processed: bool = False,
    ) -> Fault:
        """Answer *code* (500/502/503/504/429...) without processing the request.

        With *processed*, the request is processed first (a comment is
        stored) and *code* answered anyway: a gateway that gave up on an
        upstream that succeeded.
        """
        after = None if retry_after is None else str(retry_after)
        return cls("status", status_code=code, retry_after=after, processed=processed)

    @classmethod
    def rate_limited(cls, retry_after: float | str = 0) -> Fault:
        """Answer 429 with ``Retry-After`` without processing the request."""
        return cls.status(429, retry_after=retry_after)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait *seconds*, then process and answer normally."""
        if seconds < 0:
            msg = "seconds must be >= 0"
            raise ValueError(msg)
        return cls("delay", seconds=seconds)

    @classmethod
    def malformed(cls, body: str = "html") -> Fault:
        """Answer 200 with a malformed body without processing the request."""
        if body not in _MALFORMED:
            msg = f"body must be one of {sorted(_MALFORMED)}"
            raise ValueError(msg)
        return cls("malformed", body=body)

    @classmethod
    def drop(cls) -> Fault:
        """Process the request, then drop the connection before the answer.

        Over a socket the client sees the connection close mid-response; with
        :meth:`FakeQiscus.transport` in-process it sees ``httpx.ReadError``.
        """
        return cls("drop")

    @classmethod
    def lagging(cls, seconds: float, *, status: int | None = 504) -> Fault:
        """Answer *status* at once (``None``: drop the connection), process later.

        The request is processed *seconds* after the answer: a gateway that
        timed out (504) or lost the connection while its upstream, still
        working, stores the comment a moment later. The late processing runs
        as an asyncio task of the server's event loop.
        """
        if seconds < 0:
            msg = "seconds must be >= 0"
            raise ValueError(msg)
        return cls("lagging", status_code=status or 0, seconds=seconds)


@attrs.define
class FaultRule:
    """A fault applied to matching requests.

    Attributes:
        fault: What happens.
        endpoints: Endpoint names it applies to (``create_room``); empty for all.
        dialects: ``v2``/``v2.1`` it applies to; empty for both.
        probability: Chance that a matching request is hit.
        times: How many more requests it hits; ``None`` for no limit.
        hits: How many requests it has hit.
    """

    fault: Fault
    endpoints: frozenset[str] = frozenset()
    dialects: frozenset[str] = frozenset()
    probability: float = 1.0
    times: int | None = None
    hits: int = 0

    def matches(self, endpoint: str, dialect: str) -> bool:
        """Whether the rule covers a request to *endpoint* in *dialect*."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.endpoints and endpoint not in self.endpoints:
            return False
        return not self.dialects or dialect in self.dialects


def pick(
    rules: Iterable[FaultRule], endpoint: str, dialect: str, rng: random.Random
) -> Fault | None:
    """The fault for this request, if a matching rule fires (first wins)."""
    for rule in rules:
        if not rule.matches(endpoint, dialect):
            continue
        if rule.probability < 1.0 and rng.random() >= rule.probability:
            continue
        rule.hits += 1
        return rule.fault
    return None


@attrs.define
class RateRule:
    """A request rate the fake enforces per app: GCRA, without queueing.

    A request within the rate is served; one beyond it is answered 429
    with ``Retry-After`` and counts for nothing.

    Attributes:
        per_second: Requests per second allowed per app id.
        burst: Requests allowed at once after a quiet spell.
        retry_after: The ``Retry-After`` answered (seconds); ``None`` for
            the time until a request would be allowed, to the millisecond.
    """

    per_second: float
    burst: int = 1
    retry_after: float | None = None
    _next: dict[str, float] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            msg = f"per_second must be finite and > 0, got {self.per_second!r}"
            raise ValueError(msg)
        if self.burst < 1:
            msg = f"burst must be >= 1, got {self.burst!r}"
            raise ValueError(msg)
        if self.retry_after is not None and self.retry_after < 0:
            msg = f"retry_after must be >= 0, got {self.retry_after!r}"
            raise ValueError(msg)

    def refuse(self, app: str, now: float) -> Fault | None:
        """The 429 for a request of *app* arriving at *now*, or None to serve it."""
        interval = 1.0 / self.per_second
        slot = max(self._next.get(app, -math.inf), now - (self.burst - 1) * interval)
        if slot <= now:
            self._next[app] = slot + interval
            return None
        after = slot - now if self.retry_after is None else self.retry_after
        return Fault.rate_limited(f"{after:.3f}".rstrip("0").rstrip("."))
