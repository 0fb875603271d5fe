"""QiscusClient: the flat facade of public coroutines.

Each coroutine checks its arguments (:mod:`aioqiscus._validate`), then
``_call`` asks the negotiator which dialect's codec serves the operation,
builds the codec's :class:`~aioqiscus._wire.Call`, and reads the answer as
send -> decipher -> parse: the transport sends and returns the raw response,
:func:`~aioqiscus._envelope.decipher` reads the envelope, the codec's parser
structures ``results``. ``post_comment`` hands a send whose fate is unknown
to :mod:`aioqiscus._reconcile`, and ``find_comment`` runs the same look-up;
paged ``iter_*`` calls return a :class:`~aioqiscus._paging.Listing`.
"""

from __future__ import annotations

import copy
import functools
import logging
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, Unpack

import attrs
import httpx

from . import _json
from ._client_backups import BackupOperations
from ._client_request import RequestOperations
from ._client_users import UserOperations
from ._diagnose import bare_not_found, not_qiscus
from ._envelope import decipher, structure
from ._negotiate import NegotiationReport, Negotiator
from ._paging import Listing
from ._ratelimit import RateLimit, check_rate_limit
from ._reconcile import RECONCILE_WINDOW, AmbiguousPolicy, Reconciler, default_delay
from ._retry import RetryPolicy
from ._send_options import SendOptions
from ._setup import build_transport
from ._timeouts import check_timeout
from ._transport import DEFAULT_BASE_URL
from ._validate import (
    VERSIONS,
    check_any_given,
    check_card,
    check_comment,
    check_comment_id,
    check_event,
    check_event_type,
    check_id,
    check_ids,
    check_name,
    check_optional_id,
    check_optional_text,
    check_options,
    check_page_size,
    check_pair,
    check_recheck,
    check_room_type,
    check_send_policy,
    check_settings,
    check_since,
    check_url_value,
)
from ._wire import Call, Dialect, Operation, Page, RawResponse
from .backends import (
    DEFAULT_TIMEOUT,
    Backend,
    BackendName,
)
from .errors import (
    AmbiguousSendError,
    APIError,
    ClientClosedError,
    NotFoundError,
    ResponseShapeError,
    TransportError,
    UnsupportedOperationError,
)
from .events import EventHooks
from .models import (
    Comment,
    ParticipantChange,
    Room,
    RoomType,
    User,
)
from .payloads import Button, Buttons, Card, SystemEventType

if TYPE_CHECKING:
    from .dialects import Codec

__all__ = ["QiscusClient"]

logger = logging.getLogger("aioqiscus")

T = TypeVar("T")


def _at(build: Callable[[Codec, int], Call[T]], page: int, codec: Codec) -> Call[T]:
    return build(codec, page)


# ---------------------------------------------------------------- the client


def _as_read(value: T) -> T:
    return value


def _deciphered(call: Call[T], raw: RawResponse) -> tuple[Callable[[Any], T], Any]:
    """The ``results`` of *raw* and the function that parses them.

    A success that ``call.read_body`` reads at once (a comment page decoded
    into structs, a comment send's answer) comes back already parsed (the
    parse returned is then :func:`_as_read`); anything it refuses is read
    the usual way, by :func:`decipher` and ``call.parse``, which decide
    every value and every error.
    """
    read = call.read_body
    if read is not None and raw.status_code < 300:  # noqa: PLR2004
        try:
            return _as_read, read(raw.body)
        except Exception:  # noqa: BLE001, S110 - read as usual, which says what is wrong
            pass
    return call.parse, decipher(raw)


def _comment_send(
    values: tuple[Any, ...], in_extras: bool, codec: Codec
) -> Call[Comment]:
    """``post_comment``'s request in *codec*'s dialect, from its checked values."""
    return codec.post_comment(*values, marker_in_extras=in_extras)


class _FlatSend:
    """What ``post_comment``'s flat first attempt needs (strictly private).

    Made once for the dialect and the JSON library it serves, and made
    again when either changes: the codec and its route, the body's builder
    and the send's reader with their look-ups done (each was a dict look-up
    keyed by an enum, whose attribute access alone costs 90 ns on 3.11).
    A plain class, as is :class:`_FirstAttempt`: an attrs class costs about
    half a millisecond of import time, paid by every program's first use of
    a client (docs/performance.md, "Import time").
    """

    __slots__ = ("body", "codec", "dialect", "json", "method", "path", "read")

    def __init__(
        self,
        dialect: Dialect,
        json: str,
        codec: Codec,
        method: str,
        path: str,
        body: Callable[..., dict[str, Any]],
        read: Callable[[bytes, str | None], Comment],
    ) -> None:
        self.dialect = dialect
        self.json = json
        self.codec = codec
        self.method = method
        self.path = path
        self.body = body
        self.read = read


class _FirstAttempt:
    """A send's first attempt, made flat by ``post_comment`` (strictly private).

    What it was made with (codec and dialect), its outcome (the response,
    or the transport's error) and when it began (``time.monotonic()``).
    """

    __slots__ = ("flat", "outcome", "started")

    def __init__(
        self, flat: _FlatSend, outcome: RawResponse | TransportError, started: float
    ) -> None:
        self.flat = flat
        self.outcome = outcome
        self.started = started


def _unreadable(exc: ResponseShapeError) -> AmbiguousSendError:
    """A sent comment's answer that cannot be read: its fate is unknown."""
    msg = f"post_comment was answered, but the answer could not be read ({exc})"
    return AmbiguousSendError(msg)


class QiscusClient(UserOperations, BackupOperations, RequestOperations):
    """An async client for one Qiscus app, speaking v2 or v2.1 as the server does.

    Args:
        app_id: The app id (a DNS label, as in ``APPID.qiscus.com``).
        secret_key: The app's secret key. Never shown in ``repr``, logs or
            exception messages.
        base_url: The server; defaults to ``https://api.qiscus.com``. Must be
            https unless it is a loopback address.
        api_version: ``"auto"`` (probe once, lazily), ``"v2"`` or ``"v2.1"``
            (pinned: no probe).
        http_client: An ``httpx.AsyncClient`` to use. We never close a client
            you pass in.
        backend: ``"aiohttp"`` for the faster backend
            (``pip install 'aioqiscus[aiohttp]'``; a fifth of httpx's CPU per
            request), ``"httpx"`` (the default), or an I/O backend
            (:mod:`aioqiscus.backends`), e.g. ``AiohttpBackend(session)`` to
            share an aiohttp app's session.
        timeout: Timeout for the backend we create (ignored with
            *http_client* or a backend object).
        retry: The retry policy; ``None`` disables retries.
        max_in_flight: Requests in flight at once; further calls wait their
            turn instead of timing out in the connection pool. Defaults to
            the backend's pool size (an injected *http_client*'s
            ``max_connections``).
        reconcile_delay: After a send whose fate is unknown (a timeout, a
            dropped connection, 500/502/504), how long to wait before
            looking for it, so a server or a gateway's upstream still
            working on it can store it; defaults to the read timeout (and
            to none in testing mode: :func:`~aioqiscus.set_testing`).
        reconcile_recheck: For servers known to store later than the
            grace: when the look-up after ``reconcile_delay`` finds
            nothing, wait this many seconds and look once more before the
            resend. ``None`` (the default): resend at once.
        ambiguous_sends: What ``post_comment`` does when a send may or may
            not have landed: ``"reconcile"`` (look for it, resend once if
            absent) or ``"raise"`` (:class:`AmbiguousSendError` at once).
        marker_in_extras: Whether v2.1 sends also carry the send marker in
            ``extras`` (key ``aioqiscus_unique_temp_id``, removed again from
            the comments you read), besides the top-level
            ``unique_temp_id``. v2.1 documents no ``unique_temp_id``: turn
            this off only if your server echoes it (``aioqiscus contract``
            tells), or sends whose fate is unknown cannot be found and may
            be duplicated. v2 always uses ``unique_temp_id`` alone.
        max_response_bytes: The largest response body accepted, decoded
            (32 MiB by default); for the backend the client creates (give
            it to your own backend instead).
        event_hooks: Plain callables called with each HTTP attempt's events
            (``{"request": [...], "response": [...], "retry": [...]}``; see
            :mod:`aioqiscus.events`).
        tracer_provider: An OpenTelemetry ``TracerProvider`` for a client
            span per HTTP attempt (``aioqiscus[otel]``). Without one, the
            global provider is used if the application configured one when
            the client is created; otherwise nothing is traced.
        meter_provider: An OpenTelemetry ``MeterProvider`` for the
            ``http.client.request.duration`` histogram (else the global one),
            recorded when spans are.
        rate_limit: A :class:`~aioqiscus.TokenBucket` (this process) or
            :class:`~aioqiscus.RedisTokenBucket` (every process sharing its
            key): each HTTP attempt, retries included, takes a token before
            it takes a connection, waiting up to the bucket's ``max_wait``,
            else :class:`~aioqiscus.RateLimitedError` and nothing is sent.
            A 429 with ``Retry-After`` pauses every client sharing it.

    Use it as an async context manager, or call :meth:`aclose`.
    """

    def __init__(
        self,
        app_id: str,
        secret_key: str,
        *,
        base_url: str | None = None,
        api_version: Literal["auto", "v2", "v2.1"] = "auto",
        http_client: httpx.AsyncClient | None = None,
        backend: Backend | BackendName | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen value
        ambiguous_sends: AmbiguousPolicy = "reconcile",
        max_in_flight: int | None = None,
        reconcile_delay: float | None = None,
        reconcile_recheck: float | None = None,
        marker_in_extras: bool = True,
        max_response_bytes: int | None = None,
        event_hooks: EventHooks | None = None,
        tracer_provider: object | None = None,
        meter_provider: object | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        check_settings(app_id, secret_key, api_version, ambiguous_sends)
        rate_limit = check_rate_limit(rate_limit)
        transport = build_transport(
            app_id,
            secret_key,
            base_url=base_url or DEFAULT_BASE_URL,
            http_client=http_client,
            backend=backend,
            timeout=timeout,
            retry=retry,
            max_in_flight=max_in_flight,
            max_response_bytes=max_response_bytes,
            event_hooks=event_hooks,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            rate_limit=rate_limit,
        )
        self.app_id = app_id
        self.ambiguous_sends: AmbiguousPolicy = ambiguous_sends
        self.marker_in_extras = bool(marker_in_extras)
        self._reconciler = (
            Reconciler(
                default_delay(transport.backend),
                recheck=check_recheck(reconcile_recheck),
                fixed=False,
            )
            if reconcile_delay is None
            else Reconciler(reconcile_delay, recheck=check_recheck(reconcile_recheck))
        )
        self._transport = transport
        self._negotiator = Negotiator(self._transport, VERSIONS[api_version])
        self._flat: _FlatSend | None = None

    def __repr__(self) -> str:
        return (
            f"QiscusClient(app_id={self.app_id!r}, "
            f"base_url={self._transport.base_url!r}, dialect={self.dialect})"
        )

    def with_options(
        self,
        *,
        retry: RetryPolicy | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Self:
        """A view of this client with other retry or timeout options, for some calls.

        It shares the connection pool, the in-flight limit, the rate limit
        and the negotiated dialect:
        ``await client.with_options(max_retries=0).get_user(u)``. Closing a
        view closes nothing.

        Args:
            retry: Another retry policy.
            max_retries: The retry policy's ``max_retries`` changed.
            timeout: Seconds, or an ``httpx.Timeout``, for every attempt of
                the view's calls (a probe it makes, the look-up after an
                ambiguous send included): connect, read and write as given,
                and the whole attempt within the longest of them. Shorter or
                longer than the client's, on the built-in backends.

        Raises:
            InvalidArgumentError: *timeout* is not positive.
        """
        policy = retry or self._transport.retry
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        transport = self._transport.with_retry(policy)
        if timeout is not None:
            transport = transport.with_timeout(check_timeout(timeout))
        # The copy shares the negotiator and the reconciler; only the
        # transport (a view of the same pool) and the closing rule differ.
        view = copy.copy(self)
        view.__dict__.update(_transport=transport, _view=True)
        return view

    _view = False

    @property
    def reconcile_delay(self) -> float:
        """Seconds to wait after an ambiguous send before looking for it.

        The delay as configured; in testing mode a default one is replaced
        (:func:`~aioqiscus.set_testing`), a delay set here is kept.
        """
        return self._reconciler.delay

    @reconcile_delay.setter
    def reconcile_delay(self, value: float) -> None:
        self._reconciler.delay = value
        self._reconciler.fixed = True

    @property
    def reconcile_recheck(self) -> float | None:
        """Seconds before a second look-up, when the first found nothing."""
        return self._reconciler.recheck

    @reconcile_recheck.setter
    def reconcile_recheck(self, value: float | None) -> None:
        self._reconciler.recheck = check_recheck(value)

    async def __aenter__(self) -> Self:
        if self._transport.lifecycle.closed:
            msg = "the client was closed by aclose(); create a new QiscusClient"
            raise ClientClosedError(msg)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless the httpx client was injected).

        Calls made afterwards, on this client or its views, raise
        :class:`~aioqiscus.errors.ClientClosedError`. Closing twice is fine.
        """
        if not self._view:
            await self._transport.aclose()

    # ------------------------------------------------------------ dialect

    @property
    def base_url(self) -> str:
        """The server's URL requests go to, without a trailing slash.

        Read-only; with :attr:`app_id` it names the app a client talks to
        (neither is a secret).
        """
        return self._transport.base_url

    @property
    def dialect(self) -> Dialect | None:
        """The pinned or negotiated dialect; ``None`` until negotiated."""
        return self._negotiator.dialect

    async def negotiate(self) -> Dialect:
        """Determine the server's dialect now (otherwise the first call does).

        Raises:
            AuthenticationError: The credentials were refused.
            NegotiationError: The server did not answer in a way that tells;
                the next call probes again.
        """
        return await self._negotiator.resolve()

    def negotiation_report(self) -> NegotiationReport:
        """Per operation, the dialect, verb and path in use.

        ``get_or_create_channel`` shows the documented ``GET`` until the
        server has taken the Go SDK's ``POST`` instead.

        Raises:
            NegotiationError: Not negotiated yet.
        """
        return self._negotiator.report()

    async def _call(  # noqa: C901 - one path from request to model, every way out named
        self,
        operation: Operation,
        build: Callable[[Codec], Call[T]],
        *,
        renegotiate: bool = True,
        seen: Callable[[RawResponse], None] | None = None,
        first: _FirstAttempt | None = None,
    ) -> T:
        # The per-request path is benchmarked: once negotiated (or pinned),
        # no coroutine is spent on negotiation.
        # The path reads send -> decipher -> parse: the transport returns the
        # raw response, the envelope is read here, the dialect parses results.
        negotiator = self._negotiator
        if first is not None:
            # The caller made attempt 1 with this codec: decided from there.
            codec, dialect = first.flat.codec, first.flat.dialect
        else:
            dialect = negotiator.dialect or await negotiator.resolve(self._transport)
            try:
                codec = negotiator.codec_for(operation, dialect)
            except UnsupportedOperationError as exc:
                # v2 negotiated from bare 404s may have been a gateway's hiccup.
                codec = await negotiator.reroute(operation, dialect, exc)
                dialect = codec.DIALECT
        call = build(codec)
        raw = await self._transport.send(
            call.request,
            call.operation,
            codec.DIALECT,
            first=None if first is None else first.outcome,
            started=None if first is None else first.started,
        )
        if seen is not None:
            seen(raw)
        try:
            parse, results = _deciphered(call, raw)
        except NotFoundError as exc:
            # A bare 404 may mean the server stopped serving the dialect; if
            # a new probe finds another one, the call is made again, once
            # (a route that does not exist processed nothing).
            if renegotiate and await negotiator.after_not_found(
                operation, codec, dialect, exc
            ):
                return await self._call(operation, build, renegotiate=False, seen=seen)
            if exc.from_envelope or codec.DIALECT is not dialect:
                raise
            raise bare_not_found(
                exc,
                base_url=self._transport.base_url,
                request=call.request,
                dialect=dialect,
                pinned=negotiator.pinned,
            ) from exc
        except ResponseShapeError as exc:
            if raw.status_code >= 300:  # noqa: PLR2004 - a redirect, said as such
                raise
            raise not_qiscus(exc, self._transport.base_url) from exc
        if codec.DIALECT is not dialect:
            negotiator.answered(codec.DIALECT)
        if parse is _as_read:  # read at once: nothing left to structure
            return results  # type: ignore[no-any-return]
        return structure(parse, results, call.operation)

    # ------------------------------------------------------------ rooms

    async def create_room(
        self,
        name: str,
        participants: Sequence[str],
        creator: str,
        *,
        avatar_url: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Room:
        """Create a group room.

        Args:
            name: The room name (non-empty).
            participants: Identifiers of the members.
            creator: Identifier of the creating user.
            avatar_url: The room avatar.
            options: Room metadata, sent as a JSON string.

        Returns:
            The new room.

        Raises:
            AmbiguousSendError: The request may have created the room but no
                answer arrived; look the room up before creating it again.
        """
        name = check_name(name, "name")
        members = check_ids(participants, "participants")
        owner = check_id(creator, "creator")
        avatar = check_optional_text(avatar_url, "avatar_url")
        opts = check_options(options)
        return await self._call(
            Operation.CREATE_ROOM,
            lambda c: c.create_room(name, members, owner, avatar, opts),
        )

    async def get_or_create_room_with_target(
        self, user_ids: Sequence[str], *, options: Mapping[str, Any] | None = None
    ) -> Room:
        """Get the 1:1 room of two users, creating it if needed.

        Args:
            user_ids: Exactly two distinct user identifiers.
            options: Room metadata (v2.1 only; v2 refuses it before sending).
        """
        users = check_pair(user_ids, "user_ids")
        opts = check_options(options)
        return await self._call(
            Operation.GET_OR_CREATE_ROOM_WITH_TARGET,
            lambda c: c.get_or_create_room_with_target(users, opts),
        )

    async def get_or_create_channel(
        self,
        unique_id: str,
        participants: Sequence[str],
        *,
        name: str | None = None,
        avatar_url: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Room:
        """Get the channel with *unique_id*, creating it if needed (v2.1).

        The first call sends the ``GET`` of ``v2.1/room.md``; a server that
        refuses that verb (405, or a 404 without a Qiscus envelope) is asked
        again with the official Go SDK's ``POST``, and the verb it took is
        kept for the client's life (see :meth:`negotiation_report`).

        Raises:
            UnsupportedOperationError: The server speaks only v2.
        """
        uid = check_id(unique_id, "unique_id")
        members = check_ids(participants, "participants")
        title = check_optional_text(name, "name")
        avatar = check_optional_text(avatar_url, "avatar_url")
        opts = check_options(options)
        op = Operation.GET_OR_CREATE_CHANNEL

        def build(method: str) -> Callable[[Codec], Call[Room]]:
            return lambda c: c.get_or_create_channel(
                uid, members, title, avatar, opts, method=method
            )

        negotiator = self._negotiator
        learned = negotiator.verb(op)
        if learned is not None:
            return await self._call(op, build(learned))
        try:
            # No probe on a refused verb: the route exists under the other.
            room = await self._call(op, build("GET"), renegotiate=False)
        except APIError as exc:
            wrong_verb = exc.status_code == 405 or (  # noqa: PLR2004
                isinstance(exc, NotFoundError) and not exc.from_envelope
            )
            if not wrong_verb:
                raise
            room = await self._call(op, build("POST"))
            negotiator.learn_verb(op, "POST")
        else:
            negotiator.learn_verb(op, "GET")
        return room

    async def get_rooms_info(
        self,
        room_ids: Sequence[str],
        *,
        channel_ids: Sequence[str] = (),
        as_user: str | None = None,
        show_participants: bool = False,
    ) -> list[Room]:
        """Read several rooms at once.

        Args:
            room_ids: Room ids.
            channel_ids: Channel (unique) ids, v2.1 only.
            as_user: The acting user; v2 requires it (``user_email``).
            show_participants: Include participants.
        """
        rooms = check_ids(room_ids, "room_ids", allow_empty=True)
        channels = check_ids(channel_ids, "channel_ids", allow_empty=True)
        check_any_given("pass at least one room id or channel id", rooms, channels)
        user = check_optional_id(as_user, "as_user")
        return await self._call(
            Operation.GET_ROOMS_INFO,
            lambda c: c.get_rooms_info(rooms, channels, user, show_participants),
        )

    async def update_room(
        self,
        room_id: str,
        *,
        name: str | None = None,
        avatar_url: str | None = None,
        options: Mapping[str, Any] | None = None,
        channel_id: str | None = None,
        as_user: str | None = None,
    ) -> Room:
        """Change a group room's name, avatar, options or channel id.

        Args:
            room_id: The room.
            name: New name.
            avatar_url: New avatar.
            options: New options (replaces the old ones).
            channel_id: New channel id (v2.1 only).
            as_user: The acting participant; v2 requires it.
        """
        room = check_id(room_id, "room_id")
        title = None if name is None else check_name(name, "name")
        avatar = check_optional_text(avatar_url, "avatar_url")
        opts = check_options(options)
        channel = check_optional_id(channel_id, "channel_id")
        user = check_optional_id(as_user, "as_user")
        check_any_given(
            "update_room needs at least one of name, avatar_url, options, channel_id",
            title,
            avatar,
            opts,
            channel,
        )
        return await self._call(
            Operation.UPDATE_ROOM,
            lambda c: c.update_room(room, title, avatar, opts, channel, user),
        )

    async def add_participants(
        self, room_id: str, user_ids: Sequence[str]
    ) -> ParticipantChange:
        """Add users to a group room; returns the users added, not the roster.

        v2.1 answers them (``participants_added``). v2 answers the whole
        roster, from which the users asked for that are now in the room are
        returned, with only their ids. The list's ``room`` is the room as v2
        answers it (its whole updated roster, creator, name and type);
        ``None`` in v2.1. :meth:`iter_participants` lists everyone.
        """
        room = check_id(room_id, "room_id")
        users = check_ids(user_ids, "user_ids")
        return await self._call(
            Operation.ADD_PARTICIPANTS, lambda c: c.add_participants(room, users)
        )

    async def remove_participants(
        self, room_id: str, user_ids: Sequence[str]
    ) -> ParticipantChange:
        """Remove users from a group room; returns the users removed.

        The list's ``room`` is the room as v2 answers it (its remaining
        roster, creator, name and type); ``None`` in v2.1.
        """
        room = check_id(room_id, "room_id")
        users = check_ids(user_ids, "user_ids")
        return await self._call(
            Operation.REMOVE_PARTICIPANTS, lambda c: c.remove_participants(room, users)
        )

    def iter_participants(
        self, room_id: str, *, page_size: int = 100, as_user: str | None = None
    ) -> Listing[User]:
        """Iterate over a room's participants, fetching pages lazily.

        Arguments are checked now, before any request.

        Args:
            room_id: The room.
            page_size: Participants per request (v2.1).
            as_user: A participant acting as reader; v2 requires it.
        """
        room = check_id(room_id, "room_id")
        size = check_page_size(page_size)
        user = check_optional_id(as_user, "as_user")
        return self._listing(
            Operation.LIST_PARTICIPANTS,
            lambda c, page: c.list_participants(room, page, size, user),
            key=lambda u: u.id,
        )

    def iter_user_rooms(
        self,
        user_id: str,
        *,
        room_type: RoomType | None = None,
        page_size: int = 20,
        show_participants: bool = False,
        show_empty: bool = False,
    ) -> Listing[Room]:
        """Iterate over the rooms *user_id* is in, fetching pages lazily.

        v2 pages by a fixed 20 whatever *page_size* says. The listing's
        ``total`` is the server's ``meta.total_room`` once a page is in.

        Args:
            user_id: The user.
            room_type: Only rooms of this type.
            page_size: Rooms per request (v2.1).
            show_participants: Include each room's participants.
            show_empty: Include rooms without any message, which servers
                leave out by default.
        """
        user = check_id(user_id, "user_id")
        size = check_page_size(page_size)
        kind = check_room_type(room_type)
        return self._listing(
            Operation.LIST_USER_ROOMS,
            lambda c, page: c.list_user_rooms(
                user, page, size, kind, show_participants, show_empty
            ),
            key=lambda r: r.id,
        )

    async def get_unread_counts(
        self, user_id: str, room_ids: Sequence[str]
    ) -> dict[str, int]:
        """Unread comments of *user_id* per room id."""
        user = check_id(user_id, "user_id")
        rooms = check_ids(room_ids, "room_ids")
        return await self._call(
            Operation.GET_UNREAD_COUNTS, lambda c: c.get_unread_counts(user, rooms)
        )

    # ------------------------------------------------------------ messages

    async def post_comment(
        self,
        room_id: str,
        sender: str,
        message: str = "",
        *,
        payload: object = None,
        type: str | None = None,
        extras: Mapping[str, Any] | None = None,
        unique_temp_id: str | None = None,
        disable_link_preview: bool = False,
        on_ambiguous: AmbiguousPolicy | None = None,
    ) -> Comment:
        """Post a comment, exactly once.

        Each call mints one ``unique_temp_id`` (or uses yours) and reuses it
        for any retry; v2.1 also carries it in ``extras`` (see
        *marker_in_extras* on the client). Sends are retried only when the
        request provably never reached the server or the server refused it
        unprocessed (408, 429, 503). When the outcome is unknown (timeout,
        dropped connection, 500/502/504), the client waits
        ``reconcile_delay``, looks for its marker in the room's history back
        to the send's start, however many comments came since, and returns
        the comment it finds; if absent, it resends once with the same
        marker.

        Args:
            room_id: The room (or, where the server allows, channel id).
            sender: The identifier of the posting user.
            message: The text; defaults to the payload's own text.
            payload: A payload from :mod:`aioqiscus.payloads`; its class
                sets the comment type.
            type: The comment type; inferred from *payload* (``text`` if
                none). Needed only with a :class:`~aioqiscus.payloads.RawPayload`.
            extras: Application metadata, kept as given.
            unique_temp_id: Your own idempotency marker.
            disable_link_preview: Turn link previews off.
            on_ambiguous: Override the client's ``ambiguous_sends`` policy.

        Raises:
            AmbiguousSendError: The send could not be confirmed or denied;
                ``marker`` holds the ``unique_temp_id`` to look for later,
                ``sent_at`` when the send began.
        """
        started = time.time()
        room = check_id(room_id, "room_id")
        author = check_id(sender, "sender")
        text = check_optional_text(message, "message") or ""
        kind = check_comment(payload, type, text)
        extra = None if extras is None else check_options(extras, "extras")
        marker = (
            check_id(unique_temp_id, "unique_temp_id")
            if unique_temp_id is not None
            else self._reconciler.marker(started)
        )
        policy = check_send_policy(on_ambiguous or self.ambiguous_sends, "on_ambiguous")
        in_extras = self.marker_in_extras
        values = (
            room,
            author,
            text,
            kind,
            payload,
            extra,
            marker,
            disable_link_preview,
        )
        transport = self._transport
        attempt: _FirstAttempt | None = None
        if transport.plain():
            # The usual send, flat: its first attempt without the request's
            # objects, _call or the retry loop's coroutines (what they cost
            # under load: docs/performance.md). A success read at once is
            # the answer; any other outcome goes on below as attempt 1 of
            # the same request, decided as if made there (tests/test_flat_send.py).
            flat = self._flat
            if (
                flat is None
                or flat.dialect is not self._negotiator.dialect
                or flat.json != _json.BACKEND
            ):
                flat = self._flat = self._flat_send()
            if flat is not None:
                body = flat.body(*values, marker_in_extras=in_extras)
                begun = time.monotonic()
                outcome: RawResponse | TransportError
                try:
                    outcome = await transport.attempt_json(flat.method, flat.path, body)
                except TransportError as exc:
                    outcome = exc
                else:
                    if outcome.status_code < 300:  # noqa: PLR2004
                        try:
                            return flat.read(outcome.body, room)
                        except Exception:  # noqa: BLE001, S110 - read as usual below
                            pass
                attempt = _FirstAttempt(flat, outcome, begun)
        # A partial, not a closure: a closure's cells would cost every send.
        build = functools.partial(_comment_send, values, in_extras)
        try:
            # _send_comment's body, without its coroutine.
            try:
                return await self._call(Operation.POST_COMMENT, build, first=attempt)
            except ResponseShapeError as exc:
                raise _unreadable(exc) from exc
        except AmbiguousSendError as exc:
            first = exc
        # Settled outside the except block, so later errors chain from theirs.
        return await self._settle_comment(first, policy, room, marker, started, build)

    def _flat_send(self) -> _FlatSend | None:
        """What a flat first attempt needs now; ``None`` before negotiation."""
        dialect = self._negotiator.dialect
        if dialect is None:
            return None
        codec = self._negotiator.codec_for(Operation.POST_COMMENT, dialect)
        route = codec.ROUTES[Operation.POST_COMMENT]
        return _FlatSend(
            dialect,
            _json.BACKEND,
            codec,
            route.method,
            route.path,
            codec.post_comment_body,
            codec.sent_reader(),
        )

    async def _settle_comment(
        self,
        first: AmbiguousSendError,
        policy: AmbiguousPolicy,
        room: str,
        marker: str,
        started: float,
        build: Callable[[Codec], Call[Comment]],
    ) -> Comment:
        """Settle a send whose fate is unknown: look for it, resend once if absent.

        Its own method: the resend's closure would otherwise give
        ``post_comment`` cells that every send pays for.
        """
        return await self._reconciler.settle(
            first,
            policy=policy,
            room_id=room,
            marker=marker,
            sent_at=datetime.fromtimestamp(started, UTC),
            resend=lambda: self._send_comment(build),
            fetch=self._comment_pages(room),
        )

    async def _send_comment(self, build: Callable[[Codec], Call[Comment]]) -> Comment:
        """One send of a comment; an answer that cannot be read is ambiguous.

        A 200 whose body is not JSON, not the shape the dialect documents,
        or over ``max_response_bytes`` says nothing of the comment, which
        may well be stored: it is settled like a timeout.
        """
        try:
            return await self._call(Operation.POST_COMMENT, build)
        except ResponseShapeError as exc:
            raise _unreadable(exc) from exc

    async def find_comment(
        self,
        room_id: str,
        unique_temp_id: str,
        *,
        since: datetime | None = None,
        window: int = RECONCILE_WINDOW,
    ) -> Comment | None:
        """Find a comment by its ``unique_temp_id``; ``None`` if proven absent.

        This is how a send whose fate is unknown is settled: after an
        :class:`AmbiguousSendError`, look for its ``marker``; if it is
        absent, sending again with ``unique_temp_id=marker`` is safe. It
        runs the look-up ``post_comment`` runs itself: after what is left of
        the ``reconcile_delay`` grace of a send this client found ambiguous,
        the room's history is read back to the send's start (on the
        server's clock, as the ``Date`` of its answers shows it, less five
        minutes), however many comments came since. The
        start is *since*, or else the time the client remembers for its
        recent ambiguous sends, or else the mint time our own markers
        carry; for any other marker only the newest *window* comments are
        read.

        Args:
            room_id: The room.
            unique_temp_id: The marker (``AmbiguousSendError.marker``).
            since: When the send began (``AmbiguousSendError.sent_at``).
            window: How many of the newest comments to read when the send's
                start is unknown.

        Raises:
            AmbiguousSendError: The history was too long to reach the send's
                start (100,000 comments, or 120 s of reading): whether it
                landed is unknown.
            ResponseShapeError: The server ignores ``page``, so its history
                cannot be searched.
        """
        room = check_id(room_id, "room_id")
        marker = check_id(unique_temp_id, "unique_temp_id")
        size = check_page_size(window, "window")
        return await self._reconciler.find(
            self._comment_pages(room), marker, check_since(since), size
        )

    def _comment_pages(
        self, room: str
    ) -> Callable[[int, int], Coroutine[Any, Any, Page[Comment]]]:
        """Fetch page *number* of *limit* comments of *room*, newest first."""
        # The answers' Date headers tell the look-up the server's clock.
        seen = self._reconciler.clock.observe

        def fetch(number: int, limit: int) -> Coroutine[Any, Any, Page[Comment]]:
            return self._call(
                Operation.LIST_COMMENTS,
                lambda c: c.list_comments(room, number, limit),
                seen=seen,
            )

        return fetch

    async def post_text(
        self, room_id: str, sender: str, message: str, **kwargs: Unpack[SendOptions]
    ) -> Comment:
        """Post a plain text comment (see :meth:`post_comment`)."""
        if kwargs:
            return await self.post_comment(room_id, sender, message, **kwargs)
        return await self.post_comment(room_id, sender, message)  # no dict to unpack

    async def post_buttons(
        self,
        room_id: str,
        sender: str,
        text: str,
        buttons: Sequence[Button],
        **kwargs: Unpack[SendOptions],
    ) -> Comment:
        """Post a text with buttons (see :class:`~aioqiscus.payloads.Buttons`)."""
        return await self.post_comment(
            room_id, sender, payload=Buttons(text, tuple(buttons)), **kwargs
        )

    async def post_card(
        self, room_id: str, sender: str, card: Card, **kwargs: Unpack[SendOptions]
    ) -> Comment:
        """Post a card (see :class:`~aioqiscus.payloads.Card`)."""
        check_card(card)
        return await self.post_comment(room_id, sender, payload=card, **kwargs)

    def iter_comments(
        self, room_id: str, *, page_size: int = 20
    ) -> AsyncIterator[Comment]:
        """Iterate over a room's history, newest first, fetching pages lazily.

        Servers answer ``load_comments`` newest first; pages go back in time.
        Comments that shift onto a later page because new ones arrived while
        iterating are skipped, so each comment is yielded once.
        """
        room = check_id(room_id, "room_id")
        size = check_page_size(page_size)
        return self._history(room, size)

    async def _history(self, room_id: str, page_size: int) -> AsyncIterator[Comment]:
        oldest: int | None = None
        async for comment in self._listing(
            Operation.LIST_COMMENTS,
            lambda c, page: c.list_comments(room_id, page, page_size),
            key=lambda c: str(c.id),
        ):
            if comment.id is not None:
                if oldest is not None and comment.id >= oldest:
                    continue
                oldest = comment.id
            yield comment

    async def post_system_event(
        self,
        room_id: str,
        event_type: SystemEventType | str,
        *,
        subject: str | None = None,
        objects: Sequence[str] = (),
        room_name: str | None = None,
        message: str | None = None,
        payload: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> Comment:
        """Post a system event comment (created by the System user).

        Args:
            room_id: The room.
            event_type: A :class:`~aioqiscus.payloads.SystemEventType`.
            subject: Who acted; required except for ``custom`` events.
            objects: Whom it is about; required for add/remove member.
            room_name: The new name; required for create_room and
                change_room_name.
            message: The text of a ``custom`` event.
            payload: The application payload of a ``custom`` event.
            extras: Application metadata.
        """
        room = check_id(room_id, "room_id")
        event = check_event_type(event_type)
        who = check_optional_id(subject, "subject")
        whom = check_ids(objects, "objects", allow_empty=True)
        name = check_optional_text(room_name, "room_name")
        text = check_optional_text(message, "message")
        data = check_options(payload, "payload")
        extra = check_options(extras, "extras")
        check_event(event, who, whom, name)
        return await self._call(
            Operation.POST_SYSTEM_EVENT,
            lambda c: c.post_system_event(
                room, event.value, who, whom, name, text, data, extra
            ),
        )

    async def search_messages(
        self, query: str, *, user_id: str, room_id: str | None = None
    ) -> list[Comment]:
        """Search the last 100 messages matching *query* visible to *user_id*.

        Served by v2 only; with ``api_version="auto"`` it is routed to v2.

        Args:
            query: The text to look for (case-insensitive on the fake).
            user_id: Whose rooms are searched (v2's ``user_email``).
            room_id: Search this room only.

        Raises:
            UnsupportedOperationError: The server (or pinned dialect) has no
                v2 search.
        """
        user = check_id(user_id, "user_id")
        text = check_url_value(check_name(query, "query"), "query")
        room = check_optional_id(room_id, "room_id")
        return await self._call(
            Operation.SEARCH_MESSAGES, lambda c: c.search_messages(user, text, room)
        )

    async def get_comments_range(
        self, room_id: str, first_comment_id: int, last_comment_id: int
    ) -> list[Comment]:
        """The comments of a room between two comment ids (v2.1).

        ``load_comments_with_range``; each comment's ``unique_temp_id`` is
        the ``unique_id`` the server stored for it.

        Raises:
            UnsupportedOperationError: The server (or pinned dialect) is v2.
        """
        room = check_id(room_id, "room_id")
        first = check_comment_id(first_comment_id, "first_comment_id")
        last = check_comment_id(last_comment_id, "last_comment_id")
        return await self._call(
            Operation.LOAD_COMMENTS_WITH_RANGE,
            lambda c: c.load_comments_with_range(room, first, last),
        )

    def _listing(
        self,
        operation: Operation,
        build: Callable[[Codec, int], Call[Page[T]]],
        key: Callable[[T], str],
    ) -> Listing[T]:
        """The lazy listing of *operation*, *build* making each page's call."""

        def fetch(number: int) -> Awaitable[Page[T]]:
            return self._call(operation, functools.partial(_at, build, number))

        return Listing(operation, fetch, key)
