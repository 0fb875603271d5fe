"""Rules both dialects share, whatever their wire names.

Strictly private. A handler in ``_routes_v2`` or ``_routes_v21`` reads its
dialect's parameter names and renders its dialect's shapes; what happens in
between is the same server and lives here once: creating a group, the single
room of two users, participant changes, room updates, a user's rooms, paging,
comment types, payloads and derived texts, system events, token resets,
periods (``start_time``/``end_time``), unread users and reply times. Also
the :data:`Handler` and :data:`Routes` types of the route tables, and
:class:`Table`, the table a routes module fills as it defines its handlers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ._http import Reply, Request, invalid, json_or_400
from ._shapes import SYSTEM_ID
from ._store import CommentRecord, RoomRecord, Store, UserRecord

#: A handler answers a request from the store's state.
Handler = Callable[[Store, Request], Reply]
#: A route table: (method, endpoint) -> handler; ``exports/:id`` for items.
Routes = dict[tuple[str, str], Handler]


class Table(Routes):
    """A route table whose handlers register themselves where they are defined.

    ``@ROUTES.on("GET", "user_profile")`` above a handler maps that route to
    it; stack several for a handler that serves more than one.
    """

    def on(self, method: str, endpoint: str) -> Callable[[Handler], Handler]:
        """Map (*method*, *endpoint*) to the decorated handler."""

        def register(handler: Handler) -> Handler:
            self[method, endpoint] = handler
            return handler

        return register


T = TypeVar("T")


def page(items: list[T], number: int, size: int) -> list[T]:
    """Page *number* (from 1) of *items*, *size* per page."""
    return items[(number - 1) * size : number * size]


def lenient_limit(req: Request) -> int:
    """``limit``, 100 unless it lies within 1-100.

    "default is 100, the value is beetween 1-100, otherwise will override to
    100" (v2.1/users.md, Get Unread Users); webhook_logs alike.
    """
    raw = req.text("limit")
    if raw is None:
        return 100
    try:
        limit = int(raw)
    except ValueError:
        raise invalid("limit must be an integer") from None
    return limit if 1 <= limit <= 100 else 100  # noqa: PLR2004


#: Periods are written "YYYY-MM-DD hh:mm:ss" (v2.1/users.md).
_PERIOD_FORMAT = "%Y-%m-%d %H:%M:%S"


def _instant(req: Request, name: str) -> datetime | None:
    raw = req.text(name)
    if raw is None:
        return None
    try:
        return datetime.strptime(raw, _PERIOD_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise invalid(f'{name} must be in format "YYYY-MM-DD hh:mm:ss"') from None


def period(req: Request) -> Callable[[str], bool]:
    """Whether a stored timestamp lies within ``start_time``..``end_time``."""
    start, end = _instant(req, "start_time"), _instant(req, "end_time")

    def within(timestamp: str) -> bool:
        at = datetime.fromisoformat(timestamp)
        return (start is None or at >= start) and (end is None or at <= end)

    return within


def unread_users(store: Store, within: Callable[[str], bool]) -> list[str]:
    """Users with unread comments from *within*, oldest account first."""
    users = sorted(store.users.values(), key=lambda u: u.internal_id)
    return [
        u.identifier
        for u in users
        if any(
            u.identifier in r.participants and r.unread(u.identifier, within)
            for r in store.rooms.values()
        )
    ]


def unread_total(store: Store, user: str, within: Callable[[str], bool]) -> int:
    """*user*'s unread comments from *within*, in all their rooms."""
    return sum(
        r.unread(user, within) for r in store.rooms.values() if user in r.participants
    )


def reply_times(store: Store, user: str, within: Callable[[str], bool]) -> list[int]:
    """Seconds *user* took to answer, per answer, in all their rooms.

    An answer is *user*'s first comment after others wrote; its time is
    counted from the first of those comments. System events are no one's.
    """
    found = []
    for room in store.rooms.values():
        if user not in room.participants:
            continue
        waiting: datetime | None = None
        for comment in room.comments:
            if comment.sender == SYSTEM_ID or not within(comment.timestamp):
                continue
            at = datetime.fromisoformat(comment.timestamp)
            if comment.sender != user:
                waiting = waiting or at
            elif waiting is not None:
                found.append(int((at - waiting).total_seconds()))
                waiting = None
    return found


def comment_id(req: Request, name: str) -> int:
    """A required comment id."""
    raw = req.required(name)
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def comments_range(
    store: Store, req: Request
) -> tuple[RoomRecord, list[CommentRecord]]:
    """load_comments_with_range: a room's comments between two ids, oldest first."""
    room = store.room_or_404(req.text("room_id"))
    first = comment_id(req, "first_comment_id")
    last = comment_id(req, "last_comment_id")
    low, high = min(first, last), max(first, last)
    return room, [c for c in room.comments if low <= c.id <= high]


#: How many of its newest comments v2 bundles with a room (update_room, get
#: or create room with target); load_comments' default page.
BUNDLED_COMMENTS = 20


def recent(room: RoomRecord) -> list[CommentRecord]:
    """The comments v2 bundles with a room answer, newest first."""
    return room.comments[::-1][:BUNDLED_COMMENTS]


# ---------------------------------------------------------------- rooms


def create_group(
    store: Store, req: Request, name_key: str, avatar_key: str, options: str
) -> RoomRecord:
    """create_room in either dialect: the wire names differ, the rules do not."""
    name = req.required(name_key)
    creator = req.required("creator")
    members = req.strings("participants", required=True)
    store.users_or_404([creator, *members])
    return store.create_room(
        name,
        "group",
        creator,
        members,
        avatar_url=req.text(avatar_key) or "",
        options=options,
    )


def room_with_target(
    store: Store, identifiers: list[str], options: str | None
) -> RoomRecord:
    """The single room of exactly two users, created if they have none."""
    if len(set(identifiers)) != 2 or len(identifiers) != 2:  # noqa: PLR2004
        raise invalid("exactly 2 distinct users are required")
    store.users_or_404(identifiers)
    wanted = set(identifiers)
    for room in store.rooms.values():
        if room.type == "single" and set(room.participants) == wanted:
            return room
    return store.create_room(
        "", "single", identifiers[0], identifiers, options=options or ""
    )


def apply_update(
    room: RoomRecord, name: str | None, avatar: str | None, options: str | None
) -> bool:
    """Set the given fields; whether anything changed."""
    changed = False
    for attr, value in (("name", name), ("avatar_url", avatar), ("options", options)):
        if value is not None and getattr(room, attr) != value:
            setattr(room, attr, value)
            changed = True
    return changed


def add_participants(store: Store, room: RoomRecord, identifiers: list[str]) -> bool:
    """Add known users not yet in *room*; whether any was added."""
    store.users_or_404(identifiers)
    new = [i for i in identifiers if i not in room.participants]
    room.participants.extend(new)
    return bool(new)


def remove_participants(room: RoomRecord, identifiers: list[str]) -> None:
    """Remove *identifiers* from *room* (unknown ones are ignored)."""
    gone = set(identifiers)
    room.participants[:] = [u for u in room.participants if u not in gone]


def user_rooms(store: Store, user: str, room_type: str | None) -> list[RoomRecord]:
    """The rooms *user* is in, of *room_type* (``single``/``group``) if given."""
    if room_type not in (None, "single", "group"):
        raise invalid("room_type must be single or group")
    return [
        r
        for r in store.rooms.values()
        if user in r.participants and (room_type is None or r.type == room_type)
    ]


def user_rooms_page(
    store: Store, req: Request, user_key: str, *, limit_param: bool
) -> tuple[str, dict[str, int], list[RoomRecord]]:
    """get_user_rooms: the user, the ``meta`` answered and one page of rooms.

    v2 pages by 20 ("Will show maximum 20 data per page", qiscus-rest-v2.md);
    v2.1 takes a ``limit`` (*limit_param*), 100 by default and at most. Rooms
    without any comment are left out unless ``show_empty`` is true (the web
    SDK page, v2.1/more-endpoints.md: it defaults to false).
    """
    user = store.user_or_404(req.required(user_key)).identifier
    rooms = user_rooms(store, user, req.text("room_type"))
    if not req.flag("show_empty"):
        rooms = [r for r in rooms if r.comments]
    number = req.number("page", 1)
    limit = req.number("limit", 100, maximum=100) if limit_param else 20
    meta = {"current_page": number, "total_room": len(rooms)}
    return user, meta, page(rooms, number, limit)


# ---------------------------------------------------------------- users


def reset_token(store: Store, req: Request, user_key: str) -> UserRecord:
    """Give the user named by *user_key* a new token."""
    user = store.user_or_404(req.required(user_key))
    user.token = secrets.token_urlsafe(15)
    return user


# ---------------------------------------------------------------- comments

#: The comment types whose payloads the documents define (v2.1/comment.md,
#: qiscus-rest-v2.md); any other type a client sends (an app's
#: ``button_postback_response``, ...) is stored as given.
COMMENT_TYPES = frozenset(
    {
        "text",
        "buttons",
        "card",
        "carousel",
        "account_linking",
        "custom",
        "location",
        "contact_person",
        "reply",
        "file_attachment",
    }
)
#: The payload keys each comment type needs (v2.1/comment.md, qiscus-rest-v2.md).
_PAYLOAD_KEYS: dict[str, tuple[str, ...]] = {
    "buttons": ("buttons",),
    "card": ("title",),
    "carousel": ("cards",),
    "account_linking": ("url",),
    "custom": ("type", "content"),
    "location": ("name", "address", "latitude", "longitude"),
    "contact_person": ("name", "value"),
    "reply": ("text", "replied_comment_id"),
    "file_attachment": ("url",),
}


def _json_object(req: Request, name: str) -> Any:
    """*name* as sent, a non-empty JSON string decoded."""
    raw = req.raw(name)
    if isinstance(raw, str) and raw:
        return json_or_400(raw, f"{name} must be a JSON object")
    return raw


def comment_payload(req: Request, kind: str) -> Any:
    """The payload of a comment, checked like the documents describe."""
    if kind not in COMMENT_TYPES:
        return req.raw("payload")
    return check_payload(kind, _json_object(req, "payload"))


def check_payload(kind: str, raw: Any) -> Any:
    """The decoded payload *raw* of a *kind* comment, checked; a 400 if bad.

    Posted comments and imported ones pass the same checks (the import
    document: each payload "must passes an validator for each type").
    """
    if kind not in COMMENT_TYPES:
        return raw
    if kind == "text":
        return raw or None
    if not isinstance(raw, dict):
        raise invalid(f"payload is required for type {kind}")
    missing = [k for k in _PAYLOAD_KEYS[kind] if k not in raw]
    if missing:
        raise invalid(*(f"payload.{k} is required for type {kind}" for k in missing))
    for button in raw.get("buttons") or []:
        action = button.get("payload") if isinstance(button, dict) else None
        if not isinstance(action, dict) or not action.get("url"):
            raise invalid("every button needs payload.url")
        if not button.get("label") or button.get("type") not in ("postback", "link"):
            raise invalid("every button needs a label and type postback or link")
    if kind == "card" and "image_url" in raw:
        # The v2 request says image_url, every response says image.
        raw = {**raw, "image": raw["image_url"]}
        del raw["image_url"]
    return raw


def _text(payload: dict[str, Any], *keys: str) -> str:
    return " ".join(str(payload[k]) for k in keys if payload.get(k))


#: The text a comment without a message gets, per type: "[file] url [/file]"
#: (v2.1/comment.md, file_attachment's answer), the card's text
#: (v2.1/comment.md, card's answer), "name + address + map_url" and
#: "name - value" (qiscus-rest-v2.md, location and contact_person).
_DERIVED_TEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "file_attachment": lambda p: f"[file] {p['url']} [/file]",
    "card": lambda p: _text(p, "text") or _text(p, "title"),
    "location": lambda p: _text(p, "name", "address", "map_url"),
    "contact_person": lambda p: f"{p['name']} - {p['value']}",
}


def post_comment(store: Store, req: Request, sender_key: str) -> CommentRecord:
    """Post the comment the request describes; a webhook announces it."""
    sender = store.user_or_404(req.required(sender_key)).identifier
    room = store.room_or_404(req.text("room_id"))
    kind = req.text("type") or "text"
    if kind == "system_event":
        raise invalid("use post_system_event_message for system events")
    payload = comment_payload(req, kind)
    message = req.text("message") or ""
    if kind == "text" and not message:
        raise invalid("message is required")
    derive = _DERIVED_TEXT.get(kind)
    if not message and derive is not None:
        message = derive(payload)
    extras = _json_object(req, "extras")
    comment = store.add_comment(
        room,
        sender,
        message,
        type=kind,
        payload=payload,
        extras=extras if isinstance(extras, dict) else {},
        unique_temp_id=req.text("unique_temp_id") or secrets.token_urlsafe(15),
        disable_link_preview=req.flag("disable_link_preview"),
    )
    req.posted.append(comment)
    return comment


def history(store: Store, req: Request) -> tuple[RoomRecord, list[CommentRecord]]:
    """A room and one page of its comments, newest first."""
    room = store.room_or_404(req.text("room_id"))
    number = req.number("page", 1)
    limit = req.number("limit", 20, maximum=100)
    return room, page(room.comments[::-1], number, limit)


_EVENT_TEXT = {
    "create_room": "{s} created room '{room}'",
    "add_member": "{s} added {o}",
    "join_room": "{s} joined room",
    "remove_member": "{s} removed {o}",
    "left_room": "{s} left room",
    "change_room_name": "{s} changed room name to '{room}'",
    "change_room_avatar": "{s} changed room avatar",
}


def _people(
    subject: UserRecord | None, objects: list[UserRecord], room: RoomRecord
) -> dict[str, Any]:
    """Who acted, whom it concerned, and the room: every system event says so."""
    return {
        "object_email": objects[0].identifier if objects else "",
        "object_username": objects[0].name if objects else "",
        "object_email_list": [o.identifier for o in objects],
        "object_username_list": [o.name for o in objects],
        "room_name": room.name,
        "subject_email": subject.identifier if subject is not None else "",
        "subject_username": subject.name if subject is not None else "",
    }


def system_event(
    store: Store, req: Request, subject_key: str, object_key: str, *, nested: bool
) -> CommentRecord:
    """Post a system event; *nested* puts a custom payload under ``payload``.

    A custom event needs no payload (the Go SDK sends ``null``), nor a
    subject; every event keeps the ``extras`` sent.
    """
    room = store.room_or_404(req.text("room_id"))
    kind = req.required("system_event_type")
    if kind != "custom" and kind not in _EVENT_TEXT:
        raise invalid(f"system_event_type {kind} is not valid")
    extras = _json_object(req, "extras")
    fields = {
        "type": "system_event",
        "extras": extras if isinstance(extras, dict) else {},
    }
    named = req.text(subject_key)
    subject = store.user_or_404(named) if named else None
    objects = store.users_or_404(req.strings(object_key))
    if kind == "custom":
        payload = _json_object(req, "payload")
        if payload is not None and not isinstance(payload, dict):
            raise invalid("payload must be a JSON object")
        message = req.text("message") or ""
        # v2 echoes the payload (qiscus-rest-v2.md); v2.1 nests it beside the
        # people and the room (the Go SDK's PostSystemEventMessageResponse).
        data = (
            {**_people(subject, objects, room), "type": "custom", "payload": payload}
            if nested
            else payload
        )
        return store.add_comment(room, SYSTEM_ID, message, payload=data, **fields)
    if subject is None:
        raise invalid(f"{subject_key} is required")
    if kind in ("add_member", "remove_member") and not objects:
        raise invalid(f"{object_key} is required for {kind}")
    room_name = req.text("updated_room_name")
    if kind in ("create_room", "change_room_name"):
        if not room_name:
            raise invalid(f"updated_room_name is required for {kind}")
        room.name = room_name
    object_names = ", ".join(o.name for o in objects)
    text = _EVENT_TEXT[kind].format(s=subject.name, o=object_names, room=room.name)
    data = {**_people(subject, objects, room), "type": kind}
    return store.add_comment(room, SYSTEM_ID, text, payload=data, **fields)
