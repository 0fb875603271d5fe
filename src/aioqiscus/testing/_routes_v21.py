"""The v2.1 endpoints of the fake server (``/api/v2.1/rest/*``) and their table.

Strictly private. v2.1 names users by user_id, answers string room ids,
``room_options`` as a JSON string and comments with a nested ``user``
(v2.1/*.md; v2.1/more-endpoints.md for the endpoints only the official Go
SDK calls). Each handler reads v2.1's parameter
names, applies the shared rules of ``_rules`` and answers a shape from
``_shapes``; each registers its (method, endpoint) in :data:`ROUTES` where
it is defined.
"""

from __future__ import annotations

from . import _rules as rules
from . import _shapes as shapes
from ._http import Reply, Request, invalid, json_or_400, loads
from ._store import CommentRecord, RoomRecord, Store

#: (method, endpoint) -> handler, filled by ``@ROUTES.on`` below.
ROUTES = rules.Table()


def _options(req: Request) -> str:
    """``room_options``: a JSON string (or an object), checked to parse."""
    text = req.json_text("room_options") or ""
    if text:
        json_or_400(text, "room_options must be a JSON string")
    return text


def _room(store: Store, room: RoomRecord, **fields: object) -> Reply:
    return 200, shapes.envelope({**fields, "room": shapes.room_v21(store, room)})


def _comment(store: Store, comment: CommentRecord) -> Reply:
    return 200, shapes.envelope({"comment": shapes.comment_v21(store, comment)})


# ---------------------------------------------------------------- users


@ROUTES.on("GET", "user_profile")
def user_profile(store: Store, req: Request) -> Reply:
    """v2.1/users.md, Get User Profile."""
    user = store.user_or_404(req.required("user_id"))
    return 200, shapes.envelope({"user": shapes.user_v21(user)})


@ROUTES.on("POST", "login_or_register")
def login_or_register(store: Store, req: Request) -> Reply:
    """v2.1/users.md, Login or Register: ``extras`` as a JSON string."""
    extras = req.json_text("extras")
    user = store.upsert_user(
        req.required("user_id"),
        req.text("username") or "",
        avatar_url=req.text("avatar_url"),
        password=req.text("password"),
        extras=loads(extras) if extras else None,
    )
    return 200, shapes.envelope({"user": shapes.user_v21(user)})


@ROUTES.on("POST", "reset_user_token")
def reset_user_token(store: Store, req: Request) -> Reply:
    """v2.1/authentication.md, reset_user_token: the token alone."""
    user = rules.reset_token(store, req, "user_id")
    return 200, shapes.envelope({"token": user.token})


@ROUTES.on("GET", "get_user_token")
def get_user_token(store: Store, req: Request) -> Reply:
    """v2.1/authentication.md, get_user_token."""
    user = store.user_or_404(req.required("user_id"))
    return 200, shapes.envelope({"token": user.token})


@ROUTES.on("GET", "get_unread_users")
def get_unread_users(store: Store, req: Request) -> Reply:
    """v2.1/users.md, Get Unread Users: within ``start_time``..``end_time``."""
    found = rules.unread_users(store, rules.period(req))
    chunk = rules.page(found, req.number("page", 1), rules.lenient_limit(req))
    return 200, shapes.envelope({"user_ids": chunk})


@ROUTES.on("GET", "get_user_unread_count")
def get_user_unread_count(store: Store, req: Request) -> Reply:
    """v2.1/users.md, Get User Unread Count: per user, in all their rooms."""
    users = store.users_or_404(req.strings("user_ids", required=True))
    within = rules.period(req)
    counts = [
        {
            "unread_count": rules.unread_total(store, u.identifier, within),
            "user_id": u.identifier,
        }
        for u in users
    ]
    return 200, shapes.envelope({"user_unread_count": counts})


@ROUTES.on("DELETE", "deactivate_users")
def deactivate_users(store: Store, req: Request) -> Reply:
    """v2.1/more-endpoints.md, deactivate_users: a DELETE with a JSON body."""
    store.set_active(req.strings("user_ids", required=True), active=False)
    return 200, shapes.envelope({"message": "success"})


@ROUTES.on("POST", "reactivate_users")
def reactivate_users(store: Store, req: Request) -> Reply:
    """v2.1/more-endpoints.md, reactivate_users."""
    store.set_active(req.strings("user_ids", required=True), active=True)
    return 200, shapes.envelope({"message": "success"})


@ROUTES.on("GET", "get_average_reply_time_user")
def get_average_reply_time_user(store: Store, req: Request) -> Reply:
    """v2.1/more-endpoints.md: whole seconds, the period echoed as sent."""
    user = store.user_or_404(req.required("user_id")).identifier
    times = rules.reply_times(store, user, rules.period(req))
    duration = {
        "average": sum(times) // len(times) if times else 0,
        "longest": max(times, default=0),
        "shortest": min(times, default=0),
    }
    return 200, shapes.envelope(
        {
            "data": {"duration": duration, "user_id": user},
            "end_time": req.text("end_time") or "",
            "start_time": req.text("start_time") or "",
        }
    )


@ROUTES.on("GET", "webhook_logs")
def webhook_logs(store: Store, req: Request) -> Reply:
    """v2.1/more-endpoints.md: newest first, ``type`` all, mobile or rest."""
    kind = req.text("type") or "all"
    if kind not in ("all", "mobile", "rest"):
        raise invalid("type must be all, mobile or rest")
    logs = [log for log in store.webhook_logs[::-1] if kind in ("all", log.kind)]
    chunk = rules.page(logs, req.number("page", 1), rules.lenient_limit(req))
    return 200, shapes.envelope(
        {"webhook_logs": [shapes.webhook_log_v21(log) for log in chunk]}
    )


@ROUTES.on("GET", "get_user_list")
def get_user_list(store: Store, req: Request) -> Reply:
    """v2.1/users.md, Get All Users: oldest first unless ``created_at desc``."""
    number = req.number("page", 1)
    limit = req.number("limit", 20, maximum=100)
    users = sorted(store.users.values(), key=lambda u: u.internal_id)
    if (req.text("order_query") or "").lower().startswith("created_at desc"):
        users.reverse()
    return 200, shapes.envelope(
        {
            "meta": {"total_data": len(users), "total_page": -(-len(users) // limit)},
            "users": [
                shapes.listed_user_v21(u) for u in rules.page(users, number, limit)
            ],
        }
    )


# ---------------------------------------------------------------- rooms


@ROUTES.on("POST", "create_room")
def create_room(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Create room."""
    room = rules.create_group(store, req, "room_name", "room_avatar_url", _options(req))
    return _room(store, room)


@ROUTES.on("POST", "get_or_create_room_with_target")
def get_or_create_room_with_target(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Get or create room with target (a POST)."""
    user_ids = req.strings("user_ids", required=True)
    return _room(store, rules.room_with_target(store, user_ids, _options(req)))


# The room document says GET, the Go SDK POST: serve both.
@ROUTES.on("GET", "get_or_create_channel")
@ROUTES.on("POST", "get_or_create_channel")
def get_or_create_channel(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Get or Create Channel: joins and updates an existing one."""
    unique_id = req.required("unique_id")
    members = req.strings("participants", required=True)
    store.users_or_404(members)
    room = next((r for r in store.rooms.values() if r.channel_id == unique_id), None)
    if room is None:
        room = store.create_room(
            req.text("room_name") or unique_id,
            "group",
            members[0],
            members,
            avatar_url=req.text("room_avatar_url") or "",
            options=_options(req),
            channel_id=unique_id,
        )
        return _room(store, room, changed=True)
    joined = rules.add_participants(store, room, members)
    updated = rules.apply_update(
        room,
        req.text("room_name"),
        req.text("room_avatar_url"),
        req.json_text("room_options"),
    )
    return _room(store, room, changed=joined or updated)


@ROUTES.on("GET", "get_rooms_info")
def get_rooms_info(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Get rooms info: by room ids and/or channel ids."""
    ids = req.strings("room_ids")
    channels = set(req.strings("room_channel_ids"))
    if not ids and not channels:
        raise invalid("room_ids or room_channel_ids is required")
    rooms = [store.room_or_404(i) for i in ids]
    rooms += [
        r for r in store.rooms.values() if r.channel_id and r.channel_id in channels
    ]
    show = req.flag("show_participants")
    return 200, shapes.envelope(
        {"rooms": [shapes.room_v21(store, r, participants=show) for r in rooms]}
    )


@ROUTES.on("POST", "update_room")
def update_room(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Update Room: the channel id too."""
    room = store.group_or_404(req.text("room_id"))
    changed = rules.apply_update(
        room,
        req.text("room_name"),
        req.text("room_avatar_url"),
        req.json_text("room_options"),
    )
    channel = req.text("room_channel_id")
    if channel is not None and channel != room.channel_id:
        room.channel_id = channel
        changed = True
    return _room(store, room, changed=changed)


@ROUTES.on("POST", "add_room_participants")
def add_room_participants(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Add room participants: the users named."""
    room = store.group_or_404(req.text("room_id"))
    ids = req.strings("user_ids", required=True)
    rules.add_participants(store, room, ids)
    users = [shapes.user_v21(store.users[i]) for i in ids]
    return 200, shapes.envelope({"participants_added": users})


@ROUTES.on("POST", "remove_room_participants")
def remove_room_participants(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Remove room participants: those that were in it."""
    room = store.group_or_404(req.text("room_id"))
    ids = req.strings("user_ids", required=True)
    removed = [i for i in ids if i in room.participants]
    rules.remove_participants(room, ids)
    users = [shapes.user_v21(store.users[i]) for i in removed]
    return 200, shapes.envelope({"participants_removed": users})


@ROUTES.on("GET", "get_room_participants")
def get_room_participants(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Get Room Participant."""
    room = store.room_or_404(req.text("room_id"))
    number = req.number("page", 1)
    limit = req.number("limit", 20, maximum=100)
    chunk = rules.page(room.participants, number, limit)
    return 200, shapes.envelope(
        {"participants": [shapes.user_v21(store.users[i]) for i in chunk]}
    )


@ROUTES.on("GET", "get_user_rooms")
def get_user_rooms(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Get User Room List."""
    _, meta, chunk = rules.user_rooms_page(store, req, "user_id", limit_param=True)
    show = req.flag("show_participants")
    found = [shapes.room_v21(store, r, participants=show) for r in chunk]
    return 200, shapes.envelope({"meta": meta, "rooms": found})


@ROUTES.on("GET", "get_unread_count")
def get_unread_count(store: Store, req: Request) -> Reply:
    """v2.1/room.md, Get Unread Count in Rooms."""
    user = store.user_or_404(req.required("user_id")).identifier
    rooms = [store.room_or_404(i) for i in req.strings("room_ids", required=True)]
    counts = [{"room_id": str(r.id), "unread_count": r.unread(user)} for r in rooms]
    return 200, shapes.envelope({"unread_counts": counts})


# ---------------------------------------------------------------- comments


@ROUTES.on("POST", "post_comment")
def post_comment(store: Store, req: Request) -> Reply:
    """v2.1/comment.md, Post comment."""
    return _comment(store, rules.post_comment(store, req, "user_id"))


@ROUTES.on("POST", "post_system_event_message")
def post_system_event_message(store: Store, req: Request) -> Reply:
    """v2.1/comment.md, Post System Event Message (a custom payload nested)."""
    comment = rules.system_event(
        store, req, "subject_user_id", "object_user_id", nested=True
    )
    return _comment(store, comment)


@ROUTES.on("GET", "load_comments")
def load_comments(store: Store, req: Request) -> Reply:
    """v2.1/comment.md, Load comments: newest first."""
    _, chunk = rules.history(store, req)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v21(store, c) for c in chunk]}
    )


@ROUTES.on("GET", "load_comments_with_range")
def load_comments_with_range(store: Store, req: Request) -> Reply:
    """v2.1/more-endpoints.md: the comments between two ids, with ``unique_id``."""
    _, found = rules.comments_range(store, req)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v21(store, c, unique_id=True) for c in found]}
    )
