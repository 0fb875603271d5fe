"""The v2.1 dialect: ``/api/v2.1/rest``, users by ``user_id``, string ids.

Pure: one builder per operation, returning a :class:`~aioqiscus._wire.Call`
(request spec and parser), and ``c.refuse`` for the operations this dialect
does not serve; the parsers are this dialect's converter through
:class:`~aioqiscus.dialects._common.Shapes`. See
``shared/reference/qiscus-rest-v2.1-rooms.md`` and ``v2.1/*.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import models
from .._envelope import field, structure
from .._wire import Call, Dialect, Operation, Page, Query, RequestSpec, Route
from ..errors import InvalidArgumentError, ResponseShapeError
from ..models import Comment, Room, User
from . import _backups
from . import _common as c
from ._assemble import twin
from ._payloads import drop_none, from_wire

if TYPE_CHECKING:
    import cattrs

DIALECT = Dialect.V2_1
_P = DIALECT.prefix
#: Exports and imports, as in v2 but for the prefix.
BACKUPS = _backups.Backups(_P)

#: Verb and path per operation. ``get_or_create_channel`` is GET in the room
#: document (its route here) but POST in the official Go SDK: the builder
#: takes either verb, and the client learns which one a server takes.
ROUTES: Mapping[Operation, Route] = {
    Operation.CREATE_ROOM: Route("POST", f"{_P}/create_room"),
    Operation.GET_OR_CREATE_ROOM_WITH_TARGET: Route(
        "POST", f"{_P}/get_or_create_room_with_target"
    ),
    Operation.GET_OR_CREATE_CHANNEL: Route("GET", f"{_P}/get_or_create_channel"),
    Operation.GET_ROOMS_INFO: Route("GET", f"{_P}/get_rooms_info"),
    Operation.UPDATE_ROOM: Route("POST", f"{_P}/update_room"),
    Operation.ADD_PARTICIPANTS: Route("POST", f"{_P}/add_room_participants"),
    Operation.REMOVE_PARTICIPANTS: Route("POST", f"{_P}/remove_room_participants"),
    Operation.LIST_PARTICIPANTS: Route("GET", f"{_P}/get_room_participants"),
    Operation.LIST_USER_ROOMS: Route("GET", f"{_P}/get_user_rooms"),
    Operation.GET_UNREAD_COUNTS: Route("GET", f"{_P}/get_unread_count"),
    Operation.POST_COMMENT: Route("POST", f"{_P}/post_comment"),
    Operation.LIST_COMMENTS: Route("GET", f"{_P}/load_comments"),
    Operation.POST_SYSTEM_EVENT: Route("POST", f"{_P}/post_system_event_message"),
    Operation.LOGIN_OR_REGISTER: Route("POST", f"{_P}/login_or_register"),
    Operation.GET_USER: Route("GET", f"{_P}/user_profile"),
    Operation.RESET_USER_TOKEN: Route("POST", f"{_P}/reset_user_token"),
    Operation.GET_USER_TOKEN: Route("GET", f"{_P}/get_user_token"),
    Operation.LIST_USERS: Route("GET", f"{_P}/get_user_list"),
    # v2.1/users.md:
    Operation.LIST_UNREAD_USERS: Route("GET", f"{_P}/get_unread_users"),
    Operation.GET_USER_UNREAD_COUNTS: Route("GET", f"{_P}/get_user_unread_count"),
    # v2.1/more-endpoints.md (the official Go SDK's calls):
    Operation.DEACTIVATE_USERS: Route("DELETE", f"{_P}/deactivate_users"),
    Operation.REACTIVATE_USERS: Route("POST", f"{_P}/reactivate_users"),
    Operation.GET_AVERAGE_REPLY_TIME: Route("GET", f"{_P}/get_average_reply_time_user"),
    Operation.LOAD_COMMENTS_WITH_RANGE: Route("GET", f"{_P}/load_comments_with_range"),
    Operation.LIST_WEBHOOK_LOGS: Route("GET", f"{_P}/webhook_logs"),
    **BACKUPS.routes,
}


def _body_text(value: Any, _: Any = None) -> str:
    """A webhook log's ``response_body``: the receiver's answer, as text.

    Should a server send JSON itself, it is kept as compact JSON text.
    """
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _request_body(value: Any, _: Any = None) -> str:
    """A webhook log's ``request_body``, in either shape, as text.

    ``v2.1/more-endpoints.md`` reads it as a string holding the delivered
    JSON, which the fake sends; the Go SDK types it as a timestamp, so a
    server built like it sends an RFC 3339 string. Both are kept as the text
    sent, but Go's zero time (its encoding of "none") reads as ``""``, like
    ``null``. A JSON object (the delivery itself) is kept as compact JSON
    text; any other type is refused.
    """
    if isinstance(value, str) and value.startswith(c.GO_ZERO_TIME_PREFIX):
        return ""
    if value is None or isinstance(value, str | dict):
        return _body_text(value)
    msg = f"expected the delivered JSON as text, or a timestamp, got {value!r:.40}"
    raise TypeError(msg)


def _converter() -> cattrs.Converter:
    """This dialect's converter: built on first use (:class:`c.Shapes`)."""
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415

    conv = c.base_converter()
    user_fn = make_dict_structure_fn(
        User,
        conv,
        id=override(rename="user_id", struct_hook=c.identifier),
        name=override(rename="username"),
        internal_id=override(omit=True),
        listed_name=override(rename="name"),
    )
    # get_user_list answers another user shape: email/id/name (v2.1/users.md).
    listed_fn = make_dict_structure_fn(
        User,
        conv,
        id=override(rename="email", struct_hook=c.identifier),
        internal_id=override(rename="id"),
        name=override(rename="username"),
        listed_name=override(rename="name"),
    )

    def user(data: Any, _: Any) -> User:
        if isinstance(data, dict) and "username" not in data and "name" in data:
            # get_user_list says name beside username (v2.1/users.md, the Go
            # SDK's GetUsersResponse): name alone must do for User.name, and
            # is kept as listed_name either way.
            data = {**data, "username": data["name"]}
        if isinstance(data, dict) and "user_id" not in data and "email" in data:
            return listed_fn(data, User)
        return user_fn(data, User)

    conv.register_structure_hook(User, user)
    room_fn = make_dict_structure_fn(
        Room,
        conv,
        id=override(rename="room_id", struct_hook=c.identifier),
        name=override(rename="room_name"),
        type=override(rename="room_type"),
        avatar_url=override(rename="room_avatar_url"),
        options=override(rename="room_options", struct_hook=c.room_options),
        channel_id=override(rename="room_channel_id"),
        last_comment_at=override(rename="last_comment_timestamp"),
        unread_count=override(struct_hook=c.optional_count),
        comments=override(omit=True),
        changed=override(omit=True),
    )
    conv.register_structure_hook(Room, room_fn)
    log_fn = make_dict_structure_fn(
        models.WebhookLog,
        conv,
        id=override(struct_hook=c.strict_int),
        succeeded=override(rename="is_success"),
        response_code=override(struct_hook=lambda v, _: c.optional_int(v) or 0),
        request_body=override(struct_hook=_request_body),
        response_body=override(struct_hook=_body_text),
    )
    conv.register_structure_hook(models.WebhookLog, log_fn)

    return conv


#: The keys of a comment's author that :func:`_sender` reads by hand: all a
#: comment's ``user`` holds (v2.1/comment.md; the Go SDK adds ``active`` and
#: ``extras``). Any other key sends the object through the converter.
_AUTHOR_KEYS = frozenset({"user_id", "username", "avatar_url", "active", "extras"})


def _sender(data: Any) -> User:
    """A comment's author: by hand in the usual shape, else the converter.

    Every comment carries one (the hot path); the generated function checks
    all eleven fields of :class:`User` where an author has five. Each field
    goes through the converter's own hook, so both read alike.
    """
    if type(data) is dict and "user_id" in data and data.keys() <= _AUTHOR_KEYS:
        get = data.get
        return _author(
            data["user_id"],
            get("username"),
            get("avatar_url"),
            get("extras"),
            get("active"),
        )
    return _shapes.hook(User)(data, User)


def _author(
    user_id: Any, username: Any, avatar_url: Any, extras: Any, active: Any
) -> User:
    """An author from the five keys of :data:`_AUTHOR_KEYS`.

    What both readers end in: :func:`_sender` from a dict, the struct
    reader (``_typed``) from a decoded struct's fields. Every send's answer
    has one: where each value already has its type (the usual author), the
    :class:`User` the hooks would build is assembled in place, a fifth of
    the hooks' calls and ``__init__``; anything else goes through the hooks
    (``tests/test_sent_answers.py`` compares both on every likely value).
    """
    if (
        type(user_id) is not str
        or not user_id
        or type(username) is not str
        or (avatar_url is not None and type(avatar_url) is not str)
        or type(extras) is not dict
        or (active is not None and type(active) is not bool)
    ):
        return User(
            c.identifier(user_id),
            c.strict_str(username),
            c.optional_str(avatar_url),
            c.json_object(extras),
            active=c.optional_bool(active),
        )
    # Every value already of its type (the usual author): what the hooks
    # would return, assembled in place as _read_page assembles a Comment.
    user = _new(_AssembledUser)
    user.id = user_id
    user.name = username
    user.avatar_url = avatar_url or None
    user.extras = extras
    user.internal_id = None
    user.active = active
    user.token = None
    user.created_at = None
    user.updated_at = None
    user.last_comment_read_id = None
    user.last_comment_received_id = None
    user.listed_name = None
    user.__class__ = User
    return user  # type: ignore[no-any-return]  # a User, now


def _read_comment(data: Any, room_id: str | None, senders: c.Senders | None) -> Comment:
    """A v2.1 comment: its author is the nested ``user`` object.

    Every documented comment nests its author (v2.1/comment.md): one
    without is malformed.
    """
    c.check_comment_object(data)
    found = data.get("user")
    if found is None:
        raise c.no_author("user")
    if senders is None or type(found) is not dict:
        sender = _sender(found)
    else:
        sender = senders.user(found.get("user_id"), found, _sender)
    return c.build_comment(data, sender, room_id=room_id)


_AUTHOR_SIZE = len(_AUTHOR_KEYS)
#: A Comment's mutable twin (``_assemble``), filled in by the page reader.
_AssembledComment: Any = twin(Comment)
#: A User's mutable twin, filled in by _author.
_AssembledUser: Any = twin(User)
_new = object.__new__
_from_iso = datetime.fromisoformat
#: The author's keys a page reader compares, after their order.
_SAID_KEYS = ("username", "avatar_url", "extras")
#: How many keys a comment has in the shape servers send (v2.1/comment.md,
#: the Go SDK): id, message, payload, timestamp, type, extras and user.
_USUAL_KEYS = 7


def _read_page(  # noqa: C901, PLR0912, PLR0915 - one flat loop: a call costs
    page: list[Any], room_id: str | None
) -> tuple[Comment, ...]:
    """A page's comments: the usual shape read in place, others as usual.

    A comment with exactly the usual keys, whose author has exactly the
    five of :data:`_AUTHOR_KEYS` with a string ``user_id``, is read by
    subscripts (a ``.get`` per field cost a fifth of a page), its values
    taken as :func:`c.comment_of` takes them where each already has its
    type (the usual case), and the :class:`Comment` assembled in place.
    Its author is reused under :class:`c.Senders`' rule: here every stored
    author of these keys went through :func:`_author`, whose values equal
    only values of their own JSON type but for ``active`` (``true == 1``),
    compared by identity. Anything else (a value of another type, a time
    not in UTC), or anything that raises, is read by :func:`_read_comment`
    with the same senders, which decides every value and every error
    (``tests/test_dict_pages.py`` compares both).
    """
    senders = c.Senders()
    if room_id is not None and (type(room_id) is not str or not room_id):
        # Never from the client (its room ids are checked strings).
        return tuple([_read_comment(d, room_id, senders) for d in page])
    seen = senders.seen
    found = []
    for data in page:
        try:
            # Not a dict (a list, a string): the subscripts raise.
            if len(data) != _USUAL_KEYS:
                c.unusual()
            author = data["user"]
            if len(author) != _AUTHOR_SIZE:
                c.unusual()
            # Exactly the five keys: a KeyError sends any other author on.
            user_id = author["user_id"]
            name = author["username"]
            avatar_url = author["avatar_url"]
            author_extras = author["extras"]
            active = author["active"]
            if type(user_id) is not str:
                c.unusual()
            # The author's keys in order and values; active, which its User
            # holds as sent (a bool or null), is compared by identity.
            known = seen.get(user_id)
            if known is None:
                same = False
            else:
                before, sender, said = known
                if said is None:  # stored by the general reader
                    said = (tuple(before), *map(before.get, _SAID_KEYS))
                same = (
                    said[1] == name
                    and said[2] == avatar_url
                    and said[3] == author_extras
                    and sender.active is active
                    and said[0] == tuple(author)
                )
            if not same:
                sender = _author(user_id, name, avatar_url, author_extras, active)
                said = (tuple(author), name, avatar_url, author_extras)
                seen[user_id] = (author, sender, said)
            # comment_of's rules, for values that already have their type.
            kind = data["type"] or "text"
            extras = data["extras"]
            comment_id = data["id"]
            text = data["message"]
            if (
                type(kind) is not str
                or type(extras) is not dict
                or (comment_id is not None and type(comment_id) is not int)
                or type(text) is not str
            ):
                c.unusual()
            marker = extras.get(c.MARKER_KEY) if extras else None
            if marker is not None:
                if marker and type(marker) is not str:
                    c.unusual()
                extras = {k: v for k, v in extras.items() if k != c.MARKER_KEY}
            payload = data["payload"]
            if payload is not None and (payload or type(payload) is not dict):
                payload = from_wire(kind, payload)
            else:
                payload = None
            at = _from_iso(data["timestamp"])
            if at.tzinfo is not UTC or at.year == 1:
                c.unusual()
            comment = _new(_AssembledComment)
            comment.id = comment_id
            comment.room_id = room_id
            comment.sender = sender
            comment.message = text
            comment.type = kind
            comment.payload = payload
            comment.timestamp = at
            comment.unique_temp_id = marker or None
            comment.extras = extras
            comment.comment_before_id = None
            comment.disable_link_preview = False
            comment.room_name = None
            comment.room_type = None
            comment.__class__ = Comment
        except Exception:  # noqa: BLE001 - the general reader decides
            comment = _read_comment(data, room_id, senders)
        found.append(comment)
    return tuple(found)


def _typed_readers() -> c.TypedReaders:
    from ._typed import v21_readers  # noqa: PLC0415 - msgspec, on first use

    return v21_readers(_author)


_shapes = c.Shapes(_converter, ROUTES, _read_comment, _read_page, _typed_readers)
_spec = _shapes.spec
#: A v2.1 user object (``get_user_list`` answers another shape, also read).
parse_user = _shapes.user
#: A v2.1 room object.
parse_room = _shapes.room
#: A v2.1 comment; a *room_id* argument fills the ``room_id`` v2.1 leaves out.
parse_comment = _shapes.comment


#: ``results.room``, with ``changed`` where the answer says it.
_one_room = _shapes.room_answer


def _rooms(results: Any) -> list[Room]:
    # The v2.1 document says ``rooms``; servers sharing v2 code say ``rooms_info``.
    found = c.listed(results, "rooms", "rooms_info")
    return [parse_room(r) for r in found]


def _users(results: Any, key: str) -> list[User]:
    return [parse_user(u) for u in c.listed(results, key)]


def _change(
    op: Operation, room_id: str, user_ids: Sequence[str], key: str
) -> Call[models.ParticipantChange]:
    """Add or remove participants; v2.1 answers the users alone, as *key*."""
    body = {"room_id": room_id, "user_ids": list(user_ids)}
    return Call(
        op,
        _spec(op, json=body),
        lambda results: models.ParticipantChange(_users(results, key)),
    )


def _room_fields(
    name: str | None,
    participants: Sequence[str],
    avatar_url: str | None,
    options: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The room fields create_room and get_or_create_channel share."""
    return drop_none(
        room_name=name,
        participants=list(participants),
        room_avatar_url=avatar_url,
        room_options=c.options_string(options),
    )


def create_room(
    name: str,
    participants: Sequence[str],
    creator: str,
    avatar_url: str | None,
    options: Mapping[str, Any] | None,
) -> Call[Room]:
    """``POST create_room`` with ``room_name``, ``participants``, ``creator``."""
    body = {**_room_fields(name, participants, avatar_url, options), "creator": creator}
    spec = _spec(Operation.CREATE_ROOM, json=body, idempotent=False)
    return Call(Operation.CREATE_ROOM, spec, _one_room)


def get_or_create_room_with_target(
    user_ids: Sequence[str], options: Mapping[str, Any] | None
) -> Call[Room]:
    """``POST get_or_create_room_with_target`` with ``user_ids``."""
    body = drop_none(user_ids=list(user_ids), room_options=c.options_string(options))
    op = Operation.GET_OR_CREATE_ROOM_WITH_TARGET
    return Call(op, _spec(op, json=body), _one_room)


def get_or_create_channel(
    unique_id: str,
    participants: Sequence[str],
    name: str | None,
    avatar_url: str | None,
    options: Mapping[str, Any] | None,
    *,
    method: str = "GET",
) -> Call[Room]:
    """``get_or_create_channel`` with ``unique_id`` and ``participants``.

    ``GET`` (the default) as ``v2.1/room.md`` documents it, with
    ``participants[]`` and the other room fields in the query; ``POST``
    with the JSON body the official Go SDK sends. Either is idempotent:
    the channel is found by its ``unique_id``.
    """
    fields = _room_fields(name, participants, avatar_url, options)
    op = Operation.GET_OR_CREATE_CHANNEL
    path = ROUTES[op].path
    if method == "POST":
        spec = RequestSpec("POST", path, json={"unique_id": unique_id, **fields})
    else:
        query: Query = (
            ("unique_id", unique_id),
            *c.array_query("participants", participants),
            *((k, str(v)) for k, v in fields.items() if k != "participants"),
        )
        spec = RequestSpec("GET", path, query)
    return Call(op, spec, _one_room)


def get_rooms_info(
    room_ids: Sequence[str],
    channel_ids: Sequence[str],
    as_user: str | None,
    show_participants: bool,
) -> Call[list[Room]]:
    """``GET get_rooms_info`` with ``room_ids[]`` and ``room_channel_ids[]``."""
    query = c.array_query("room_ids", room_ids) + c.array_query(
        "room_channel_ids", channel_ids
    )
    if as_user is not None:
        query += (("user_id", as_user),)
    if show_participants:
        query += (("show_participants", "true"),)
    op = Operation.GET_ROOMS_INFO
    return Call(op, _spec(op, query=query), _rooms)


def update_room(
    room_id: str,
    name: str | None,
    avatar_url: str | None,
    options: Mapping[str, Any] | None,
    channel_id: str | None,
    as_user: str | None,  # noqa: ARG001 - v2.1 does not need the acting user
) -> Call[Room]:
    """``POST update_room``; the acting user is not needed in v2.1."""
    body = drop_none(
        room_id=room_id,
        room_name=name,
        room_avatar_url=avatar_url,
        room_options=c.options_string(options),
        room_channel_id=channel_id,
    )
    op = Operation.UPDATE_ROOM
    return Call(op, _spec(op, json=body), _one_room)


def add_participants(
    room_id: str, user_ids: Sequence[str]
) -> Call[models.ParticipantChange]:
    """``POST add_room_participants``; answers ``participants_added``."""
    op = Operation.ADD_PARTICIPANTS
    return _change(op, room_id, user_ids, "participants_added")


def remove_participants(
    room_id: str, user_ids: Sequence[str]
) -> Call[models.ParticipantChange]:
    """``POST remove_room_participants``; answers ``participants_removed``."""
    op = Operation.REMOVE_PARTICIPANTS
    return _change(op, room_id, user_ids, "participants_removed")


def list_participants(
    room_id: str,
    page: int,
    limit: int,
    as_user: str | None,  # noqa: ARG001 - v2.1 pages participants directly
) -> Call[Page[User]]:
    """``GET get_room_participants`` with ``page`` and ``limit``."""
    query = (("room_id", room_id), ("page", str(page)), ("limit", str(limit)))

    op = Operation.LIST_PARTICIPANTS

    def read(results: Any) -> list[User]:
        return _users(results, "participants")

    return _shapes.page_call(op, query, read, page, limit, "total")


def list_user_rooms(
    user_id: str,
    page: int,
    limit: int,
    room_type: models.RoomType | None,
    show_participants: bool,
    show_empty: bool = False,
) -> Call[Page[Room]]:
    """``GET get_user_rooms`` with ``user_id``, ``page`` and ``limit``.

    ``show_participants`` and ``show_empty`` (rooms without messages, off by
    default on servers; ``v2.1/more-endpoints.md``) are sent only when wanted.
    """
    query: Query = (("user_id", user_id), ("page", str(page)), ("limit", str(limit)))
    if room_type is not None:
        query += (("room_type", room_type.value),)
    if show_participants:
        query += (("show_participants", "true"),)
    if show_empty:
        query += (("show_empty", "true"),)

    op = Operation.LIST_USER_ROOMS
    return _shapes.page_call(op, query, _rooms, page, limit, "total_room")


def get_unread_counts(user_id: str, room_ids: Sequence[str]) -> Call[dict[str, int]]:
    """``GET get_unread_count`` with ``user_id`` and ``room_ids[]``."""
    query = (("user_id", user_id), *c.array_query("room_ids", room_ids))

    def parse(results: Any) -> dict[str, int]:
        return c.counts(results, "unread_counts", "room_id")

    op = Operation.GET_UNREAD_COUNTS
    return Call(op, _spec(op, query=query), parse)


def post_comment_body(
    room_id: str,
    sender: str,
    message: str,
    comment_type: str,
    payload: Any,
    extras: Mapping[str, Any] | None,
    marker: str,
    disable_link_preview: bool,
    *,
    marker_in_extras: bool = True,
) -> dict[str, Any]:
    """The body of ``POST post_comment``: ``user_id``; the marker rides in ``extras``.

    v2.1 documents no ``unique_temp_id``: the marker goes top-level and,
    unless *marker_in_extras* is false, under ``extras[MARKER_KEY]`` too.
    """
    # Written out, not drop_none(**fields): every send builds this body, and
    # the keyword dict and its filtering took a fifth of building the call.
    body: dict[str, Any] = {
        "user_id": sender,
        "room_id": room_id,
        "message": message,
        "type": comment_type,
    }
    if payload is not None:  # a text comment has no payload to convert
        body["message"], body["payload"] = c.comment_body(message, payload, DIALECT)
    if marker_in_extras:
        body["extras"] = (
            {**extras, c.MARKER_KEY: marker} if extras else {c.MARKER_KEY: marker}
        )
    elif extras is not None:
        body["extras"] = dict(extras)
    body["unique_temp_id"] = marker
    if disable_link_preview:
        body["disable_link_preview"] = disable_link_preview
    return body


#: The send :func:`post_comment_body` describes, answered by ``results.comment``.
post_comment = _shapes.comment_send(post_comment_body)


#: The reader of a comment send's whole answer, for the JSON library in use
#: (:meth:`c.Shapes.sent_reader`).
sent_reader = _shapes.sent_reader


#: ``GET load_comments`` with ``room_id``, ``page`` and ``limit``.
list_comments = _shapes.comment_page


def post_system_event(
    room_id: str,
    event_type: str,
    subject: str | None,
    objects: Sequence[str],
    room_name: str | None,
    message: str | None,
    payload: Mapping[str, Any] | None,
    extras: Mapping[str, Any] | None,
) -> Call[Comment]:
    """``POST post_system_event_message`` with ``subject_user_id``.

    The v2.1 document shows one ``object_user_id`` string.
    """
    if len(objects) > 1:
        msg = (
            "post_system_event: v2.1 takes one object user per event; post one "
            "event per user or use api_version='v2'"
        )
        raise InvalidArgumentError(msg)
    body = drop_none(
        system_event_type=event_type,
        room_id=room_id,
        subject_user_id=subject,
        object_user_id=objects[0] if objects else None,
        updated_room_name=room_name,
        message=message,
        payload=dict(payload) if payload is not None else None,
        extras=dict(extras) if extras is not None else None,
    )
    return _shapes.comment_call(Operation.POST_SYSTEM_EVENT, body, room_id)


#: v2.1 documents no search; in ``auto`` mode the client routes it to v2.
search_messages = c.refuse(
    Operation.SEARCH_MESSAGES, DIALECT, "use api_version='auto' or 'v2'"
)


def _token(results: Any) -> str:
    token = field(results, "token")
    if not isinstance(token, str) or not token:
        msg = "expected 'token' to be a non-empty string"
        raise ResponseShapeError(msg)
    return token


def login_or_register(
    user_id: str,
    username: str,
    password: str | None,
    avatar_url: str | None,
    extras: Mapping[str, Any] | None,
    device_token: str | None,
    device_platform: str | None,
) -> Call[User]:
    """``POST login_or_register`` with ``user_id`` and ``extras``.

    No document restricts a user id's characters (v2 takes the same ids as
    emails): the server judges them.
    """
    body = drop_none(
        user_id=user_id,
        username=username,
        password=password,
        avatar_url=avatar_url,
        extras=dict(extras) if extras is not None else None,
        device_token=device_token,
        device_platform=device_platform,
    )
    op = Operation.LOGIN_OR_REGISTER
    return Call(op, _spec(op, json=body), _shapes.one_user)


def get_user(user_id: str) -> Call[User]:
    """``GET user_profile?user_id=``."""
    op = Operation.GET_USER
    return Call(op, _spec(op, query=(("user_id", user_id),)), _shapes.one_user)


def reset_user_token(user_id: str) -> Call[User]:
    """``POST reset_user_token``; v2.1 answers ``results.token`` alone."""

    def parse(results: Any) -> User:
        return User(id=user_id, token=_token(results))

    op = Operation.RESET_USER_TOKEN
    return Call(op, _spec(op, json={"user_id": user_id}), parse)


def get_user_token(user_id: str) -> Call[str]:
    """``GET get_user_token?user_id=``."""
    op = Operation.GET_USER_TOKEN
    return Call(op, _spec(op, query=(("user_id", user_id),)), _token)


def list_users(page: int, limit: int, order_query: str | None) -> Call[Page[User]]:
    """``GET get_user_list`` with ``page``, ``limit`` and ``order_query``.

    ``meta.total_data`` and ``meta.total_page`` go to the page.
    """
    query: Query = (("page", str(page)), ("limit", str(limit)))
    if order_query is not None:
        query += (("order_query", order_query),)

    def read(results: Any) -> list[User]:
        return _users(results, "users")

    op = Operation.LIST_USERS
    return _shapes.page_call(op, query, read, page, limit, "total_data")


def list_unread_users(
    page: int, limit: int, since: datetime | None, until: datetime | None
) -> Call[Page[str]]:
    """``GET get_unread_users``: ids of users with unread comments (users.md)."""
    query = (("page", str(page)), ("limit", str(limit)), *c.window_query(since, until))

    def read(results: Any) -> list[str]:
        return [c.identifier(u) for u in c.listed(results, "user_ids")]

    op = Operation.LIST_UNREAD_USERS
    return _shapes.page_call(op, query, read, page, limit, "total")


def get_user_unread_counts(
    user_ids: Sequence[str], since: datetime | None, until: datetime | None
) -> Call[dict[str, int]]:
    """``GET get_user_unread_count`` with ``user_ids[]``: unread per user."""
    query = (*c.array_query("user_ids", user_ids), *c.window_query(since, until))

    def parse(results: Any) -> dict[str, int]:
        return c.counts(results, "user_unread_count", "user_id")

    op = Operation.GET_USER_UNREAD_COUNTS
    return Call(op, _spec(op, query=query), parse)


def _message(results: Any) -> str:
    return c.strict_str(field(results, "message"))


def deactivate_users(user_ids: Sequence[str]) -> Call[str]:
    """``DELETE deactivate_users`` with a JSON ``user_ids`` body; the message."""
    op = Operation.DEACTIVATE_USERS
    return Call(op, _spec(op, json={"user_ids": list(user_ids)}), _message)


def reactivate_users(user_ids: Sequence[str]) -> Call[str]:
    """``POST reactivate_users`` with ``user_ids``; the server's message."""
    op = Operation.REACTIVATE_USERS
    return Call(op, _spec(op, json={"user_ids": list(user_ids)}), _message)


def get_average_reply_time(
    user_id: str, since: datetime | None, until: datetime | None
) -> Call[models.ReplyTime]:
    """``GET get_average_reply_time_user``: durations in seconds, and the period."""
    query = (("user_id", user_id), *c.window_query(since, until))

    def parse(results: Any) -> models.ReplyTime:
        data = field(results, "data")
        duration = data["duration"]
        return models.ReplyTime(
            user_id=c.identifier(data.get("user_id") or user_id),
            average=c.seconds(duration["average"]),
            longest=c.seconds(duration["longest"]),
            shortest=c.seconds(duration["shortest"]),
            since=c.timestamp(results.get("start_time")),
            until=c.timestamp(results.get("end_time")),
        )

    op = Operation.GET_AVERAGE_REPLY_TIME
    return Call(op, _spec(op, query=query), parse)


def load_comments_with_range(
    room_id: str, first_comment_id: int, last_comment_id: int
) -> Call[list[Comment]]:
    """``GET load_comments_with_range``: the comments between two ids.

    Its comments carry ``unique_id``, read as ``Comment.unique_temp_id``.
    """
    query = (
        ("room_id", room_id),
        ("first_comment_id", str(first_comment_id)),
        ("last_comment_id", str(last_comment_id)),
    )

    def parse(results: Any) -> list[Comment]:
        found = c.listed(results, "comments")
        return list(_shapes.comments(found, room_id))

    op = Operation.LOAD_COMMENTS_WITH_RANGE
    return Call(op, _spec(op, query=query), parse)


def list_webhook_logs(
    page: int, limit: int, kind: str
) -> Call[Page[models.WebhookLog]]:
    """``GET webhook_logs`` with ``page``, ``limit`` and ``type``."""
    query = (("page", str(page)), ("limit", str(limit)), ("type", kind))

    def read(results: Any) -> list[models.WebhookLog]:
        found = c.listed(results, "webhook_logs")
        _log = _shapes.hook(models.WebhookLog)
        return [
            structure(lambda d: _log(d, models.WebhookLog), log, "webhook log")
            for log in found
        ]

    op = Operation.LIST_WEBHOOK_LOGS
    return _shapes.page_call(op, query, read, page, limit, "total")
