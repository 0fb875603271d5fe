"""The domain model: one view of users, rooms and comments for both dialects.

Values are frozen attrs classes. They carry no wire names: each dialect's
converter (``aioqiscus.dialects``) maps its own JSON onto them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from .payloads import Payload

__all__ = [
    "IMPORT_LIMIT",
    "RAW_OPTIONS_KEY",
    "SECRET_EXTRAS",
    "Backup",
    "BackupResource",
    "BackupStatus",
    "Comment",
    "ExportRecord",
    "ExportedComment",
    "ExportedRoom",
    "ExportedUser",
    "ParticipantChange",
    "ReplyTime",
    "Room",
    "RoomType",
    "User",
    "WebhookLog",
    "from_dict",
    "to_dict",
]

#: Room options that are not a JSON object are kept, unparsed, under this key
#: (``Room.options == {"_raw": "<what the server sent>"}``) so nothing is lost.
RAW_OPTIONS_KEY = "_raw"


class RoomType(enum.Enum):
    """The kind of a room."""

    SINGLE = "single"
    GROUP = "group"
    CHANNEL = "channel"


def _empty() -> Mapping[str, Any]:
    return {}


#: Keys of :attr:`User.extras` whose values ``repr`` masks: v2's realtime key
#: (``rtKey``, ``qiscus-rest-v2.md``, Reset User Token) is a credential.
SECRET_EXTRAS = frozenset({"rtKey"})


def _extras_repr(extras: Mapping[str, Any]) -> str:
    return repr({k: "***" if k in SECRET_EXTRAS else v for k, v in extras.items()})


@attrs.frozen
class User:
    """A Qiscus user.

    Attributes:
        id: The identifier used in API calls: the email in v2, the user_id in
            v2.1 (the same value on one server).
        name: The display name (``username``); ``""`` when the server sent
            only the identifier (v2 participant lists).
        avatar_url: The avatar, or ``None`` when unset.
        extras: Application-defined metadata (v2.1). v2 users have no extras
            of their own: there it holds any other key the server sends
            (``reset_user_token``'s ``last_comment_id``, ...); ``repr`` masks
            the credential among them (:data:`SECRET_EXTRAS`).
        internal_id: The server's numeric user id, where it sends one (v2).
        active: Whether the account is active, where the server says (v2.1).
        token: The user's SDK token, where a call returns it. Never shown in
            ``repr``.
        created_at: When the user was created (aware UTC), where the answer
            says (v2.1 ``get_user_list``).
        updated_at: When the user last changed (aware UTC), where the answer
            says.
        last_comment_read_id: As a room participant: the newest comment this
            user has read, where the answer says (v2 read receipts).
        last_comment_received_id: As a room participant: the newest comment
            delivered to this user, where the answer says.
    """

    id: str
    name: str = ""
    avatar_url: str | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty, repr=_extras_repr)
    internal_id: int | None = None
    active: bool | None = None
    token: str | None = attrs.field(default=None, repr=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_comment_read_id: int | None = None
    last_comment_received_id: int | None = None


@attrs.frozen
class Room:
    """A chat room: 1:1, group or channel.

    Attributes:
        id: The room id, always a string (v2 sends integers).
        name: The room name (``""`` for unnamed single rooms in v2.1).
        type: The room type.
        avatar_url: The avatar, or ``None`` when unset.
        options: Parsed room options; ``{}`` when unset. Options that are not
            a JSON object are kept as ``{RAW_OPTIONS_KEY: original}``.
        channel_id: The client-chosen unique id of the room, if any.
        participants: The participants, when the response lists them.
        unread_count: Unread comments for the user asked about, if known.
        creator: The creator's identifier, where the response names one.
        last_comment_id: Id of the newest comment, if the response says.
        last_comment_message: Text of the newest comment, if the response says.
        last_comment_at: Time of the newest comment (aware UTC), if known.
        comments: The room's newest comments, newest first, where the answer
            bundles them (v2 ``update_room`` and
            ``get_or_create_room_with_target``).
        changed: Whether the call that answered this room changed it, where
            the server says (``update_room``; ``get_or_create_channel``, where
            ``True`` also means the channel was just created). It describes
            the call, not the room, so it takes no part in ``==``.
    """

    id: str
    name: str
    type: RoomType
    avatar_url: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=_empty)
    channel_id: str | None = None
    participants: tuple[User, ...] = ()
    unread_count: int | None = None
    creator: str | None = None
    last_comment_id: int | None = None
    last_comment_message: str | None = None
    last_comment_at: datetime | None = None
    comments: tuple[Comment, ...] = ()
    changed: bool | None = attrs.field(default=None, eq=False)


class ParticipantChange(list[User]):
    """The users a participant change added or removed, and the room after it.

    A ``list`` of :class:`User` (what ``add_participants`` and
    ``remove_participants`` have always returned), with one attribute more.

    Attributes:
        room: The room as the server answered it, where it does: v2 answers
            the room's id, name, type, creator and its whole updated roster
            (``Room.participants``); ``None`` in v2.1, which answers only the
            users concerned.
    """

    def __init__(self, users: Iterable[User] = (), room: Room | None = None) -> None:
        super().__init__(users)
        self.room = room


@attrs.frozen
class Comment:
    """A comment (message) in a room.

    Attributes:
        id: The comment id: an ``int`` in both dialects, the number the
            server orders a room's comments by (like
            :attr:`comment_before_id` and :attr:`Room.last_comment_id`).
            ``None`` only where the answer carries none: the v2.1 documents'
            examples and webhook deliveries.
        room_id: The room, filled from the request when the response lacks it.
        sender: The author, always: every comment both dialects document
            names one (system events too); a comment without is a
            :class:`~aioqiscus.errors.ResponseShapeError`.
        message: The text.
        type: The comment type (``text``, ``buttons``, ``card``, ...).
        payload: The typed payload (:mod:`aioqiscus.payloads`); ``None`` for
            text; a :class:`~aioqiscus.payloads.RawPayload` for types we do
            not model.
        timestamp: Creation time (aware UTC); ``None`` when missing or zero.
        unique_temp_id: The client-side unique id: v2's ``unique_temp_id``,
            v2.1's ``unique_id``, or the marker aioqiscus stores in v2.1
            ``extras`` when it sends (removed from :attr:`extras`).
        extras: Application-defined metadata.
        comment_before_id: The id of the previous comment, if given.
        disable_link_preview: Whether link previews are off.
        room_name: The room's name, where the answer says (v2 listings).
        room_type: The room's type, where the answer says (v2 search).
    """

    id: int | None
    room_id: str | None
    sender: User
    message: str
    type: str = "text"
    payload: Payload | None = None
    timestamp: datetime | None = None
    unique_temp_id: str | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)
    comment_before_id: int | None = None
    disable_link_preview: bool = False
    room_name: str | None = None
    room_type: RoomType | None = None


@attrs.frozen
class ReplyTime:
    """How fast a user replies (v2.1 ``get_average_reply_time_user``).

    Attributes:
        user_id: The user.
        average: The average reply time.
        longest: The longest reply time.
        shortest: The shortest reply time.
        since: The start of the period the server measured, if it says.
        until: The end of that period, if it says.
    """

    user_id: str
    average: timedelta
    longest: timedelta
    shortest: timedelta
    since: datetime | None = None
    until: datetime | None = None


@attrs.frozen
class WebhookLog:
    """One webhook delivery the server attempted (v2.1 ``webhook_logs``).

    Attributes:
        id: The log entry's id.
        attempted_at: When the delivery was attempted (aware UTC).
        endpoint: The URL it was delivered to.
        succeeded: Whether the receiver accepted it.
        response_code: The receiver's HTTP status (0 if none came).
        request_body: The delivered JSON, as text.
        response_body: What the receiver answered, as text.
        error_message: Why the delivery failed; ``""`` if it did not.
    """

    id: int
    attempted_at: datetime | None
    endpoint: str
    succeeded: bool
    response_code: int = 0
    request_body: str = ""
    response_body: str = ""
    error_message: str = ""


#: Import files larger than this, in bytes, are refused by the server ("Data
#: Backup and Import" in ``qiscus-rest-v2.md`` and
#: ``v2.1/data-backup-and-import.md``).
IMPORT_LIMIT = 4 * 1024 * 1024


class BackupResource(enum.Enum):
    """What an export or import holds."""

    USERS = "users"
    ROOMS = "rooms"
    COMMENTS = "comments"


class BackupStatus:
    """The statuses servers report for exports and imports.

    Plain strings, not an enum: a server may add one, and a backup with an
    unknown status must still parse.
    """

    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"


@attrs.frozen
class Backup:
    """An export (backup) or import job.

    Attributes:
        id: The backup's unique id.
        resource: ``users``, ``rooms`` or ``comments``.
        status: See :class:`BackupStatus` (``started``, ``finished``,
            ``failed``; servers may report others while working).
        percentage: Progress, 0 to 100.
        total_rows: Rows exported or imported so far.
        size: The file size in bytes.
        download_url: Where a finished export can be downloaded.
        filename: The file's name.
        error_message: Why an export failed, if it did.
        errors: An import's error details (``Message``, ``Data``).
        created_at: When the job was created (aware UTC).
    """

    id: str
    resource: str
    status: str
    percentage: int = 0
    total_rows: int = 0
    size: int = 0
    download_url: str | None = None
    filename: str | None = None
    error_message: str | None = None
    errors: Mapping[str, Any] = attrs.field(factory=_empty)
    created_at: datetime | None = None

    @property
    def done(self) -> bool:
        """Whether the job has finished or failed."""
        return self.status in (BackupStatus.FINISHED, BackupStatus.FAILED)


@attrs.frozen
class ExportedUser:
    """One row of a users export (the import format, ``CreateAt`` and all).

    Attributes:
        email: The user's email (v2.1 user_id).
        name: The display name.
        avatar_url: The avatar URL; ``""`` when unset.
        created_at: When the user was created (aware UTC), if the row says.
    """

    email: str
    name: str = ""
    avatar_url: str = ""
    created_at: datetime | None = None


@attrs.frozen
class ExportedRoom:
    """One row of a rooms export.

    Attributes:
        unique_id: The room's unique id (what comment rows name).
        name: The room name.
        type: ``"single"`` or ``"group"``, as the row says.
        creator: The creator's email.
        participants: The participants' emails.
        options: The room options, as the string the row holds.
        avatar_url: The avatar URL; ``""`` when unset.
        created_at: When the room was created (aware UTC), if the row says.
    """

    unique_id: str
    name: str = ""
    type: str = "group"
    creator: str = ""
    participants: tuple[str, ...] = ()
    options: str = ""
    avatar_url: str = ""
    created_at: datetime | None = None


@attrs.frozen
class ExportedComment:
    """One row of a comments export.

    Attributes:
        unique_id: The comment's unique id.
        room_unique_id: Its room's unique id.
        sender: The sender's email (the row's ``CreatorEmail``).
        message: The text.
        type: The comment type.
        payload: The typed payload, as :func:`aioqiscus.payloads.from_wire`
            reads it.
        parent_unique_id: A reply's parent's unique id; ``""`` otherwise.
        disable_link_preview: Whether link previews are off.
        created_at: When it was posted (aware UTC), if the row says.
    """

    unique_id: str
    room_unique_id: str
    sender: str
    message: str = ""
    type: str = "text"
    payload: Payload | None = None
    parent_unique_id: str = ""
    disable_link_preview: bool = False
    created_at: datetime | None = None


#: A row of an export, as :meth:`~aioqiscus.QiscusClient.download_export` reads it.
ExportRecord = ExportedUser | ExportedRoom | ExportedComment


_Stored = TypeVar("_Stored", "User", "Room", "Comment")


def to_dict(value: User | Room | Comment, *, include_token: bool = False) -> Any:
    """A user, room or comment as plain JSON values, to store or send on.

    The models' own field names (not a dialect's wire names), datetimes as
    ISO 8601 strings, enums as their values, and each payload as
    ``{"type": ..., "data": payload.to_wire()}``; :func:`from_dict` reads it
    back equal. Unlike ``attrs.asdict``, it leaves out a user's ``token``
    (in rooms' participants and comments' senders too) unless
    *include_token* is true.

    Raises:
        InvalidArgumentError: *value* is not a User, Room or Comment.
    """
    from ._model_dicts import to_dict as dump  # noqa: PLC0415 - imports this module

    return dump(value, include_token=include_token)


def from_dict(cls: type[_Stored], data: Mapping[str, Any]) -> _Stored:
    """The :class:`User`, :class:`Room` or :class:`Comment` *data* stores.

    Args:
        cls: ``User``, ``Room`` or ``Comment``.
        data: What :func:`to_dict` gave (after a JSON round trip, or not).

    Raises:
        InvalidArgumentError: *data* is not a stored *cls*.
    """
    from ._model_dicts import from_dict as load  # noqa: PLC0415 - imports this module

    return load(cls, data)
