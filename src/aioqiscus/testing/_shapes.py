"""The JSON the fake answers, written by hand from the reference documents.

Never built from aioqiscus models or converters: a converter bug must not be
mirrored on both sides. Each function cites the document it follows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._store import (
    GO_ZERO_TIME,
    BackupRecord,
    CommentRecord,
    RoomRecord,
    Store,
    UserRecord,
    WebhookLogRecord,
)

#: The author of system events (qiscus-rest-v2.md, Post System Event Message).
SYSTEM_ID = "system@qiscus.com"
SYSTEM_NAME = "System"


def envelope(results: Any) -> dict[str, Any]:
    """``{"results": ..., "status": 200}``."""
    return {"results": results, "status": 200}


def error(status: int, message: str, *details: str, **errors: Any) -> dict[str, Any]:
    """The observed error envelope (shared/reference/README.md)."""
    return {
        "status": status,
        "error": {
            "message": message,
            "detailed_messages": list(details) or [message],
            "errors": errors,
        },
    }


# ---------------------------------------------------------------- v2


def user_v2(user: UserRecord, *, token: bool = False) -> dict[str, Any]:
    """qiscus-rest-v2.md, Login or Register / Reset User Token."""
    data: dict[str, Any] = {
        "avatar": {"url": user.avatar_url},
        "avatar_url": user.avatar_url,
        "email": user.identifier,
        "id": user.internal_id,
        "username": user.name,
    }
    if token:
        data["token"] = user.token
    return data


def participant_v2(store: Store, room: RoomRecord, identifier: str) -> dict[str, Any]:
    """qiscus-rest-v2.md, Get User Room List (show_participants true)."""
    user = store.users[identifier]
    last = room.last_comment.id if room.last_comment else 0
    return {
        "avatar_url": user.avatar_url,
        "email": user.identifier,
        "id": user.internal_id,
        "last_comment_read_id": room.last_read.get(identifier, 0),
        "last_comment_received_id": last,
        "username": user.name,
    }


def room_info_v2(
    store: Store, room: RoomRecord, user: str, *, participants: bool
) -> dict[str, Any]:
    """qiscus-rest-v2.md, Get rooms info / Get User Room List."""
    last = room.last_comment
    data: dict[str, Any] = {
        "last_comment_id": last.id if last else 0,
        "last_comment_message": last.message if last else "",
        "last_comment_timestamp": last.timestamp if last else GO_ZERO_TIME,
        "room_avatar_url": room.avatar_url,
        "room_id": room.id,
        "room_name": room.name,
        "room_type": room.type,
        "unread_count": room.unread(user),
    }
    if participants:
        data["participants"] = [
            participant_v2(store, room, p) for p in room.participants
        ]
    return data


def room_compact_v2(room: RoomRecord) -> dict[str, Any]:
    """qiscus-rest-v2.md, Create room / Add / Remove room participants."""
    return {
        "creator": room.creator,
        "participants": list(room.participants),
        "room_id": room.id,
        "room_name": room.name,
        "room_type": room.type,
    }


def room_full_v2(
    store: Store, room: RoomRecord, *, unset_options: str | None
) -> dict[str, Any]:
    """qiscus-rest-v2.md, Update Room / Get or create room with target.

    Unset options read *unset_options*: the Update Room example shows
    ``""``, the room-with-target one ``null``.
    """
    last = room.last_comment
    return {
        "avatar_url": room.avatar_url,
        "chat_type": room.type,
        "id": room.id,
        "last_comment_id": last.id if last else 0,
        "last_comment_message": last.message if last else "",
        "last_topic_id": room.id,
        "options": room.options or unset_options,
        "participants": [
            {
                "avatar_url": store.users[p].avatar_url,
                "email": p,
                "username": store.users[p].name,
                "last_comment_read_id": room.last_read.get(p, 0),
                "last_comment_received_id": last.id if last else 0,
            }
            for p in room.participants
        ],
        "room_name": room.name,
    }


# ---------------------------------------------------------------- v2.1


def user_v21(user: UserRecord) -> dict[str, Any]:
    """v2.1/users.md and the Go SDK's user object (``active``, ``extras``)."""
    return {
        "active": user.active,
        "avatar_url": user.avatar_url,
        "extras": user.extras,
        "user_id": user.identifier,
        "username": user.name,
    }


def room_v21(
    store: Store, room: RoomRecord, *, participants: bool = False
) -> dict[str, Any]:
    """v2.1/room.md: string ids, room_options as a JSON string."""
    data: dict[str, Any] = {
        "room_avatar_url": room.avatar_url,
        "room_channel_id": room.channel_id,
        "room_id": str(room.id),
        "room_name": room.name,
        "room_options": room.options or "{}",
        "room_type": room.type,
    }
    if participants:
        data["participants"] = [user_v21(store.users[p]) for p in room.participants]
    return data


# ---------------------------------------------------------------- comments


def _unix(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp).timestamp())


def _author(store: Store, identifier: str) -> tuple[str, str, int]:
    user = store.users.get(identifier)
    if user is None:
        return SYSTEM_NAME, "", 0
    return user.name, user.avatar_url, user.internal_id


def comment_v2(
    store: Store, room: RoomRecord, comment: CommentRecord
) -> dict[str, Any]:
    """qiscus-rest-v2.md, Post comment / Load comments / Search Messages."""
    name, avatar, internal = _author(store, comment.sender)
    data: dict[str, Any] = {
        "comment_before_id": comment.before_id,
        "disable_link_preview": comment.disable_link_preview,
        "email": comment.sender,
        "id": comment.id,
        "message": comment.message,
        # qiscus-rest-v2.md's comments answer a text comment's payload as {}.
        "payload": {} if comment.payload is None else comment.payload,
        "room_id": room.id,
        "room_name": room.name,
        "chat_type": room.type,
        "timestamp": comment.timestamp,
        "topic_id": room.id,
        "type": comment.type,
        "unique_temp_id": comment.unique_temp_id,
        "unix_timestamp": _unix(comment.timestamp),
        "user_avatar": {"avatar": {"url": avatar}},
        "user_avatar_url": avatar,
        "user_id": internal,
        "username": name,
    }
    if comment.extras:
        data["extras"] = comment.extras
    return data


def _postback_texts(buttons: Any) -> Any:
    """Buttons, each with the ``postback_text`` v2.1 answers ("" if unset)."""
    if not isinstance(buttons, list):
        return buttons
    return [{"postback_text": "", **b} if isinstance(b, dict) else b for b in buttons]


def payload_v21(kind: str, payload: Any) -> Any:
    """A stored payload as v2.1 answers it.

    v2.1/comment.md answers every card and carousel button with a
    ``postback_text`` (``""`` when none was sent).
    """
    if not isinstance(payload, dict):
        return payload
    if kind == "card":
        return {**payload, "buttons": _postback_texts(payload.get("buttons", []))}
    if kind == "carousel" and isinstance(payload.get("cards"), list):
        cards = [
            {**card, "buttons": _postback_texts(card.get("buttons", []))}
            if isinstance(card, dict)
            else card
            for card in payload["cards"]
        ]
        return {**payload, "cards": cards}
    return payload


def comment_v21(
    store: Store, comment: CommentRecord, *, unique_id: bool = False
) -> dict[str, Any]:
    """v2.1/comment.md plus the ``id`` and ``extras`` real servers add.

    No ``room_id`` and no ``unique_temp_id``, as live v2.1 servers answer;
    with *unique_id*, the ``unique_id`` ``load_comments_with_range`` answers
    (v2.1/more-endpoints.md).
    """
    user = store.users.get(comment.sender)
    author = (
        user_v21(user)
        if user is not None
        else {
            "avatar_url": "",
            "user_id": SYSTEM_ID,
            "username": SYSTEM_NAME,
            "active": True,
            "extras": {},
        }
    )
    data: dict[str, Any] = {
        "extras": comment.extras,
        "id": comment.id,
        "message": comment.message,
        "payload": payload_v21(comment.type, comment.payload),
        "timestamp": comment.timestamp,
        "type": comment.type,
        "user": author,
    }
    if unique_id:
        data["unique_id"] = comment.unique_temp_id
    return data


def reset_token_v2(user: UserRecord) -> dict[str, Any]:
    """qiscus-rest-v2.md, Reset User Authentication Token (the whole user)."""
    return {
        **user_v2(user, token=True),
        "last_comment_id": 0,
        "pn_android_configured": True,
        "pn_ios_configured": True,
        "rtKey": "somestring",
    }


def listed_user_v21(user: UserRecord) -> dict[str, Any]:
    """v2.1/users.md, Get All Users: email/id/name, not user_id.

    With the ``active`` and ``extras`` the Go SDK's GetUsersResponse reads.
    """
    return {
        "active": user.active,
        "avatar_url": user.avatar_url,
        "created_at": user.created_at,
        "email": user.identifier,
        "extras": user.extras,
        "id": user.internal_id,
        "name": user.name,
        "updated_at": user.updated_at,
        "username": user.name,
    }


def webhook_log_v21(log: WebhookLogRecord) -> dict[str, Any]:
    """v2.1/more-endpoints.md, webhook_logs (the Go SDK's field names)."""
    return {
        "attempted_at": log.attempted_at,
        "endpoint": log.endpoint,
        "error_message": log.error_message,
        "id": log.id,
        "is_success": log.is_success,
        "request_body": log.request_body,
        "response_body": log.response_body,
        "response_code": log.response_code,
    }


def backup(record: BackupRecord, base: str) -> dict[str, Any]:
    """qiscus-rest-v2.md, Data Backup and Import (same in v2.1)."""
    status, percentage = record.state
    data: dict[str, Any] = {
        "created_at": record.created_at,
        "original_filename": record.filename,
        "percentage": percentage,
        "resource_name": record.resource,
        "size": record.size if status == "finished" else 0,
        "status": status,
        "total_rows": record.total_rows if status == "finished" else 0,
        "unique_id": record.unique_id,
    }
    if record.kind == "export":
        finished = status == "finished"
        data["download_url"] = f"{base}/{record.filename}" if finished else ""
        data["error_message"] = record.error if status == "failed" else ""
    else:
        data["errors"] = record.import_errors or {"Message": "", "Data": None}
    return data


def webhook(store: Store, room: RoomRecord, comment: CommentRecord) -> dict[str, Any]:
    """qiscus-rest-v2.md and v2.1/webhook.md, On post message (from the REST API).

    The documents show ``message`` with ``type``, ``text`` and ``payload``;
    real deliveries (Qiscus's Omnichannel webhook page) also carry the
    comment's ``id``, ``unique_temp_id``, ``timestamp`` and
    ``unix_timestamp``, which a receiver needs to tell a redelivery from the
    same text sent again.
    """
    sender = store.users[comment.sender]
    return {
        "type": "post_comment_rest",
        "payload": {
            "from": {
                "id": sender.internal_id,
                "email": sender.identifier,
                "name": sender.name,
            },
            "room": {
                "id": room.id,
                "topic_id": room.id,
                "type": room.type,
                "name": room.name,
                "participants": [
                    {
                        "id": store.users[p].internal_id,
                        "email": p,
                        "username": store.users[p].name,
                        "avatar_url": store.users[p].avatar_url,
                    }
                    for p in room.participants
                ],
            },
            "message": {
                "type": comment.type,
                "text": comment.message,
                "payload": comment.payload or {},
                "id": comment.id,
                "unique_temp_id": comment.unique_temp_id,
                "timestamp": comment.timestamp,
                "unix_timestamp": _unix(comment.timestamp),
            },
        },
    }
