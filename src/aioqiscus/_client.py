"""QiscusClient: the public coroutines."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx

from ._negotiate import NegotiationReport, Negotiator
from ._retry import RetryPolicy
from ._transport import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Transport
from ._wire import Call, Dialect, Operation
from .dialects import Codec, Page
from .errors import InvalidArgumentError, ResponseShapeError
from .models import Room, RoomType, User

__all__ = ["QiscusClient"]

T = TypeVar("T")

_APP_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_VERSIONS: Mapping[str, Dialect | None] = {
    "auto": None,
    "v2": Dialect.V2,
    "v2.1": Dialect.V2_1,
}
_LOOPBACK_NAMES = frozenset({"localhost"})


# ---------------------------------------------------------------- validation


def _check_id(value: object, name: str) -> str:
    """A user or room identifier: a non-empty string without edge spaces."""
    if not isinstance(value, str):
        msg = (
            f"{name} must be a str, got {type(value).__name__} {value!r:.40}; "
            "ids are strings in aioqiscus (v2 integer room ids included)"
        )
        raise TypeError(msg)
    if not value or value.strip() != value:
        msg = f"{name} must be a non-empty string without surrounding spaces"
        raise InvalidArgumentError(msg)
    return value


def _check_ids(values: object, name: str, *, allow_empty: bool = False) -> list[str]:
    """A sequence of identifiers; a bare string is refused, not split."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        msg = f"{name} must be a list of str, got {type(values).__name__}"
        raise TypeError(msg)
    checked = [_check_id(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if not checked and not allow_empty:
        msg = f"{name} must not be empty"
        raise InvalidArgumentError(msg)
    if len(set(checked)) != len(checked):
        msg = f"{name} contains duplicates"
        raise InvalidArgumentError(msg)
    return checked


def _check_optional_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"{name} must be a str or None, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def _check_name(value: object, name: str) -> str:
    text = _check_optional_text(value, name)
    if text is None or not text.strip():
        msg = f"{name} must be a non-empty string"
        raise InvalidArgumentError(msg)
    return text


def _check_options(value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        msg = f"options must be a mapping with str keys, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def _check_page_size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"page_size must be an int, got {type(value).__name__}"
        raise TypeError(msg)
    if value < 1:
        msg = f"page_size must be >= 1, got {value}"
        raise InvalidArgumentError(msg)
    return value


def _check_base_url(value: object) -> str:
    """Refuse base URLs that could send the secret somewhere unintended.

    The host is judged after parsing (``http://localhost:@evil.com/`` is
    evil.com), plain http is allowed only for loopback hosts, and userinfo,
    query and fragment are refused.
    """
    if not isinstance(value, str):
        msg = f"base_url must be a str, got {type(value).__name__}"
        raise TypeError(msg)
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        msg = f"base_url is not a valid URL: {exc}"
        raise InvalidArgumentError(msg) from exc
    if url.scheme not in ("https", "http") or not url.host:
        msg = "base_url must be an absolute http(s) URL"
        raise InvalidArgumentError(msg)
    if url.userinfo or url.query or url.fragment or "@" in value or "#" in value:
        msg = "base_url must not contain credentials, a query or a fragment"
        raise InvalidArgumentError(msg)
    if url.scheme == "http" and not _is_loopback(url.host):
        msg = "base_url must use https (plain http is allowed only for loopback)"
        raise InvalidArgumentError(msg)
    return value.rstrip("/")


def _is_str(value: object) -> bool:
    """Runtime check for arguments typed ``str``: users' code is not always typed."""
    return isinstance(value, str)


def _is_optional_room_type(value: object) -> bool:
    return value is None or isinstance(value, RoomType)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _at(build: Callable[[Codec, int], Call[T]], page: int, codec: Codec) -> Call[T]:
    return build(codec, page)


# ---------------------------------------------------------------- the client


class QiscusClient:
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
        timeout: Timeout for our own httpx client (ignored with *http_client*).
        retry: The retry policy; ``None`` disables retries.

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
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen value
    ) -> None:
        if not _is_str(app_id) or not _APP_ID.match(app_id):
            msg = "app_id must be a DNS label: letters, digits and inner hyphens"
            raise InvalidArgumentError(msg)
        if not _is_str(secret_key) or not secret_key:
            msg = "secret_key must be a non-empty str"
            raise InvalidArgumentError(msg)
        if api_version not in _VERSIONS:
            msg = f"api_version must be 'auto', 'v2' or 'v2.1', got {api_version!r}"
            raise InvalidArgumentError(msg)
        self.app_id = app_id
        self._transport = Transport(
            app_id=app_id,
            secret_key=secret_key,
            base_url=_check_base_url(base_url or DEFAULT_BASE_URL),
            http_client=http_client,
            timeout=timeout,
            retry=retry or RetryPolicy(max_retries=0),
        )
        self._negotiator = Negotiator(self._transport, _VERSIONS[api_version])

    def __repr__(self) -> str:
        return (
            f"QiscusClient(app_id={self.app_id!r}, "
            f"base_url={self._transport.base_url!r}, dialect={self.dialect})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless the httpx client was injected)."""
        await self._transport.aclose()

    # ------------------------------------------------------------ dialect

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

        Raises:
            NegotiationError: Not negotiated yet.
        """
        return self._negotiator.report()

    async def _call(self, operation: Operation, build: Callable[[Codec], Call[T]]) -> T:
        dialect = await self._negotiator.resolve()
        codec = self._negotiator.codec_for(operation, dialect)
        return await self._transport.call(build(codec))

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
        name = _check_name(name, "name")
        members = _check_ids(participants, "participants")
        owner = _check_id(creator, "creator")
        avatar = _check_optional_text(avatar_url, "avatar_url")
        opts = _check_options(options)
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
        users = _check_ids(user_ids, "user_ids")
        if len(users) != 2:  # noqa: PLR2004
            msg = f"user_ids must hold exactly 2 users, got {len(users)}"
            raise InvalidArgumentError(msg)
        opts = _check_options(options)
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

        Raises:
            UnsupportedOperationError: The server speaks only v2.
        """
        uid = _check_id(unique_id, "unique_id")
        members = _check_ids(participants, "participants")
        title = _check_optional_text(name, "name")
        avatar = _check_optional_text(avatar_url, "avatar_url")
        opts = _check_options(options)
        return await self._call(
            Operation.GET_OR_CREATE_CHANNEL,
            lambda c: c.get_or_create_channel(uid, members, title, avatar, opts),
        )

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
        rooms = _check_ids(room_ids, "room_ids", allow_empty=True)
        channels = _check_ids(channel_ids, "channel_ids", allow_empty=True)
        if not rooms and not channels:
            msg = "pass at least one room id or channel id"
            raise InvalidArgumentError(msg)
        user = None if as_user is None else _check_id(as_user, "as_user")
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
        room = _check_id(room_id, "room_id")
        title = None if name is None else _check_name(name, "name")
        avatar = _check_optional_text(avatar_url, "avatar_url")
        opts = _check_options(options)
        channel = None if channel_id is None else _check_id(channel_id, "channel_id")
        user = None if as_user is None else _check_id(as_user, "as_user")
        if title is None and avatar is None and opts is None and channel is None:
            msg = "update_room needs at least one of name, avatar_url, options, "
            msg += "channel_id"
            raise InvalidArgumentError(msg)
        return await self._call(
            Operation.UPDATE_ROOM,
            lambda c: c.update_room(room, title, avatar, opts, channel, user),
        )

    async def add_participants(
        self, room_id: str, user_ids: Sequence[str]
    ) -> list[User]:
        """Add users to a group room; returns the users now in it."""
        room = _check_id(room_id, "room_id")
        users = _check_ids(user_ids, "user_ids")
        return await self._call(
            Operation.ADD_PARTICIPANTS, lambda c: c.add_participants(room, users)
        )

    async def remove_participants(
        self, room_id: str, user_ids: Sequence[str]
    ) -> list[User]:
        """Remove users from a group room; returns the users removed."""
        room = _check_id(room_id, "room_id")
        users = _check_ids(user_ids, "user_ids")
        return await self._call(
            Operation.REMOVE_PARTICIPANTS, lambda c: c.remove_participants(room, users)
        )

    def iter_participants(
        self, room_id: str, *, page_size: int = 100, as_user: str | None = None
    ) -> AsyncIterator[User]:
        """Iterate over a room's participants, fetching pages lazily.

        Arguments are checked now, before any request.

        Args:
            room_id: The room.
            page_size: Participants per request (v2.1).
            as_user: A participant acting as reader; v2 requires it.
        """
        room = _check_id(room_id, "room_id")
        size = _check_page_size(page_size)
        user = None if as_user is None else _check_id(as_user, "as_user")
        return self._paginate(
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
    ) -> AsyncIterator[Room]:
        """Iterate over the rooms *user_id* is in, fetching pages lazily.

        v2 pages by a fixed 20 whatever *page_size* says.
        """
        user = _check_id(user_id, "user_id")
        size = _check_page_size(page_size)
        if not _is_optional_room_type(room_type):
            msg = f"room_type must be a RoomType, got {type(room_type).__name__}"
            raise TypeError(msg)
        return self._paginate(
            Operation.LIST_USER_ROOMS,
            lambda c, page: c.list_user_rooms(
                user, page, size, room_type, show_participants
            ),
            key=lambda r: r.id,
        )

    async def get_unread_counts(
        self, user_id: str, room_ids: Sequence[str]
    ) -> dict[str, int]:
        """Unread comments of *user_id* per room id."""
        user = _check_id(user_id, "user_id")
        rooms = _check_ids(room_ids, "room_ids")
        return await self._call(
            Operation.GET_UNREAD_COUNTS, lambda c: c.get_unread_counts(user, rooms)
        )

    async def _paginate(
        self,
        operation: Operation,
        build: Callable[[Codec, int], Call[Page[T]]],
        key: Callable[[T], str],
    ) -> AsyncIterator[T]:
        """Yield items page by page until a page says it is the last.

        A server that ignores ``page`` and repeats a page would loop forever;
        that is reported as a :class:`ResponseShapeError` instead.
        """
        page_number = 1
        previous: list[str] | None = None
        while True:
            call = functools.partial(_at, build, page_number)
            page = await self._call(operation, call)
            keys = [key(item) for item in page.items]
            if keys and keys == previous:
                msg = f"{operation}: page {page_number} repeats the previous page"
                raise ResponseShapeError(msg)
            for item in page.items:
                yield item
            if not page.has_more or not page.items:
                return
            previous = keys
            page_number += 1
