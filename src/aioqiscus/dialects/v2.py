"""The v2 dialect: ``/api/v2/rest``, users by email, integer room ids.

Pure: one builder per operation, returning a :class:`~aioqiscus._wire.Call`
(request spec and parser), and ``c.refuse`` for the operations this dialect
does not serve; the parsers are this dialect's converter through
:class:`~aioqiscus.dialects._common.Shapes`. See
``shared/reference/qiscus-rest-v2.md`` and ``qiscus-rest-v2-early.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._wire import Call, Dialect, Operation, Page, Query, Route
from ..errors import InvalidArgumentError, ResponseShapeError
from ..models import Comment, ParticipantChange, Room, RoomType, User
from . import _backups
from . import _common as c
from ._payloads import drop_none

if TYPE_CHECKING:
    import cattrs

DIALECT = Dialect.V2
_P = DIALECT.prefix
#: Exports and imports, as in v2.1 but for the prefix.
BACKUPS = _backups.Backups(_P)

#: The way out of an operation v2 does not serve.
_TO_V21 = "use api_version='v2.1' or 'auto'"
#: v2 pages user rooms by a fixed 20 (``qiscus-rest-v2.md``, Get User Room List).
USER_ROOMS_PAGE = 20

ROUTES: Mapping[Operation, Route] = {
    Operation.CREATE_ROOM: Route("POST", f"{_P}/create_room"),
    Operation.GET_OR_CREATE_ROOM_WITH_TARGET: Route(
        "GET", f"{_P}/get_or_create_room_with_target"
    ),
    Operation.GET_ROOMS_INFO: Route("POST", f"{_P}/get_rooms_info"),
    Operation.UPDATE_ROOM: Route("POST", f"{_P}/update_room"),
    Operation.ADD_PARTICIPANTS: Route("POST", f"{_P}/add_room_participants"),
    Operation.REMOVE_PARTICIPANTS: Route("POST", f"{_P}/remove_room_participants"),
    # v2 has no participant listing; rooms info with participants serves it.
    Operation.LIST_PARTICIPANTS: Route("POST", f"{_P}/get_rooms_info"),
    Operation.LIST_USER_ROOMS: Route("GET", f"{_P}/get_user_rooms"),
    # v2 has no unread-count endpoint; rooms info carries ``unread_count``.
    Operation.GET_UNREAD_COUNTS: Route("POST", f"{_P}/get_rooms_info"),
    Operation.POST_COMMENT: Route("POST", f"{_P}/post_comment"),
    # GET in qiscus-rest-v2.md, POST in the early revision: servers take GET.
    Operation.LIST_COMMENTS: Route("GET", f"{_P}/load_comments"),
    Operation.POST_SYSTEM_EVENT: Route("POST", f"{_P}/post_system_event_message"),
    Operation.SEARCH_MESSAGES: Route("POST", f"{_P}/search_messages"),
    Operation.LOGIN_OR_REGISTER: Route("POST", f"{_P}/login_or_register"),
    Operation.GET_USER: Route("GET", f"{_P}/user_profile"),
    Operation.RESET_USER_TOKEN: Route("POST", f"{_P}/reset_user_token"),
    **BACKUPS.routes,
}


#: The keys of a v2 user object the model names; any other goes to extras.
_USER_KEYS = frozenset(
    {
        "email",
        "username",
        "avatar_url",
        "avatar",
        "id",
        "token",
        "active",
        "extras",
        "created_at",
        "updated_at",
        "last_comment_read_id",
        "last_comment_received_id",
    }
)


def _user_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A v2 user object with its avatar and extras where the model reads them."""
    if "avatar_url" not in data:
        nested = data.get("avatar")
        if isinstance(nested, dict) and "url" in nested:
            data = {**data, "avatar_url": nested["url"]}
    # v2 users have no extras; reset_user_token's whole user brings
    # last_comment_id, pn_*_configured and rtKey (qiscus-rest-v2.md).
    rest = {k: v for k, v in data.items() if k not in _USER_KEYS}
    if rest:
        data = {**data, "extras": {**c.json_object(data.get("extras")), **rest}}
    return data


def _converter() -> cattrs.Converter:
    """This dialect's converter: built on first use (:class:`c.Shapes`)."""
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415

    conv = c.base_converter()
    user_fn = make_dict_structure_fn(
        User,
        conv,
        id=override(rename="email", struct_hook=c.identifier),
        name=override(rename="username"),
        internal_id=override(rename="id"),
        # v2 documents no user name beside username: any goes to extras.
        listed_name=override(omit=True),
    )

    def user(data: Any, _: Any) -> User:
        # ``create_room`` and the participant endpoints list bare emails.
        if isinstance(data, str):
            return User(id=c.identifier(data))
        if isinstance(data, dict):
            data = _user_fields(data)
        return user_fn(data, User)

    conv.register_structure_hook(User, user)
    # Rooms come in two shapes. The "info" shape (rooms_info, create_room,
    # participant changes) says room_id/room_type/room_avatar_url; the "room"
    # shape (update_room, get_or_create_room_with_target) says
    # id/chat_type/avatar_url. One converter cannot map two wire keys onto one
    # field, so each shape gets its own generated function.
    info_fn = make_dict_structure_fn(
        Room,
        conv,
        id=override(rename="room_id", struct_hook=c.identifier),
        name=override(rename="room_name"),
        type=override(rename="room_type"),
        avatar_url=override(rename="room_avatar_url"),
        options=override(struct_hook=c.room_options),
        channel_id=override(omit=True),
        last_comment_at=override(rename="last_comment_timestamp"),
        unread_count=override(struct_hook=c.optional_count),
        comments=override(omit=True),
        changed=override(omit=True),
    )
    room_fn = make_dict_structure_fn(
        Room,
        conv,
        id=override(struct_hook=c.identifier),
        name=override(rename="room_name"),
        type=override(rename="chat_type"),
        options=override(struct_hook=c.room_options),
        channel_id=override(omit=True),
        creator=override(omit=True),
        last_comment_at=override(rename="last_comment_timestamp"),
        unread_count=override(struct_hook=c.optional_count),
        comments=override(omit=True),
        changed=override(omit=True),
    )

    def room(data: Any, _: Any) -> Room:
        if isinstance(data, dict) and "room_id" in data:
            return info_fn(data, Room)
        return room_fn(data, Room)

    conv.register_structure_hook(Room, room)

    return conv


def _flat_sender(key: tuple[Any, Any, Any, Any]) -> User:
    email, name, avatar, internal_id = key
    return User(
        id=c.author_id(email, "email"),
        name=c.strict_str(name),
        avatar_url=c.optional_str(avatar),
        internal_id=c.optional_int(internal_id),
    )


def _avatar(url: Any, holder: Any) -> Any:
    """A v2 author's avatar: ``user_avatar_url``, else ``user_avatar.avatar.url``."""
    if url is None:
        nested = (holder or {}).get("avatar") or {}
        url = nested.get("url") if isinstance(nested, dict) else None
    return url


def _read_comment(data: Any, room_id: str | None, senders: c.Senders | None) -> Comment:
    """A v2 comment: flat, its author in its own fields, its room named.

    The author is email/username/user_avatar_url (or user_avatar.avatar.url)
    and the numeric user_id. Every documented comment names its author,
    system events included (system@qiscus.com): one without is malformed.
    """
    c.check_comment_object(data)
    avatar = _avatar(data.get("user_avatar_url"), data.get("user_avatar"))
    key = (data.get("email"), data.get("username"), avatar, data.get("user_id"))
    if senders is None:
        sender = _flat_sender(key)
    else:
        sender = senders.user(key, key, _flat_sender)
    # Listings and search also name the room (room_name, chat_type).
    name, kind = data.get("room_name"), data.get("chat_type")
    return c.build_comment(
        data,
        sender,
        None if name is None else c.optional_str(name),
        None if kind is None else c.room_type(kind),
        room_id,
    )


#: How many keys a ``load_comments`` comment has as ``qiscus-rest-v2.md``
#: shows it, and as servers send it (with ``type``, ``payload`` and
#: ``user_id`` besides).
_DOCUMENTED_KEYS, _SENT_KEYS = 11, 14
#: The types of a user id that equals only values of its own type.
_EXACT_IDS = frozenset({int, str, type(None)})


def _read_page(page: list[Any], room_id: str | None) -> tuple[Comment, ...]:
    """A page's comments: the usual shapes read in place, others as usual.

    A comment with exactly the keys of either usual shape is read by
    subscripts (a ``.get`` per field cost a fifth of a page) and ends in
    :func:`c.comment_of` with the values :func:`c.build_comment` would pass.
    Its author is reused under :class:`c.Senders`' rule: a stored author
    key went through :func:`_flat_sender`, and a string email and an
    integer, string or null user id equal only values of their own JSON
    type. Anything else, or anything that raises, is read by
    :func:`_read_comment` with the same senders, which decides every value
    and every error (``tests/test_dict_pages.py`` compares both).
    """
    senders = c.Senders()
    seen = senders.seen
    last: dict[Any, tuple[Any, Any, Any, User]] = {}
    found = []
    for data in page:
        try:
            size = len(data)  # not a dict (a list, a string): subscripts raise
            if size == _SENT_KEYS:
                kind, payload, user_id = data["type"], data["payload"], data["user_id"]
            elif size == _DOCUMENTED_KEYS:
                kind = payload = user_id = None
            else:
                c.unusual()
            email = data["email"]
            # Without user_avatar, _avatar() gives user_avatar_url as it is.
            name, avatar_url = data["username"], data["user_avatar_url"]
            # The sender of this email's last comment, if the same: a key
            # equal to one in seen, without hashing a long avatar URL.
            said = last.get(email) if type(email) is str else None
            if (
                said is not None
                and said[0] == name
                and said[1] == avatar_url
                and said[2] == user_id
                and type(user_id) in _EXACT_IDS
            ):
                sender = said[3]
            else:
                key = (email, name, avatar_url, user_id)
                known = seen.get(key)
                if known is None:
                    sender = _flat_sender(key)
                    seen[key] = (key, sender, None)
                elif type(email) is str and type(user_id) in _EXACT_IDS:
                    sender = known[1]
                else:
                    c.unusual()
                last[email] = (name, avatar_url, user_id, sender)
            room_name = data["room_name"]
            if type(room_name) is not str or not room_name:
                room_name = None if room_name is None else c.optional_str(room_name)
            comment = c.comment_of(
                kind,
                None,
                data["unique_temp_id"],
                None,
                data["id"],
                data["comment_before_id"],
                data["message"],
                data["disable_link_preview"],
                data["room_id"],
                payload,
                data["timestamp"],
                sender,
                room_name,
                None,
            )
        except Exception:  # noqa: BLE001 - the general reader decides
            comment = _read_comment(data, room_id, senders)
        found.append(comment)
    return tuple(found)


def _typed_readers() -> c.TypedReaders:
    from ._typed import v2_readers  # noqa: PLC0415 - msgspec, on first use

    return v2_readers(_avatar, _flat_sender)


_shapes = c.Shapes(_converter, ROUTES, _read_comment, _read_page, _typed_readers)
_spec = _shapes.spec
#: A v2 user object, or a bare email.
parse_user = _shapes.user
#: A v2 room in either shape.
parse_room = _shapes.room
#: A v2 comment (flat sender fields, integer room ids).
parse_comment = _shapes.comment


def _require_as_user(as_user: str | None, call: str) -> str:
    if as_user is None:
        msg = (
            f"{call} in the v2 dialect needs as_user=<email of a participant>: "
            "v2 servers require the acting user (user_email)"
        )
        raise InvalidArgumentError(msg)
    return as_user


def _no_channel_ids(channel_ids: Sequence[str] | str | None, call: str) -> None:
    if channel_ids:
        msg = (
            f"{call}: channel ids are a v2.1 feature; pass room ids, "
            "or use api_version='v2.1'"
        )
        raise InvalidArgumentError(msg)


def _one_room(results: Any) -> Room:
    # create_room and the participant endpoints return the room as results;
    # update_room and the target room nest it, beside changed and comments.
    if isinstance(results, dict) and "room" in results:
        return _shapes.room_answer(results)
    return parse_room(results)


def _rooms(results: Any) -> list[Room]:
    found = c.listed(results, "rooms_info", "rooms")
    return [parse_room(r) for r in found]


def create_room(
    name: str,
    participants: Sequence[str],
    creator: str,
    avatar_url: str | None,
    options: Mapping[str, Any] | None,
) -> Call[Room]:
    """``POST create_room`` with ``name``, ``participants`` and ``creator``.

    v2 documents no options here; they are sent as ``options`` (the name v2's
    ``update_room`` uses), which servers that know them honour.
    """
    body = drop_none(
        name=name,
        participants=list(participants),
        creator=creator,
        avatar_url=avatar_url,
        options=c.options_string(options),
    )
    spec = _spec(Operation.CREATE_ROOM, json=body, idempotent=False)
    return Call(Operation.CREATE_ROOM, spec, _one_room)


def get_or_create_room_with_target(
    user_ids: Sequence[str], options: Mapping[str, Any] | None
) -> Call[Room]:
    """``GET get_or_create_room_with_target`` with ``emails[]``."""
    if options:
        msg = (
            "get_or_create_room_with_target: v2 cannot set room options here; "
            "call update_room afterwards or use api_version='v2.1'"
        )
        raise InvalidArgumentError(msg)
    op = Operation.GET_OR_CREATE_ROOM_WITH_TARGET
    return Call(op, _spec(op, query=c.array_query("emails", user_ids)), _one_room)


#: v2 documents no channel endpoint.
get_or_create_channel = c.refuse(Operation.GET_OR_CREATE_CHANNEL, DIALECT, _TO_V21)


def _rooms_info_body(
    room_ids: Sequence[str], as_user: str, show_participants: bool
) -> dict[str, Any]:
    # ``room_id[]`` in the document; as a JSON body the array key is room_id.
    return {
        "user_email": as_user,
        "room_id": list(room_ids),
        "show_participants": show_participants,
    }


def get_rooms_info(
    room_ids: Sequence[str],
    channel_ids: Sequence[str],
    as_user: str | None,
    show_participants: bool,
) -> Call[list[Room]]:
    """``POST get_rooms_info`` with ``room_id``, ``user_email``."""
    _no_channel_ids(channel_ids, "get_rooms_info")
    user = _require_as_user(as_user, "get_rooms_info")
    body = _rooms_info_body(room_ids, user, show_participants)
    op = Operation.GET_ROOMS_INFO
    return Call(op, _spec(op, json=body), _rooms)


def update_room(
    room_id: str,
    name: str | None,
    avatar_url: str | None,
    options: Mapping[str, Any] | None,
    channel_id: str | None,
    as_user: str | None,
) -> Call[Room]:
    """``POST update_room``; v2 requires ``user_email`` of a participant."""
    _no_channel_ids(channel_id, "update_room")
    user = _require_as_user(as_user, "update_room")
    body = drop_none(
        user_email=user,
        room_id=room_id,
        room_name=name,
        room_avatar_url=avatar_url,
        options=c.options_string(options),
    )
    op = Operation.UPDATE_ROOM
    return Call(op, _spec(op, json=body), _one_room)


def _change(
    op: Operation, room_id: str, user_ids: Sequence[str], *, present: bool
) -> Call[ParticipantChange]:
    """Add or remove participants by ``emails``; v2 answers the whole room.

    The change lists the users asked for that are now *present* in the room
    (or no longer, when not *present*), like v2.1's ``participants_added``
    and ``participants_removed``, with the room answered as ``room``.
    """
    wanted = list(user_ids)
    body = {"room_id": room_id, "emails": wanted}

    def parse(results: Any) -> ParticipantChange:
        room = _one_room(results)
        inside = {u.id for u in room.participants}
        changed = [User(id=u) for u in wanted if (u in inside) is present]
        return ParticipantChange(changed, room)

    return Call(op, _spec(op, json=body), parse)


def add_participants(room_id: str, user_ids: Sequence[str]) -> Call[ParticipantChange]:
    """``POST add_room_participants`` with ``emails``; v2 answers the room."""
    return _change(Operation.ADD_PARTICIPANTS, room_id, user_ids, present=True)


def remove_participants(
    room_id: str, user_ids: Sequence[str]
) -> Call[ParticipantChange]:
    """``POST remove_room_participants`` with ``emails``; v2 answers the room."""
    return _change(Operation.REMOVE_PARTICIPANTS, room_id, user_ids, present=False)


def list_participants(
    room_id: str,
    page: int,  # noqa: ARG001 - v2 lists all participants at once
    limit: int,  # noqa: ARG001
    as_user: str | None,
) -> Call[Page[User]]:
    """``POST get_rooms_info`` with ``show_participants``: one page, all users."""
    user = _require_as_user(as_user, "iter_participants")
    body = _rooms_info_body([room_id], user, show_participants=True)

    def parse(results: Any) -> Page[User]:
        rooms = _rooms(results)
        users = rooms[0].participants if rooms else ()
        return Page(users, has_more=False)

    op = Operation.LIST_PARTICIPANTS
    return Call(op, _spec(op, json=body), parse)


def list_user_rooms(
    user_id: str,
    page: int,
    limit: int,  # noqa: ARG001 - v2 pages by a fixed 20
    room_type: RoomType | None,
    show_participants: bool,
    show_empty: bool = False,
) -> Call[Page[Room]]:
    """``GET get_user_rooms`` with ``user_email`` and ``page`` (20 per page).

    ``show_empty`` (rooms without messages; off by default on servers) is
    sent only when wanted.
    """
    query: Query = (
        ("user_email", user_id),
        ("page", str(page)),
        ("show_participants", "true" if show_participants else "false"),
    )
    if room_type is not None:
        query += (("room_type", room_type.value),)
    if show_empty:
        query += (("show_empty", "true"),)

    op = Operation.LIST_USER_ROOMS
    return _shapes.page_call(op, query, _rooms, page, USER_ROOMS_PAGE, "total_room")


def get_unread_counts(user_id: str, room_ids: Sequence[str]) -> Call[dict[str, int]]:
    """``POST get_rooms_info`` as *user_id*; reads each room's ``unread_count``."""
    body = _rooms_info_body(room_ids, user_id, show_participants=False)

    def parse(results: Any) -> dict[str, int]:
        found = {r.id: r.unread_count for r in _rooms(results)}
        unknown = [room for room, count in found.items() if count is None]
        if unknown:
            # qiscus-rest-v2.md shows every room's unread_count as a number:
            # a null one is not "none unread".
            msg = f"rooms {unknown!r:.80} answered no unread_count"
            raise ResponseShapeError(msg)
        return {room: count or 0 for room, count in found.items()}

    op = Operation.GET_UNREAD_COUNTS
    return Call(op, _spec(op, json=body), parse)


def _comments(results: Any, room_id: str | None) -> list[Comment]:
    return list(_shapes.comments(c.listed(results, "comments"), room_id))


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
    marker_in_extras: bool = True,  # noqa: ARG001 - v2 documents unique_temp_id
) -> dict[str, Any]:
    """The body of ``POST post_comment``: ``sender_email`` and ``unique_temp_id``."""
    # Written out, not drop_none(**fields): every send builds this body.
    body: dict[str, Any] = {
        "sender_email": sender,
        "room_id": room_id,
        "message": message,
        "type": comment_type,
    }
    if payload is not None:  # a text comment has no payload to convert
        body["message"], body["payload"] = c.comment_body(message, payload, DIALECT)
    body["unique_temp_id"] = marker
    if disable_link_preview is not None:
        body["disable_link_preview"] = disable_link_preview
    if extras:
        body["extras"] = dict(extras)
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
    """``POST post_system_event_message`` with ``subject_email``/``object_email``."""
    body = drop_none(
        system_event_type=event_type,
        room_id=room_id,
        subject_email=subject,
        object_email=list(objects) or None,
        updated_room_name=room_name,
        message=message,
        payload=dict(payload) if payload is not None else None,
        extras=dict(extras) if extras is not None else None,
    )
    return _shapes.comment_call(Operation.POST_SYSTEM_EVENT, body, room_id)


def search_messages(
    user_id: str, query: str, room_id: str | None
) -> Call[list[Comment]]:
    """``POST search_messages`` with ``user_email`` and ``query``."""
    body = drop_none(user_email=user_id, query=query, room_id=room_id)
    op = Operation.SEARCH_MESSAGES
    return Call(op, _spec(op, json=body), lambda r: _comments(r, None))


def login_or_register(
    user_id: str,
    username: str,
    password: str | None,
    avatar_url: str | None,
    extras: Mapping[str, Any] | None,
    device_token: str | None,
    device_platform: str | None,
) -> Call[User]:
    """``POST login_or_register`` with ``email``; v2 has no user extras."""
    if extras:
        msg = (
            "login_or_register: user extras are a v2.1 feature; use api_version='v2.1'"
        )
        raise InvalidArgumentError(msg)
    body = drop_none(
        email=user_id,
        username=username,
        password=password,
        avatar_url=avatar_url,
        device_token=device_token,
        device_platform=device_platform,
    )
    op = Operation.LOGIN_OR_REGISTER
    return Call(op, _spec(op, json=body), _shapes.one_user)


def get_user(user_id: str) -> Call[User]:
    """``GET user_profile?user_email=``."""
    op = Operation.GET_USER
    return Call(op, _spec(op, query=(("user_email", user_id),)), _shapes.one_user)


def reset_user_token(user_id: str) -> Call[User]:
    """``POST reset_user_token``; v2 answers the whole user with its token."""

    def parse(results: Any) -> User:
        user = _shapes.one_user(results)
        if not user.token:
            msg = "expected the user to carry a non-empty 'token'"
            raise ResponseShapeError(msg)
        return user

    op = Operation.RESET_USER_TOKEN
    return Call(op, _spec(op, json={"user_email": user_id}), parse)


# v2 has no token read-out (reset_user_token returns one), no user listing,
# and none of the v2.1 endpoints of v2.1/users.md and v2.1/more-endpoints.md.
get_user_token = c.refuse(Operation.GET_USER_TOKEN, DIALECT, _TO_V21)
list_users = c.refuse(Operation.LIST_USERS, DIALECT, _TO_V21)
list_unread_users = c.refuse(Operation.LIST_UNREAD_USERS, DIALECT, _TO_V21)
get_user_unread_counts = c.refuse(Operation.GET_USER_UNREAD_COUNTS, DIALECT, _TO_V21)
deactivate_users = c.refuse(Operation.DEACTIVATE_USERS, DIALECT, _TO_V21)
reactivate_users = c.refuse(Operation.REACTIVATE_USERS, DIALECT, _TO_V21)
get_average_reply_time = c.refuse(Operation.GET_AVERAGE_REPLY_TIME, DIALECT, _TO_V21)
load_comments_with_range = c.refuse(
    Operation.LOAD_COMMENTS_WITH_RANGE, DIALECT, _TO_V21
)
list_webhook_logs = c.refuse(Operation.LIST_WEBHOOK_LOGS, DIALECT, _TO_V21)
