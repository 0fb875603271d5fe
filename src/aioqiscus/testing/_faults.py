"""Fault injection rules for the fake server (seeded, deterministic)."""

from __future__ import annotations

import random
from collections.abc import Iterable

import attrs

__all__ = ["Fault", "FaultRule"]

_MALFORMED = frozenset({"html", "truncated", "wrong_types", "empty", "not_envelope"})


@attrs.frozen
class Fault:
    """What goes wrong. Build one with the class methods.

    Attributes:
        kind: ``status``, ``delay``, ``malformed`` or ``drop``.
        status_code: The status a ``status`` fault answers.
        retry_after: The ``Retry-After`` header value, if any.
        seconds: How long a ``delay`` fault waits before processing.
        body: Which malformed body: ``html``, ``truncated``, ``wrong_types``,
            ``empty`` or ``not_envelope``.
    """

    kind: str
    status_code: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    body: str = "html"

    @classmethod
    def status(cls, code: int, *, retry_after: float | str | None = None) -> Fault:
        """Answer *code* without processing the request (500/502/503/504/429...)."""
        after = None if retry_after is None else str(retry_after)
        return cls("status", status_code=code, retry_after=after)

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
