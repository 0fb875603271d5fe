"""Pure data passed between the client, the dialects and the transport.

:class:`Operation` names every logical operation, :class:`Dialect` the two
REST dialects; a dialect answers an operation with a :class:`Call` (a
:class:`RequestSpec` and the parser of its ``results``); the transport turns
the spec into HTTP and hands back a :class:`RawResponse`; listings parse to a
:class:`Page`. Nothing here performs I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")

#: A query string as ordered pairs; repeated keys carry arrays (``room_ids[]``).
Query = tuple[tuple[str, str], ...]


class Dialect(enum.Enum):
    """The two REST dialects a Qiscus server may speak."""

    # Members are singletons compared by identity: hashing them by identity
    # too spares a Python-level hash (Enum hashes its name) on every dict
    # lookup of the per-request path.
    __hash__ = object.__hash__

    V2 = "v2"
    V2_1 = "v2.1"

    @property
    def prefix(self) -> str:
        """The path prefix every endpoint of this dialect lives under."""
        return f"/api/{self.value}/rest"

    def __str__(self) -> str:
        return self.value


class Operation(enum.Enum):
    """Every logical operation the client knows, independent of dialect.

    ``str()`` gives the :class:`~aioqiscus.QiscusClient` method that performs
    it (:attr:`method_name`), which is how reports and errors name it; the
    value is the operation's internal key.
    """

    __hash__ = object.__hash__  # as Dialect's: looked up on every request

    CREATE_ROOM = "create_room"
    GET_OR_CREATE_ROOM_WITH_TARGET = "get_or_create_room_with_target"
    GET_OR_CREATE_CHANNEL = "get_or_create_channel"
    GET_ROOMS_INFO = "get_rooms_info"
    UPDATE_ROOM = "update_room"
    ADD_PARTICIPANTS = "add_participants"
    REMOVE_PARTICIPANTS = "remove_participants"
    LIST_PARTICIPANTS = "list_participants"
    LIST_USER_ROOMS = "list_user_rooms"
    GET_UNREAD_COUNTS = "get_unread_counts"
    POST_COMMENT = "post_comment"
    LIST_COMMENTS = "list_comments"
    POST_SYSTEM_EVENT = "post_system_event"
    SEARCH_MESSAGES = "search_messages"
    LOGIN_OR_REGISTER = "login_or_register"
    GET_USER = "get_user"
    RESET_USER_TOKEN = "reset_user_token"  # noqa: S105 - an endpoint name
    GET_USER_TOKEN = "get_user_token"  # noqa: S105 - an endpoint name
    LIST_USERS = "list_users"
    LIST_UNREAD_USERS = "list_unread_users"
    GET_USER_UNREAD_COUNTS = "get_user_unread_counts"
    DEACTIVATE_USERS = "deactivate_users"
    REACTIVATE_USERS = "reactivate_users"
    GET_AVERAGE_REPLY_TIME = "get_average_reply_time"
    LOAD_COMMENTS_WITH_RANGE = "load_comments_with_range"
    LIST_WEBHOOK_LOGS = "list_webhook_logs"
    CREATE_EXPORT = "create_export"
    LIST_EXPORTS = "list_exports"
    GET_EXPORT = "get_export"
    DELETE_EXPORT = "delete_export"
    CREATE_IMPORT = "create_import"
    LIST_IMPORTS = "list_imports"

    def __str__(self) -> str:
        return self.method_name

    @property
    def method_name(self) -> str:
        """The name of the client method that performs this operation."""
        return _METHOD_NAMES.get(self.value, self.value)


#: Operations (by value) whose client method is not named after them:
#: listings are ``iter_*`` async iterators, and ``load_comments_with_range``
#: is read by ``get_comments_range``. Keyed by value so that an operation is
#: named here whichever module adds it.
_METHOD_NAMES = {
    "list_participants": "iter_participants",
    "list_user_rooms": "iter_user_rooms",
    "list_comments": "iter_comments",
    "list_users": "iter_users",
    "list_unread_users": "iter_unread_users",
    "list_webhook_logs": "iter_webhook_logs",
    "load_comments_with_range": "get_comments_range",
}


@attrs.frozen
class Route:
    """Where a dialect serves an operation: HTTP verb and path."""

    method: str
    path: str


# The values made on every request (RequestSpec, Call, RawResponse) are
# plain attrs classes, never changed once made: a frozen attrs class sets
# each field through object.__setattr__, which made these three cost about
# 10,000 CPU instructions more per request than they do now.


@attrs.define
class RequestSpec:
    """One HTTP request, described as data.

    Attributes:
        method: HTTP verb, upper case.
        path: Absolute path below the base URL (``/api/v2.1/rest/create_room``).
        query: Ordered query pairs; arrays repeat the ``name[]`` key.
        json: The JSON body, or ``None`` for requests without one.
        files: Multipart file fields (name -> (filename, content, type)),
            sent with *form* fields instead of a JSON body.
        form: Multipart form fields, with *files*.
        idempotent: Whether repeating the request is harmless, which decides
            whether the transport may retry it after an ambiguous failure.
    """

    method: str
    path: str
    query: Query = ()
    json: Mapping[str, Any] | None = None
    idempotent: bool = True
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    form: Mapping[str, str] | None = None


@attrs.define
class RawResponse:
    """An HTTP response as the transport received it.

    Its ``repr`` gives the body's size only: a server may echo credentials,
    and responses sit in the frame locals of error tracebacks.
    """

    status_code: int
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")


@attrs.define
class Call(Generic[T]):
    """A request and the pure function that turns its ``results`` into models.

    *read_body*, where set, reads a success's whole body at once, past the
    envelope (a comment page decoded into msgspec structs, a comment send's
    answer): it may raise
    anything, and the answer is then read the usual way, by
    :func:`~aioqiscus._envelope.decipher` and *parse*, which decide every
    value and every error.
    """

    operation: Operation
    request: RequestSpec
    parse: Callable[[Any], T]
    read_body: Callable[[bytes], T] | None = None


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing.

    Attributes:
        items: The page's items.
        has_more: Whether another page may follow.
        total: How many items the whole listing holds, where the page says
            (``meta.total_room``, ``meta.total_data``).
        total_pages: How many pages it spans, where the page says
            (``meta.total_page``).
        current_page: The page number the server says it answered
            (``meta.current_page`` of ``get_user_rooms``), where it says.
    """

    items: tuple[T, ...]
    has_more: bool
    total: int | None = None
    total_pages: int | None = None
    current_page: int | None = None
