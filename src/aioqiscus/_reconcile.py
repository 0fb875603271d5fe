"""Exactly-once comment sends: markers, grace wait, look-up, one resend.

A comment send whose fate is unknown (a timeout, a dropped connection, a
500/502/504 after the request left) is never retried blindly: each send
carries a client-minted marker (v2 ``unique_temp_id``, v2.1 also an
``extras`` key), and :class:`Reconciler` settles an ambiguous send by
waiting for a still-working server, looking for the marker among the room's
recent comments, and resending once, with the same marker, only if it is
absent. Anything it cannot settle is an :class:`AmbiguousSendError` that
carries the marker.

Strictly private: :class:`~aioqiscus.QiscusClient` owns one and makes the
first attempt itself (the hot path spends no extra coroutine here); the
rest of the policy lives in this module alone.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Literal

import anyio
import attrs

from .backends import Backend
from .errors import AmbiguousSendError, QiscusError, RequestTimeoutError
from .models import Comment

__all__ = ["RECONCILE_WINDOW", "AmbiguousPolicy", "Reconciler", "default_delay"]

logger = logging.getLogger("aioqiscus")

#: How many recent comments a reconciliation looks through for its marker.
RECONCILE_WINDOW = 100
#: What to do with an ambiguous send: settle it here, or raise at once.
AmbiguousPolicy = Literal["reconcile", "raise"]


def default_delay(backend: Backend) -> float:
    """The backend's read timeout, as the default grace wait (else 5 s)."""
    timeout = getattr(backend, "timeout", None)
    read = getattr(timeout, "read", None)
    return float(read) if isinstance(read, int | float) else 5.0


def _counter() -> Iterator[int]:
    return itertools.count(1)


def _prefix() -> str:
    return secrets.token_hex(8)


@attrs.define
class Reconciler:
    """Mint send markers and settle sends whose fate is unknown.

    Attributes:
        delay: After a timeout, seconds to wait before looking for the send,
            so a server still working on it can finish storing it.
    """

    delay: float
    _prefix: str = attrs.field(factory=_prefix)
    _count: Iterator[int] = attrs.field(factory=_counter)

    def marker(self) -> str:
        """A unique send marker: a random per-client prefix and a counter.

        Cheaper than a uuid4 per send (no system call on the hot path) and as
        unique: 64 random bits tell clients apart, the counter sends.
        """
        return f"aioqiscus-{self._prefix}-{next(self._count)}"

    async def settle(
        self,
        first: AmbiguousSendError,
        *,
        policy: AmbiguousPolicy,
        room_id: str,
        marker: str,
        resend: Callable[[], Awaitable[Comment]],
        find: Callable[[], Awaitable[Comment | None]],
    ) -> Comment:
        """Settle a send that failed with *first*: the comment, or raise.

        With *policy* ``"reconcile"``: wait the grace delay (after a timeout
        only), look for *marker* with *find* and, if it is absent, call
        *resend* once; an ambiguous resend is settled the same way, without
        a second resend.

        Raises:
            AmbiguousSendError: *policy* is ``"raise"``, the send is still
                unsettled, or the look-up failed; ``marker`` says what to look
                for later.
        """
        if policy == "raise":
            raise AmbiguousSendError(str(first), marker=marker) from first
        failure: QiscusError = first
        for may_resend in (True, False):
            await self._grace(failure)
            found = await self._look_up(find, room_id, marker, failure)
            if found is not None:
                return found
            if not may_resend:
                break
            logger.info(
                "send %s not found after an ambiguous failure; resending", marker
            )
            try:
                return await resend()
            except AmbiguousSendError as again:
                failure = again
        msg = (
            f"post_comment to room {room_id} could not be confirmed after a resend; "
            f"look for unique_temp_id {marker!r} before sending again"
        )
        raise AmbiguousSendError(msg, marker=marker) from failure

    async def _grace(self, failure: QiscusError) -> None:
        """After a timeout, give a still-working server time to finish.

        A server that stores the comment after we stopped waiting would
        otherwise be missed by the look-up, and the resend would duplicate it.
        """
        if isinstance(failure.__cause__, RequestTimeoutError):
            await anyio.sleep(self.delay)

    @staticmethod
    async def _look_up(
        find: Callable[[], Awaitable[Comment | None]],
        room_id: str,
        marker: str,
        failure: QiscusError,
    ) -> Comment | None:
        """The comment carrying *marker*, or None if absent."""
        try:
            return await find()
        except QiscusError as exc:
            msg = (
                f"post_comment to room {room_id} may or may not have landed, and "
                f"looking for it failed ({exc}); look for unique_temp_id {marker!r}"
            )
            raise AmbiguousSendError(msg, marker=marker) from failure
