"""The pure planner of a copy: what to write for each source object.

Strictly private. Each function takes a model read from the source and the
two dialects, and returns the write the target needs, keyed by the source's
ids, with every field it cannot carry and why; or a :class:`Skip`. No I/O:
the runner (``_copy``) reads, writes and checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from .._validate import check_comment
from .._wire import Dialect
from ..models import Comment, Room, RoomType, User
from ..payloads import SENDABLE, RawPayload, Reply

__all__ = [
    "CommentWrite",
    "RoomWrite",
    "Skip",
    "UserWrite",
    "comment_key",
    "marker",
    "plan_comment",
    "plan_room",
    "plan_user",
    "relink",
    "unfit_user_id",
]

Dropped = tuple[tuple[str, str], ...]


@attrs.frozen
class Skip:
    """A source object left out, and why.

    ``refused``: the target would refuse it (a conflict a dry run reports),
    rather than an object nobody can post (a system event).
    """

    reason: str
    refused: bool = False


@attrs.frozen
class UserWrite:
    key: str
    name: str
    avatar_url: str | None
    extras: Mapping[str, Any] | None
    dropped: Dropped = ()


@attrs.frozen
class RoomWrite:
    key: str
    how: Literal["group", "single", "channel"]
    name: str
    creator: str
    participants: tuple[str, ...]
    avatar_url: str | None
    options: Mapping[str, Any] | None
    channel_id: str | None
    dropped: Dropped = ()
    #: Whether the source's options were read (v2 reads never return them).
    options_known: bool = True


@attrs.frozen
class CommentWrite:
    key: str
    sender: str
    message: str
    type: str
    payload: Any
    extras: Mapping[str, Any] | None
    marker: str
    #: The key of the comment a reply quotes; the runner maps it.
    parent_key: str | None
    dropped: Dropped = ()


def unfit_user_id(user_id: str, target: Dialect) -> str | None:
    """Why the target dialect cannot hold *user_id*, if it cannot.

    v2 names users by email (``email``, ``user_email`` in every v2 call);
    v2.1 takes any user id.
    """
    if target is Dialect.V2 and "@" not in user_id:
        return "v2 identifies users by email, and this id is not one"
    return None


def plan_user(user: User, *, source: Dialect, target: Dialect) -> UserWrite:
    """The ``login_or_register`` that recreates *user* on the target."""
    dropped: list[tuple[str, str]] = []
    extras: Mapping[str, Any] | None = dict(user.extras) or None
    if source is Dialect.V2:
        dropped.append(("extras", "v2 reads never return user extras"))
    elif extras and target is Dialect.V2:
        dropped.append(("extras", "v2 stores no user extras"))
        extras = None
    return UserWrite(
        user.id, user.name or user.id, user.avatar_url, extras, tuple(dropped)
    )


def plan_room(
    room: Room, *, source: Dialect, target: Dialect, options_known: bool = False
) -> RoomWrite | Skip:
    """The call that recreates *room* on the target.

    *options_known*: the room's options were read (a v2.1 read, or a v2
    source's rooms export), even if empty.
    """
    members = tuple(dict.fromkeys(u.id for u in room.participants))
    creator = room.creator or (members[0] if members else "")
    if not creator:
        return Skip("the room has no participants to create it with")
    dropped: list[tuple[str, str]] = []
    options: Mapping[str, Any] | None = dict(room.options) or None
    known = options_known or source is Dialect.V2_1 or bool(options)
    if not known:
        dropped.append(
            ("options", "v2 reads of rooms never return options: set them again")
        )
    if room.type is RoomType.SINGLE:
        if len(members) != 2:  # noqa: PLR2004 - a 1:1 room
            return Skip(f"a single room with {len(members)} participant(s)")
        if options and target is Dialect.V2:
            dropped.append(("options", "v2 takes no options for a 1:1 room"))
            options = None
        if room.avatar_url:
            dropped.append(("avatar_url", "a 1:1 room's avatar cannot be set"))
        how: Literal["group", "single", "channel"] = "single"
    elif room.type is RoomType.CHANNEL:
        how = "channel"
    else:
        how = "group"
    return RoomWrite(
        key=room.id,
        how=how,
        name=room.name or room.id,
        creator=creator,
        participants=members,
        avatar_url=room.avatar_url,
        options=options,
        channel_id=room.channel_id or (room.id if how == "channel" else None),
        dropped=tuple(dropped),
        options_known=known,
    )


def comment_key(room_key: str, comment: Comment) -> str | None:
    """The source key of a comment: its room and id (or marker)."""
    ident = comment.id if comment.id is not None else comment.unique_temp_id
    return None if ident is None else f"{room_key}/{ident}"


def marker(room_key: str, comment: Comment) -> str:
    """The ``unique_temp_id`` the copy carries, found again on a rerun.

    The source's own marker when it has one, so the comment keeps its
    identity; otherwise one derived from the source ids.
    """
    return comment.unique_temp_id or f"migrated-{room_key}-{comment.id}"


def plan_comment(
    comment: Comment, room_key: str, *, target: Dialect
) -> CommentWrite | Skip:
    """The ``post_comment`` that recreates *comment* in its copied room."""
    key = comment_key(room_key, comment)
    if key is None:
        return Skip("the comment has neither an id nor a unique_temp_id")
    payload = comment.payload
    if comment.type == "system_event" or (
        payload is not None and not isinstance(payload, (*SENDABLE, RawPayload))
    ):
        return Skip(
            f"{comment.type} comments are the server's own and cannot be posted"
        )
    dropped: list[tuple[str, str]] = []
    extras: Mapping[str, Any] | None = dict(comment.extras) or None
    if extras and target is Dialect.V2:
        dropped.append(("extras", "v2 posts no comment extras"))
        extras = None
    parent = None
    if isinstance(payload, Reply):
        parent = f"{room_key}/{payload.replied_comment_id}"
    try:
        kind = check_comment(payload, comment.type, comment.message or "")
    except (TypeError, ValueError) as exc:
        return Skip(f"the target would refuse it: {exc}", refused=True)
    return CommentWrite(
        key=key,
        sender=comment.sender.id,
        message=comment.message,
        type=kind,
        payload=payload,
        extras=extras,
        marker=marker(room_key, comment),
        parent_key=parent,
        dropped=tuple(dropped),
    )


def relink(write: CommentWrite, parent_id: str | None) -> tuple[Any, str | None]:
    """The payload to post once the parent's target id is known.

    Returns the payload and, when the link cannot be kept, why.
    """
    payload = write.payload
    if not isinstance(payload, Reply):
        return payload, None
    if parent_id is None or not parent_id.isdigit():
        return None, "the quoted comment was not copied: posted as plain text"
    return attrs.evolve(payload, replied_comment_id=int(parent_id)), None
