"""The v2 endpoints of the fake server (``/api/v2/rest/*``) and their table.

Strictly private. v2 names users by email, answers integer room ids and flat
shapes (qiscus-rest-v2.md). Each handler reads v2's parameter names, applies
the shared rules of ``_rules`` and answers a shape from ``_shapes``; each
registers its (method, endpoint) in :data:`ROUTES` where it is defined.
"""

from __future__ import annotations

from typing import Any

from . import _rules as rules
from . import _shapes as shapes
from ._http import Reply, Request, invalid
from ._store import CommentRecord, RoomRecord, Store

#: (method, endpoint) -> handler, filled by ``@ROUTES.on`` below.
ROUTES = rules.Table()


@ROUTES.on("GET", "user_profile")
def user_profile(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get User Profile: the token included."""
    user = store.user_or_404(req.required("user_email"))
    return 200, shapes.envelope({"user": shapes.user_v2(user, token=True)})


@ROUTES.on("POST", "login_or_register")
def login_or_register(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Login or Register."""
    user = store.upsert_user(
        req.required("email"),
        req.text("username") or "",
        avatar_url=req.text("avatar_url"),
        password=req.text("password"),
    )
    return 200, shapes.envelope({"user": shapes.user_v2(user, token=True)})


@ROUTES.on("POST", "reset_user_token")
def reset_user_token(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Reset User Authentication Token."""
    user = rules.reset_token(store, req, "user_email")
    return 200, shapes.envelope({"user": shapes.reset_token_v2(user)})


@ROUTES.on("POST", "create_room")
def create_room(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Create room."""
    options = req.json_text("options") or ""
    room = rules.create_group(store, req, "name", "avatar_url", options)
    return 200, shapes.envelope(shapes.room_compact_v2(room))


def _bundled(store: Store, room: RoomRecord) -> list[dict[str, Any]]:
    """The newest comments v2 answers beside a room, newest first."""
    return [shapes.comment_v2(store, room, c) for c in rules.recent(room)]


@ROUTES.on("GET", "get_or_create_room_with_target")
def get_or_create_room_with_target(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get or create room with target (a GET)."""
    emails = req.strings("emails", required=True)
    room = rules.room_with_target(store, emails, None)
    if not room.name:
        room.name = " ".join(emails)
    return 200, shapes.envelope(
        {
            "comments": _bundled(store, room),
            "room": shapes.room_full_v2(store, room, unset_options=None),
        }
    )


@ROUTES.on("POST", "get_rooms_info")
def get_rooms_info(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get rooms info: only rooms the user is in."""
    user = store.user_or_404(req.required("user_email")).identifier
    ids = req.strings("room_id", required=True)
    show = req.flag("show_participants")
    rooms = [store.room_or_404(i) for i in ids]
    found = [
        shapes.room_info_v2(store, r, user, participants=show)
        for r in rooms
        if user in r.participants
    ]
    return 200, shapes.envelope({"rooms_info": found})


@ROUTES.on("POST", "update_room")
def update_room(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Update Room: as a participant (``user_email``)."""
    user = req.required("user_email")
    room = store.group_or_404(req.text("room_id"))
    if user not in room.participants:
        raise invalid("user_email must be a participant of the room")
    changed = rules.apply_update(
        room,
        req.text("room_name"),
        req.text("room_avatar_url"),
        req.json_text("options"),
    )
    return 200, shapes.envelope(
        {
            "changed": changed,
            "comments": _bundled(store, room),
            "room": shapes.room_full_v2(store, room, unset_options=""),
        }
    )


@ROUTES.on("POST", "add_room_participants")
def add_room_participants(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Add room participants."""
    room = store.group_or_404(req.text("room_id"))
    rules.add_participants(store, room, req.strings("emails", required=True))
    return 200, shapes.envelope(shapes.room_compact_v2(room))


@ROUTES.on("POST", "remove_room_participants")
def remove_room_participants(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Remove room participants."""
    room = store.group_or_404(req.text("room_id"))
    rules.remove_participants(room, req.strings("emails", required=True))
    return 200, shapes.envelope(shapes.room_compact_v2(room))


@ROUTES.on("GET", "get_user_rooms")
def get_user_rooms(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get User Room List."""
    user, meta, chunk = rules.user_rooms_page(
        store, req, "user_email", limit_param=False
    )
    show = req.flag("show_participants")
    found = [shapes.room_info_v2(store, r, user, participants=show) for r in chunk]
    return 200, shapes.envelope({"meta": meta, "rooms_info": found})


def _comment(store: Store, comment: CommentRecord) -> Reply:
    room = store.rooms[comment.room_id]
    return 200, shapes.envelope({"comment": shapes.comment_v2(store, room, comment)})


@ROUTES.on("POST", "post_comment")
def post_comment(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Post comment."""
    return _comment(store, rules.post_comment(store, req, "sender_email"))


@ROUTES.on("POST", "post_system_event_message")
def post_system_event_message(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Post System Event Message (a custom payload echoed)."""
    comment = rules.system_event(
        store, req, "subject_email", "object_email", nested=False
    )
    return _comment(store, comment)


# GET in qiscus-rest-v2.md, POST in qiscus-rest-v2-early.md: serve both.
@ROUTES.on("GET", "load_comments")
@ROUTES.on("POST", "load_comments")
def load_comments(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Load comments: newest first."""
    room, chunk = rules.history(store, req)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v2(store, room, c) for c in chunk]}
    )


@ROUTES.on("POST", "search_messages")
def search_messages(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Search Messages: the user's rooms, newest first."""
    user = store.user_or_404(req.required("user_email")).identifier
    query = req.required("query").lower()
    room_id = req.text("room_id")
    rooms = [store.room_or_404(room_id)] if room_id else list(store.rooms.values())
    found = [
        (room, c)
        for room in rooms
        if user in room.participants
        for c in room.comments
        if query in c.message.lower()
    ]
    found.sort(key=lambda pair: pair[1].id, reverse=True)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v2(store, r, c) for r, c in found[:100]]}
    )
