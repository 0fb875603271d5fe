"""Exactly-once comment sends: markers, grace wait, look-up, one resend.

A comment send whose fate is unknown (a timeout, a dropped connection, a
500/502/504 after the request left) is never retried blindly. Each send
carries a client-minted marker (v2 ``unique_temp_id``; v2.1 also an
``extras`` key unless the client is told otherwise) that holds its mint
time, and :class:`Reconciler` settles an ambiguous send in three steps:

1. **Grace.** Wait :attr:`Reconciler.delay` (by default the read timeout;
   none in testing mode) after *every* ambiguous outcome, so a server or a
   gateway's upstream still working on the send can store it before we look.
2. **Look-up bounded by time, not by count.** Walk the room's history
   (``load_comments``, newest first, :data:`LOOKUP_PAGE` a page) until the
   marker is found, the history ends, or a page reaches comments stamped
   more than :data:`CLOCK_SKEW` before the send began *on the server's
   clock*: :class:`ServerClock` measures it from the ``Date`` header of the
   look-up's own answers and the newest stamps they carry, so a server
   clock minutes off the client's neither ends a look-up early nor makes
   it read the whole history. Comment ids order the walk: a page must
   reach ids older than every page before it, or the server is taken as
   ignoring ``page`` (:data:`STALLED_PAGES`). However many comments landed
   after the send, it is found; the walk is bounded by
   :data:`MAX_LOOKUP_PAGES` requests and :data:`MAX_LOOKUP_SECONDS`.
3. **One resend**, with the same marker, only if the look-up proved it
   absent (and, with :attr:`Reconciler.recheck`, a second look-up that
   long later proved it absent again); an ambiguous resend is settled the
   same way, without a second resend.

Anything it cannot settle is an :class:`AmbiguousSendError` carrying the
marker and the send's start time. :meth:`Reconciler.search` is also what
``QiscusClient.find_comment`` runs (through :meth:`Reconciler.find`), so the
settle step answers the same question the same way: it waits out the grace
of a send this client found ambiguous, and bounds the walk by an explicit
``since``, the start time the client remembers for its recent ambiguous
sends, or the time a marker holds (ours do); a marker known by none of
these is looked for among the newest ``window`` comments only.

Strictly private: :class:`~aioqiscus.QiscusClient` owns one and makes the
first attempt itself (the hot path spends no extra coroutine here); the
rest of the policy lives in this module alone.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

import anyio
import attrs

from ._retry import testing_grace
from ._wire import Page, RawResponse
from .errors import AmbiguousSendError, QiscusError, ResponseShapeError
from .models import Comment

__all__ = [
    "CLOCK_SKEW",
    "LOOKUP_PAGE",
    "MAX_LOOKUP_PAGES",
    "MAX_LOOKUP_SECONDS",
    "RECONCILE_WINDOW",
    "AmbiguousPolicy",
    "Reconciler",
    "ServerClock",
    "default_delay",
    "marker_time",
]

logger = logging.getLogger("aioqiscus")

#: How many of the newest comments a look-up reads for a marker whose send
#: time is unknown (not one of ours, not sent by this client recently, no
#: ``since`` given).
RECONCILE_WINDOW = 100
#: Comments per ``load_comments`` page during a look-up (the documented
#: maximum).
LOOKUP_PAGE = 100
#: How far before a send's start, on the server's clock as measured, the
#: look-up still reads: the server stamps comments to the second, its
#: ``Date`` may come from a gateway whose clock differs from the one that
#: stamps, and without a ``Date`` the clocks are taken as agreeing.
CLOCK_SKEW = 300.0
#: A look-up bounded by time gives up (raising, never answering "absent")
#: after this many pages...
MAX_LOOKUP_PAGES = 1000
#: ... or after this many seconds.
MAX_LOOKUP_SECONDS = 120.0
#: Pages in a row that reach no older comment id before the server is taken
#: as ignoring ``page``: one such page is possible in a room receiving a
#: page of comments per round trip, two are not.
STALLED_PAGES = 2
#: How many recent ambiguous sends the client remembers the start time of.
REMEMBERED_SENDS = 4096
#: What to do with an ambiguous send: settle it here, or raise at once.
AmbiguousPolicy = Literal["reconcile", "raise"]
#: Our markers: ``aioqiscus-<64 random bits>-<ms since the epoch, base 36>-<n>``.
_MARKER = re.compile(r"aioqiscus-[0-9a-f]{16}-([0-9a-z]{1,12})-[0-9]+")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

#: What a look-up fetches: page *number* of *limit* comments, newest first.
Fetch = Callable[[int, int], Awaitable[Page[Comment]]]


def default_delay(backend: object) -> float:
    """The backend's read timeout, as the default grace wait (else 15 s)."""
    read = getattr(backend, "read_timeout", None)
    return float(read) if isinstance(read, int | float) else 15.0


def _base36(number: int) -> str:
    digits = []
    while True:
        number, rest = divmod(number, 36)
        digits.append(_DIGITS[rest])
        if not number:
            return "".join(reversed(digits))


#: The last 36 ms a marker was minted in, and their base 36 text but the
#: last digit: at a thousand sends a second, most sends reuse it (a tuple:
#: one atomic swap).
_minted = (0, "")


def marker_time(marker: str) -> datetime | None:
    """When one of our markers was minted (aware UTC); ``None`` for others."""
    found = _MARKER.fullmatch(marker)
    if found is None:
        return None
    millis = int(found.group(1), 36)
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _counter() -> Iterator[int]:
    return itertools.count(1)


def _prefix() -> str:
    return secrets.token_hex(8)


def _fingerprint(page: Page[Comment]) -> list[tuple[object, ...]]:
    return [(c.id, c.unique_temp_id, c.timestamp, c.message) for c in page.items]


@attrs.define
class _Progress:
    """Whether a look-up's pages go back in time (strictly private).

    Comment ids order the history: each page must reach an id older than
    every page before it. A server ignoring ``page`` answers the newest
    comments again, with or without a new one among them.
    """

    previous: list[tuple[object, ...]] | None = None
    #: The oldest comment id read so far.
    floor: int | None = None
    #: Pages in a row that reached no older id.
    stalled: int = 0

    def check(self, number: int, page: Page[Comment]) -> None:
        """Raise ResponseShapeError if *page* shows the server ignores paging."""
        fingerprint = _fingerprint(page)
        ids = [c.id for c in page.items if c.id is not None]
        oldest = min(ids) if ids else None
        floor = self.floor
        repeated = fingerprint == self.previous
        if repeated or (floor is not None and oldest is not None and oldest >= floor):
            self.stalled += 1
        else:
            self.stalled = 0
        if repeated or self.stalled >= STALLED_PAGES:
            msg = (
                f"load_comments page {number} reaches no comment older than "
                f"page {number - 1}: the server ignores paging, so the "
                "history cannot be searched"
            )
            raise ResponseShapeError(msg)
        self.previous = fingerprint
        if oldest is not None and (floor is None or oldest < floor):
            self.floor = oldest


@attrs.define
class ServerClock:
    """How far the server's clock is from ours, as its answers show it.

    ``Date`` is the server's time to the second, written before the answer
    left: ``Date`` less our time on receipt is at most the true offset (by
    up to a second and the answer's travel), so a bound drawn from it errs
    early, on the side of reading more. Without a ``Date``, a comment
    stamped later than our present time proves the stamping clock at least
    that far ahead; stamps are not used when a ``Date`` is there (a
    comment imported with a future date would end look-ups early).

    Strictly private: the client feeds it the look-ups' answers.
    """

    #: Seconds the server's ``Date`` is ahead of our clock (negative:
    #: behind); ``None`` until an answer carried a readable one.
    offset: float | None = None

    def observe(self, raw: RawResponse) -> None:
        """Read the ``Date`` header of *raw*, if it has a readable one."""
        date = raw.headers.get("date")
        if not date:
            return
        try:
            at = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            return
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        self.offset = at.timestamp() - time.time()

    def server_time(self, ours: datetime, page: Page[Comment]) -> datetime:
        """*ours* (our clock) on the server's clock, as measured so far.

        Without a ``Date``, the clocks are taken as agreeing unless *page*
        holds a comment stamped after our present time.
        """
        offset = self.offset
        if offset is None:
            stamps = [c.timestamp for c in page.items if c.timestamp is not None]
            ahead = max(stamps).timestamp() - time.time() if stamps else 0.0
            offset = max(ahead, 0.0)
        return ours + timedelta(seconds=offset)


@attrs.define
class Reconciler:
    """Mint send markers and settle sends whose fate is unknown.

    Attributes:
        delay: After an ambiguous outcome, seconds to wait before looking
            for the send, so a server still working on it can store it.
        fixed: Whether *delay* was chosen (else it is a default, which
            testing mode replaces: see :func:`~aioqiscus.set_testing`).
        recheck: When the look-up found nothing, seconds to wait before a
            second look-up, before the resend; ``None`` for none.
        clock: The server's clock as the look-ups' answers show it.
    """

    delay: float
    fixed: bool = True
    recheck: float | None = None
    clock: ServerClock = attrs.field(factory=ServerClock)
    _prefix: str = attrs.field(factory=_prefix)
    _count: Iterator[int] = attrs.field(factory=_counter)
    #: Recent ambiguous sends: marker -> (start, when its grace ends).
    _recent: OrderedDict[str, tuple[datetime, float]] = attrs.field(factory=OrderedDict)

    def grace(self) -> float:
        """The wait before a look-up: *delay*, or testing mode's for a default."""
        if not self.fixed:
            testing = testing_grace()
            if testing is not None:
                return testing
        return self.delay

    def marker(self, at: float | None = None) -> str:
        """A unique send marker holding its mint time (*at*, else now).

        64 random bits tell clients apart, the counter sends; the time (ms,
        base 36) tells a later look-up how far back to read. Cheaper than a
        uuid4 per send (no system call on the hot path).
        """
        global _minted  # noqa: PLW0603 - a one-entry cache
        millis = int((time.time() if at is None else at) * 1000)
        high, low = divmod(millis, 36)
        minted = _minted
        if high != minted[0]:
            minted = _minted = (high, _base36(high) if high else "")
        return f"aioqiscus-{self._prefix}-{minted[1]}{_DIGITS[low]}-{next(self._count)}"

    async def find(
        self, fetch: Fetch, marker: str, since: datetime | None, window: int
    ) -> Comment | None:
        """``find_comment``: the look-up the settle step runs, the same way.

        For a send this client found ambiguous, it first waits out what is
        left of its grace (a store may still be on its way), then reads back
        to the send's start: *since*, else the start remembered, else the
        mint time our markers carry; else the newest *window* comments.
        """
        known = self._recent.get(marker)
        if known is not None:
            left = known[1] - time.monotonic()
            if left > 0:
                await anyio.sleep(left)
        start = since or (known[0] if known else marker_time(marker))
        return await self.search(fetch, marker, start, window)

    def _remember(self, marker: str, sent_at: datetime) -> None:
        recent = self._recent
        recent[marker] = (sent_at, time.monotonic() + self.grace())
        recent.move_to_end(marker)
        while len(recent) > REMEMBERED_SENDS:
            recent.popitem(last=False)

    async def search(
        self,
        fetch: Fetch,
        marker: str,
        since: datetime | None,
        window: int = RECONCILE_WINDOW,
    ) -> Comment | None:
        """The comment carrying *marker*, or ``None`` if it is proven absent.

        With *since* (a send's start, our clock), pages are read until the
        marker, the end of the history, or a page holding a comment stamped
        more than :data:`CLOCK_SKEW` before *since* on the server's clock
        (:class:`ServerClock`). Without, the newest *window* comments are
        read. A short page is not taken as the end (servers may cap the
        page size): only an empty one is.

        Raises:
            AmbiguousSendError: :data:`MAX_LOOKUP_PAGES` were read, or
                :data:`MAX_LOOKUP_SECONDS` passed, without reaching *since*:
                the answer is unknown.
            ResponseShapeError: the server ignores paging.
        """
        with anyio.move_on_after(MAX_LOOKUP_SECONDS) as scope:
            found = await self._walk(fetch, marker, since, window)
        if not scope.cancelled_caught:
            return found
        msg = (
            f"looking for {marker!r} did not end within {MAX_LOOKUP_SECONDS:g} s; "
            "cannot tell whether it landed"
        )
        raise AmbiguousSendError(msg, marker=marker, sent_at=since)

    async def _walk(
        self, fetch: Fetch, marker: str, since: datetime | None, window: int
    ) -> Comment | None:
        if since is None:
            limit = min(window, LOOKUP_PAGE)
            pages = math.ceil(window / limit)
        else:
            limit, pages = LOOKUP_PAGE, MAX_LOOKUP_PAGES
        oldest: datetime | None = None
        progress = _Progress()
        for number in range(1, pages + 1):
            page = await fetch(number, limit)
            if not page.items:
                return None
            progress.check(number, page)
            if since is not None:
                # The server's clock, measured on this answer too.
                start = self.clock.server_time(since, page)
                oldest = start - timedelta(seconds=CLOCK_SKEW)
            reached = False
            for comment in page.items:
                if comment.unique_temp_id == marker:
                    return comment
                stamp = comment.timestamp
                if oldest is not None and stamp is not None and stamp < oldest:
                    reached = True
            if reached:
                return None
        if oldest is None:
            return None
        msg = (
            f"read {pages * limit} comments without reaching those older than "
            f"{oldest.isoformat()} (server clock); cannot tell whether "
            f"{marker!r} landed"
        )
        raise AmbiguousSendError(msg, marker=marker, sent_at=since)

    async def settle(
        self,
        first: AmbiguousSendError,
        *,
        policy: AmbiguousPolicy,
        room_id: str,
        marker: str,
        sent_at: datetime,
        resend: Callable[[], Awaitable[Comment]],
        fetch: Fetch,
    ) -> Comment:
        """Settle a send that failed with *first*: the comment, or raise.

        With *policy* ``"reconcile"``: wait the grace delay, look for
        *marker* in the history from *sent_at* on and, if it is absent,
        call *resend* once; an ambiguous resend is settled the same way,
        without a second resend.

        Raises:
            AmbiguousSendError: *policy* is ``"raise"``, the send is still
                unsettled, or the look-up failed; ``marker`` says what to
                look for later, ``sent_at`` since when.
        """
        self._remember(marker, sent_at)
        if policy == "raise":
            raise AmbiguousSendError(
                str(first), marker=marker, sent_at=sent_at
            ) from first
        failure: QiscusError = first
        for may_resend in (True, False):
            # After every ambiguous outcome, not only timeouts: a gateway
            # that answered 504 or dropped the connection may have an
            # upstream that stores the comment a moment later.
            await anyio.sleep(self.grace())
            found = await self._look_up(fetch, room_id, marker, sent_at, failure)
            if found is None and self.recheck is not None:
                # For servers known to store later than the grace.
                await anyio.sleep(self.recheck)
                found = await self._look_up(fetch, room_id, marker, sent_at, failure)
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
        raise AmbiguousSendError(msg, marker=marker, sent_at=sent_at) from failure

    async def _look_up(
        self,
        fetch: Fetch,
        room_id: str,
        marker: str,
        sent_at: datetime,
        failure: QiscusError,
    ) -> Comment | None:
        """The comment carrying *marker*, or None if proven absent."""
        try:
            return await self.search(fetch, marker, sent_at)
        except QiscusError as exc:
            msg = (
                f"post_comment to room {room_id} may or may not have landed, and "
                f"looking for it failed ({exc}); look for unique_temp_id {marker!r}"
            )
            raise AmbiguousSendError(msg, marker=marker, sent_at=sent_at) from failure
