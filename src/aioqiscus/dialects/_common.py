"""What both dialects share: field hooks, parsers, request helpers, refusals.

- field hooks (:func:`identifier`, :func:`timestamp`, :func:`seconds`, ...)
  and :func:`base_converter`, the converter each dialect starts from;
- :func:`build_comment`, the hand-written comment reader (the hot path),
  and :class:`Senders`, which structures each sender of a page once;
- :class:`Shapes`: one dialect's routes and the parsers of its converter
  (``parse_user``, ``parse_room``, ``parse_comment``, a room answer with its
  ``changed`` flag and bundled comments, comment sends, paged listings with
  their totals, the ``load_comments`` page);
- request helpers (:func:`array_query`, :func:`options_string`,
  :func:`window_query`, ...);
- :func:`refuse`, the builder of an operation a dialect does not serve.

Strictly private to ``dialects/``. Everything here is pure: no I/O, no
httpx. The envelope itself (decoding, errors, ``results``) is dialect-neutral
and lives in :mod:`aioqiscus._envelope`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

import attrs

from .. import _json
from .._envelope import describe, field, loads, structure
from .._wire import Call, Dialect, Operation, Page, Query, RequestSpec, Route
from ..errors import ResponseShapeError, UnsupportedOperationError
from ..models import RAW_OPTIONS_KEY, Comment, Room, RoomType, User
from ._assemble import twin
from ._payloads import from_wire, summary, to_wire

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")

# ---------------------------------------------------------------- field hooks


def strict_str(value: Any, _: Any = None) -> str:
    """A string; ``null`` reads as ``""`` (servers send either for "none")."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    msg = f"expected a string, got {type(value).__name__}"
    raise TypeError(msg)


def optional_str(value: Any, _: Any = None) -> str | None:
    """A string, with ``""`` and ``null`` both meaning unset (``None``)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    msg = f"expected a string or null, got {type(value).__name__}"
    raise TypeError(msg)


def identifier(value: Any, _: Any = None) -> str:
    """An id: v2 sends integers, v2.1 strings; we always hand out strings."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    msg = f"expected a non-empty string or integer id, got {value!r:.40}"
    raise TypeError(msg)


def optional_identifier(value: Any, _: Any = None) -> str | None:
    """An id or ``None`` (``null``, ``""`` or 0 for "no room")."""
    if value is None or value in ("", 0):
        return None
    return identifier(value)


def optional_int(value: Any, _: Any = None) -> int | None:
    """An integer, ``None`` for ``null``; numeric strings are accepted."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    msg = f"expected an integer, got {value!r:.40}"
    raise TypeError(msg)


def optional_count(value: Any, _: Any = None) -> int | None:
    """A count (a JSON integer, 0 or more); ``null`` reads as ``None``.

    Unlike ids (:func:`optional_int`), a count is never read from a string:
    every document shows counts as numbers, so ``"10"``, ``-1``, ``1.5`` or
    ``true`` is a malformed answer, not a count.
    """
    if value is None:
        return None
    if type(value) is int and value >= 0:
        return value
    msg = f"expected a count (an integer, 0 or more), got {value!r:.40}"
    raise TypeError(msg)


def strict_count(value: Any, _: Any = None) -> int:
    """A count that must be there (``null`` is refused, never read as 0)."""
    found = optional_count(value)
    if found is None:
        msg = "expected a count (an integer, 0 or more), got null"
        raise TypeError(msg)
    return found


def strict_int(value: Any, _: Any = None) -> int:
    """An integer that must be there (``null`` is refused)."""
    found = optional_int(value)
    if found is None:
        msg = "expected an integer, got null"
        raise TypeError(msg)
    return found


def seconds(value: Any, _: Any = None) -> timedelta:
    """A duration sent as a number of seconds (``get_average_reply_time_user``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    msg = f"expected a number of seconds, got {value!r:.40}"
    raise TypeError(msg)


def optional_bool(value: Any, _: Any = None) -> bool | None:
    """A boolean or ``None``."""
    if value is None or isinstance(value, bool):
        return value
    msg = f"expected a boolean, got {type(value).__name__}"
    raise TypeError(msg)


def strict_bool(value: Any, _: Any = None) -> bool:
    """A boolean; ``null`` reads as ``False``."""
    return bool(optional_bool(value))


#: How Go's zero time (its encoding of "no time") starts.
GO_ZERO_TIME_PREFIX = "0001-01-01"


def timestamp(value: Any, _: Any = None) -> datetime | None:
    """An aware UTC datetime; missing, empty and Go's zero time read as None.

    Servers send ``Z`` and ``+07:00`` offsets and sometimes fractional
    seconds (``qiscus-rest-v2.md``, ``v2.1/users.md``), and echo periods as
    ``YYYY-MM-DD hh:mm:ss`` (``get_average_reply_time_user``); naive values
    are UTC.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        msg = f"expected an ISO 8601 timestamp, got {type(value).__name__}"
        raise TypeError(msg)
    if value.startswith(GO_ZERO_TIME_PREFIX):
        return None
    parsed = datetime.fromisoformat(value)
    zone = parsed.tzinfo
    if zone is UTC:  # "Z" and "+00:00": most answers, already as wanted
        return parsed
    if zone is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _as_object(value: Any) -> Mapping[str, Any] | None:
    """*value* as a JSON object, decoding a JSON string; None if it is not one.

    ``null``, ``""`` and ``"{}"`` read as ``{}``.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = loads(value)
        except ValueError:
            return None
        if isinstance(decoded, dict):
            return decoded
    return None


def json_object(value: Any, _: Any = None) -> Mapping[str, Any]:
    """A JSON object that the server may also send as a JSON string.

    v2.1 sends ``room_options`` and sometimes ``extras`` as strings
    (``qiscus-rest-v2.1-rooms.md``, ``v2.1/users.md``).
    """
    found = _as_object(value)
    if found is None:
        msg = f"expected a JSON object, got {type(value).__name__} {value!r:.40}"
        raise TypeError(msg)
    return found


def room_options(value: Any, _: Any = None) -> Mapping[str, Any]:
    """Room options, always a mapping.

    Unlike other JSON fields, options are free-form application data: a
    value that is not a JSON object (plain text, a JSON list) is kept as
    ``{RAW_OPTIONS_KEY: value}`` instead of failing the whole response.
    """
    found = _as_object(value)
    return {RAW_OPTIONS_KEY: value} if found is None else found


def room_type(value: Any, _: Any = None) -> RoomType:
    """A room type; ``chat_type`` and ``room_type`` share the same values."""
    try:
        return RoomType(value)
    except ValueError:
        msg = f"unknown room type {value!r:.40}"
        raise TypeError(msg) from None


def base_converter() -> cattrs.Converter:
    """A converter with the hooks both dialects share.

    Hooks are registered per type so that the generated structuring
    functions call them directly; field-specific hooks (ids, options) are
    attached with ``cattrs.gen.override`` by each dialect. Converters are
    built on first use (:class:`Shapes`), so ``import aioqiscus`` loads
    neither cattrs nor the generated functions (a third of its import time).
    """
    import cattrs  # noqa: PLC0415 - on first use, not at import

    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_structure_hook(str, strict_str)
    conv.register_structure_hook(bool, strict_bool)
    conv.register_structure_hook_func(lambda t: t == (str | None), optional_str)
    conv.register_structure_hook_func(lambda t: t == (int | None), optional_int)
    conv.register_structure_hook_func(lambda t: t == (bool | None), optional_bool)
    conv.register_structure_hook_func(lambda t: t == (datetime | None), timestamp)
    conv.register_structure_hook_func(lambda t: t == Mapping[str, Any], json_object)
    conv.register_structure_hook(RoomType, room_type)
    return conv


# ---------------------------------------------------------------- comments

#: The ``extras`` key in which aioqiscus stores a v2.1 comment's send marker
#: (v2.1 documents no ``unique_temp_id``); v2 uses ``unique_temp_id`` itself.
MARKER_KEY = "aioqiscus_unique_temp_id"


def check_comment_object(data: Any) -> None:
    """Refuse a comment that is not a JSON object, naming what it is."""
    if type(data) is not dict:
        msg = f"expected a comment object, got {describe(data)}"
        raise TypeError(msg)


def no_author(key: str) -> TypeError:
    """The error for a comment that lacks its author's wire key *key*.

    :attr:`Comment.sender` is never ``None``: every comment both dialects
    document names its author (system events too), so one without is
    malformed.
    """
    return TypeError(f"comment without its author ({key!r})")


def author_id(value: Any, key: str) -> str:
    """A comment author's identifier, from the wire key *key*."""
    if value is None or value == "":
        raise no_author(key)
    return identifier(value)


_AssembledComment: Any = twin(Comment)
_new = object.__new__
_from_iso = datetime.fromisoformat


def build_comment(
    data: Any,
    sender: User,
    room_name: str | None = None,
    room_kind: RoomType | None = None,
    room_id: str | None = None,
) -> Comment:
    """A :class:`Comment` from the fields both dialects share.

    The dialect supplies the *sender* (flat in v2, nested in v2.1), the room
    facts only v2 comments carry (*room_name*, *room_kind*) and the
    *room_id* of the request, for answers without one (v2.1 never sends
    it). *data* is a dict (the reader checked it with
    :func:`check_comment_object`); its values go to :func:`comment_of`. A
    missing ``message`` is a KeyError, mapped to ResponseShapeError by
    :func:`structure`.
    """
    get = data.get
    return comment_of(
        get("type"),
        get("extras"),
        get("unique_temp_id"),
        get("unique_id"),
        get("id"),
        get("comment_before_id"),
        get("message", KeyError),
        get("disable_link_preview", False),
        get("room_id", room_id),
        get("payload"),
        get("timestamp"),
        sender,
        room_name,
        room_kind,
    )


def comment_of(  # noqa: C901, PLR0912, PLR0915 - one flat function: a call per field group costs
    kind: Any,
    extras: Any,
    unique_temp_id: Any,
    unique_id: Any,
    comment_id: Any,
    before: Any,
    text: Any,
    no_preview: Any,
    room: Any,
    payload: Any,
    sent_at: Any,
    sender: User,
    room_name: str | None,
    room_kind: RoomType | None,
) -> Comment:
    """A :class:`Comment` from the values of a comment's JSON fields.

    Both readers of a comment end here: :func:`build_comment` with a dict's
    values, and a page decoded into structs (``_typed``) with its fields'.
    *text* is :class:`KeyError` where ``message`` is missing, *room* the
    request's room id where ``room_id`` is. Written out by hand because
    comments are the hot path (a generated cattrs function cost 4 µs of the
    10 µs per-comment budget): each field goes through the same hook as a
    generated function would use, except where the value already has its
    type, the common case, which is taken as is, and the :class:`Comment`
    is put together as an assembler (``_assemble``) would, in place.
    Checks run in field order, so a comment wrong in two ways always names
    the same one.
    """
    kind = kind or "text"
    if type(kind) is not str:
        msg = "comment type must be a string"
        raise TypeError(msg)
    if type(extras) is not dict:
        extras = {} if extras is None else json_object(extras)
    marker = extras.get(MARKER_KEY) if extras else None
    if marker is not None:
        extras = extras.copy()  # without the marker: a copy, not a comprehension
        del extras[MARKER_KEY]
    # Our own marker first, then the top-level unique_temp_id, then a
    # server's unique_id: load_comments_with_range answers a unique_id of its
    # own making, which must not hide the marker the send looks for.
    temp_id = marker or unique_temp_id or unique_id
    if temp_id is not None and type(temp_id) is not str:
        temp_id = optional_str(temp_id)
    if comment_id is not None and type(comment_id) is not int:
        comment_id = optional_int(comment_id)
    if before is not None and type(before) is not int:
        before = optional_int(before)
    if type(text) is not str:
        if text is KeyError:
            raise KeyError("message")
        text = strict_str(text)
    if type(no_preview) is not bool:
        no_preview = strict_bool(no_preview)
    if type(room) is not str or not room:
        # v2 sends integers: what optional_identifier makes of them.
        room = str(room) if type(room) is int and room else optional_identifier(room)
    if payload is not None and (payload or type(payload) is not dict):
        payload = from_wire(kind, payload)
    else:
        payload = None
    # timestamp(sent_at), its usual case without the call: a UTC time.
    # Anything else (null or "", another offset or none, year 1, which may
    # be Go's zero time, or not a time) is timestamp()'s to read or refuse.
    try:
        at = _from_iso(sent_at)
    except (TypeError, ValueError):
        at = None
    if at is None or at.tzinfo is not UTC or at.year == 1:
        at = timestamp(sent_at)
    # What assembler(Comment) does, without its call: a page builds a
    # hundred (tests/test_dict_pages.py checks every field is set).
    comment = _new(_AssembledComment)
    comment.id = comment_id
    comment.room_id = room
    comment.sender = sender
    comment.message = text
    comment.type = kind
    comment.payload = payload
    comment.timestamp = at
    comment.unique_temp_id = temp_id or None
    comment.extras = extras
    comment.comment_before_id = before
    comment.disable_link_preview = no_preview
    comment.room_name = room_name
    comment.room_type = room_kind
    comment.__class__ = Comment
    return comment  # type: ignore[no-any-return]  # a Comment, now


#: A dialect's comment reader: the comment's JSON, the room id of the
#: request (for answers without one) and, when reading a page, its senders.
CommentReader = Callable[[Any, "str | None", "Senders | None"], Comment]
#: A dialect's reader of a whole ``load_comments`` body (``_typed``): the
#: body and the request's room id; anything unusual raises.
PageReader = Callable[[bytes, "str | None"], tuple[Comment, ...]]
#: A dialect's ``post_comment_body``: the room id, sender, message, type,
#: payload, extras, marker and link-preview flag, and where the marker goes.
CommentBody = Callable[..., dict[str, Any]]
#: A dialect's reader of a whole comment send's answer (``results.comment``):
#: the body and the request's room id; anything unusual raises.
SentReader = Callable[[bytes, "str | None"], Comment]


class TypedReaders(NamedTuple):
    """A dialect's readers of whole answers decoded into structs (``_typed``)."""

    page: PageReader
    sent: SentReader


def _fingerprint(data: Any) -> tuple[list[Any], list[type]] | None:
    """The keys and top-level value types of a sender's JSON (None if neither)."""
    if type(data) is dict:
        return list(data), list(map(type, data.values()))
    if type(data) is tuple:
        return [], list(map(type, data))
    return None


class Senders:
    """The senders of one page of comments, each structured once.

    A page's comments come from a handful of people, and a v2.1 comment
    nests its whole sender: structuring each distinct sender once, and
    sharing its frozen :class:`User` among the comments it wrote, saves a
    third of the cost of a page. A sender is reused when its JSON equals
    (``==``) the one the user was built from, with the same keys in the same
    order holding values of the same JSON types (``true == 1`` in Python but
    not here), so every field reads as a fresh structuring would read it.
    Nested values (a user's extras) are compared by ``==`` alone: equal
    documents whose extras differ only as ``1`` and ``1.0`` share the first.

    :attr:`seen` maps each key to the JSON, the user built from it and what
    a dialect's page reader (``_read_page``) compares of it (``None`` where
    it was not stored by one): a page reader consults and fills it directly
    for the usual shape of sender, where equal values are of equal types.
    """

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[Any, tuple[Any, User, Any]] = {}

    def user(self, key: Any, data: Any, build: Callable[[Any], User]) -> User:
        """``build(data)``, or the user built from the same *data* under *key*."""
        kind = type(key)
        if kind is not str and kind is not int and kind is not tuple:
            return build(data)
        seen = self.seen.get(key)
        if seen is not None:
            before, user, _ = seen
            if before == data and _fingerprint(before) == _fingerprint(data):
                return user
        user = build(data)
        self.seen[key] = (data, user, None)
        return user


#: A dialect's reader of a page's comments: the list from ``results`` and
#: the room id of the request.
CommentsReader = Callable[[list[Any], "str | None"], tuple[Comment, ...]]


class UnusualCommentError(Exception):
    """A comment a page reader leaves to the dialect's general reader."""


def unusual() -> NoReturn:
    """Leave the comment being read to the dialect's general reader.

    A page reader's way out of its usual shape: the general reader decides
    every value and every error.
    """
    raise UnusualCommentError


class Shapes:
    """One dialect's routes and the parsers of its converter.

    Each dialect module builds one from the function that configures its
    converter (with hooks for :class:`User` and :class:`Room`), its comment
    reader and its reader of a page's comments, and exposes :meth:`user`,
    :meth:`room` and :meth:`comment` as ``parse_user``, ``parse_room`` and
    ``parse_comment``. The converter is
    built the first time a parser needs it (:meth:`hook`).
    """

    def __init__(
        self,
        converter: Callable[[], cattrs.Converter],
        routes: Mapping[Operation, Route],
        read_comment: CommentReader,
        read_comments: CommentsReader,
        typed_readers: Callable[[], TypedReaders],
    ) -> None:
        self.routes = routes
        self._converter = functools.cache(converter)
        self._hooks: dict[type, Callable[[Any, Any], Any]] = {}
        self._read_comment = read_comment
        self._read_comments = read_comments
        self._typed = functools.cache(typed_readers)

    def hook(self, cls: type[T]) -> Callable[[Any, Any], T]:
        """The converter's structuring function for *cls*."""
        found = self._hooks.get(cls)
        if found is None:
            found = self._hooks[cls] = self._converter().get_structure_hook(cls)
        return found

    def spec(
        self,
        op: Operation,
        *,
        query: Query = (),
        json: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> RequestSpec:
        """The request for *op* at its route."""
        route = self.routes[op]
        return RequestSpec(route.method, route.path, query, json, idempotent)

    def user(self, data: Any) -> User:
        """A user object (in v2 also a bare email)."""
        user = self.hook(User)
        return structure(lambda d: user(d, User), data, "user")

    def room(self, data: Any) -> Room:
        """A room object (in v2 either of its two shapes)."""
        room = self.hook(Room)
        return structure(lambda d: room(d, Room), data, "room")

    def comment(self, data: Any, room_id: str | None = None) -> Comment:
        """A comment; *room_id* fills the ``room_id`` v2.1 answers leave out."""
        read = self._read_comment
        return structure(lambda d: read(d, room_id, None), data, "comment")

    def comments(self, found: list[Any], room_id: str | None) -> tuple[Comment, ...]:
        """A page's comments, each distinct sender structured once."""
        read = self._read_comments
        return structure(lambda page: read(page, room_id), found, "comments")

    def one_user(self, results: Any) -> User:
        """The user of ``results.user``."""
        return self.user(field(results, "user"))

    def room_answer(self, results: Any) -> Room:
        """``results.room``, with what the answer says beside it.

        ``changed`` (``update_room``, ``get_or_create_channel``; the Go SDK's
        ``UpdateRoomResponse``) and the newest ``comments`` v2 bundles with a
        room (``qiscus-rest-v2.md``, Update Room, Get or create room with
        target) go to :attr:`Room.changed` and :attr:`Room.comments`.
        """
        room = self.room(field(results, "room"))
        changed = optional_bool(results.get("changed"))
        bundled = listed(results, "comments") if "comments" in results else []
        if changed is None and not bundled:
            return room
        comments = self.comments(bundled, room.id)
        return attrs.evolve(room, comments=comments, changed=changed)

    def comment_call(
        self, op: Operation, body: dict[str, Any], room_id: str
    ) -> Call[Comment]:
        """A comment send (not idempotent), answered by ``results.comment``."""
        spec = self.spec(op, json=body, idempotent=False)

        def parse(results: Any) -> Comment:
            return self.comment(field(results, "comment"), room_id)

        # Every send reads its answer: a success is read at once, past the
        # envelope's and the parser's calls, and anything unusual raises
        # there and is read as above, which decides every value and error.
        read = self.sent_reader()

        def read_body(answer: bytes) -> Comment:
            return read(answer, room_id)

        return Call(op, spec, parse, read_body)

    def comment_send(self, body_of: CommentBody) -> Callable[..., Call[Comment]]:
        """A dialect's ``post_comment``: the Call of the body *body_of* builds."""

        def post_comment(
            room_id: str, *values: Any, marker_in_extras: bool = True
        ) -> Call[Comment]:
            body = body_of(room_id, *values, marker_in_extras=marker_in_extras)
            return self.comment_call(Operation.POST_COMMENT, body, room_id)

        post_comment.__doc__ = f"The send {body_of.__name__} describes."
        return post_comment

    def sent_reader(self) -> SentReader:
        """The reader of a comment send's whole answer (its ``results.comment``).

        Into msgspec structs with ``aioqiscus[fast]``, else from the decoded
        dicts by the comment reader: chosen for the JSON library in use, so
        a caller that reads many sends keeps it while ``_json.BACKEND`` stays
        the same (``QiscusClient.post_comment`` does). Only the usual answer
        is read; anything else raises (any exception), and the answer is
        then read the usual way (:func:`~aioqiscus._envelope.decipher` and
        :meth:`comment_call`'s parse), which decides every value and every
        error.
        """
        if _json.BACKEND == "msgspec":
            return self._typed().sent
        return self._read_dict_sent

    def _read_dict_sent(self, answer: bytes, room_id: str | None) -> Comment:
        """A send's answer read from the decoded dicts (no ``aioqiscus[fast]``)."""
        found = _json.loads(answer)["results"]["comment"]
        return self._read_comment(found, room_id, None)

    def page_call(
        self,
        op: Operation,
        query: Query,
        read: Callable[[Any], list[T]],
        page: int,
        limit: int,
        total_key: str,
    ) -> Call[Page[T]]:
        """A paged listing: *read* takes the items from ``results``.

        ``meta.total_page``, else ``meta[total_key]``, else a full page, says
        whether more follow; both totals and ``meta.current_page``, where
        sent, go to the page.
        """

        def parse(results: Any) -> Page[T]:
            found = tuple(read(results))
            meta = results.get("meta")
            total, pages = totals(meta, total_key)
            if pages is not None:
                more = page < pages and bool(found)
            else:
                more = has_more(total, page, limit, len(found))
            return Page(found, more, total, pages, meta_count(meta, "current_page"))

        return Call(op, self.spec(op, query=query), parse)

    def comment_page(self, room_id: str, page: int, limit: int) -> Call[Page[Comment]]:
        """``load_comments``: the same query and answer in both dialects."""
        query = (("room_id", room_id), ("page", str(page)), ("limit", str(limit)))

        def parse(results: Any) -> Page[Comment]:
            found = self.comments(listed(results, "comments"), room_id)
            return Page(found, has_more=len(found) >= limit)

        op = Operation.LIST_COMMENTS
        if _json.BACKEND != "msgspec":
            return Call(op, self.spec(op, query=query), parse)
        typed = self._typed().page

        def read_body(body: bytes) -> Page[Comment]:
            found = typed(body, room_id)
            return Page(found, has_more=len(found) >= limit)

        return Call(op, self.spec(op, query=query), parse, read_body)


def refuse(
    operation: Operation, dialect: Dialect, hint: str
) -> Callable[..., NoReturn]:
    """The builder of an operation *dialect* does not serve: it raises.

    Stands where the :class:`~aioqiscus.dialects.Codec` protocol expects a
    builder; :class:`UnsupportedOperationError` names *hint*, the way out.
    """

    def refused(*_: object, **__: object) -> NoReturn:
        raise UnsupportedOperationError(operation, dialect, hint)

    refused.__doc__ = f"Refuse: {dialect} does not serve {operation}; {hint}."
    return refused


# ---------------------------------------------------------------- requests


def array_query(name: str, values: Iterable[str]) -> Query:
    """``name[]=a&name[]=b``: the array form both dialects' GET endpoints read."""
    key = f"{name}[]"
    return tuple((key, v) for v in values)


def options_string(options: Mapping[str, Any] | None) -> str | None:
    """Options as the JSON string the wire expects (``room_options``)."""
    if options is None:
        return None
    return json.dumps(dict(options), separators=(",", ":"), ensure_ascii=False)


def comment_body(
    message: str, payload: Any, dialect: Any
) -> tuple[str, dict[str, Any]]:
    """The message text and wire payload of a comment with *payload*.

    An empty *message* takes the payload's own text (:func:`summary`). A
    comment without a payload has nothing to convert: the dialects' bodies
    send its message as it is, without this call.
    """
    return message or summary(payload), to_wire(payload, dialect)


def window_query(since: datetime | None, until: datetime | None) -> Query:
    """``start_time``/``end_time`` as the documents write them.

    ``"YYYY-MM-DD hh:mm:ss"`` (``v2.1/users.md``, Get Unread Users), in UTC:
    the documents name no zone, and every time the servers answer is UTC.
    """
    query: Query = ()
    for key, value in (("start_time", since), ("end_time", until)):
        if value is not None:
            query += ((key, value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")),)
    return query


def listed(results: Any, *keys: str) -> list[Any]:
    """``results[key]``, the first of *keys* present, which must be a list.

    Every list the documents show is a JSON array, empty when there is
    nothing: ``null`` is refused like any other non-list, because reading
    it as an empty page would hide a broken answer behind "no comments".
    """
    value = field(results, *keys)
    if type(value) is not list:
        name = next(k for k in keys if k in results)
        got = "null" if value is None else describe(value)
        msg = f"expected {name} to be a list, got {got}"
        raise ResponseShapeError(msg)
    return value


def counts(results: Any, key: str, id_key: str) -> dict[str, int]:
    """``results[key]``, a list of ``{id_key, unread_count}``, as a mapping.

    Each ``unread_count`` is a count the documents always show: ``null``
    or a wrong type is refused, never read as 0.
    """
    found = listed(results, key)

    def one(entry: Any) -> tuple[str, int]:
        try:
            unread = strict_count(entry["unread_count"])
        except TypeError as exc:
            msg = f"unread_count of {entry.get(id_key)!r:.40}: {exc}"
            raise ResponseShapeError(msg) from exc
        return identifier(entry[id_key]), unread

    return dict(structure(lambda f: [one(e) for e in f], found, key))


def meta_count(meta: Any, key: str) -> int | None:
    """``meta[key]``, a count, or ``None`` where the page does not say.

    A missing ``meta``, a missing key and ``null`` mean "not said"; a
    ``meta`` that is not an object, or a value that is not a count
    (``"39"``, ``-1``, ``true``), is a malformed answer.
    """
    if meta is None:
        return None
    if type(meta) is not dict:
        msg = f"expected 'meta' to be an object, got {describe(meta)}"
        raise ResponseShapeError(msg)
    try:
        return optional_count(meta.get(key))
    except TypeError as exc:
        msg = f"meta.{key}: {exc}"
        raise ResponseShapeError(msg) from exc


def totals(meta: Any, total_key: str) -> tuple[int | None, int | None]:
    """(items, pages) a page's ``meta`` counts, ``None`` where it does not."""
    return meta_count(meta, total_key), meta_count(meta, "total_page")


def has_more(total: int | None, page: int, limit: int, count: int) -> bool:
    """Whether a page is followed by another, from the *total* or the page size."""
    if total is not None:
        return page * limit < total and count > 0
    return count >= limit
