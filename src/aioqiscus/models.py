"""The domain model: one view of users, rooms and comments for both dialects.

Values are frozen attrs classes. They carry no wire names: each dialect's
converter (``aioqiscus.dialects``) maps its own JSON onto them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .payloads import Payload

__all__ = [
    "IMPORT_LIMIT",
    "RAW_OPTIONS_KEY",
    "Backup",
    "BackupResource",
    "BackupStatus",
    "Comment",
    "Room",
    "RoomType",
    "User",
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


@attrs.frozen
class User:
    """A Qiscus user.

    Attributes:
        id: The identifier used in API calls: the email in v2, the user_id in
            v2.1 (the same value on one server).
        name: The display name (``username``); ``""`` when the server sent
            only the identifier (v2 participant lists).
        avatar_url: The avatar, or ``None`` when unset.
        extras: Application-defined metadata (v2.1).
        internal_id: The server's numeric user id, where it sends one (v2).
        active: Whether the account is active, where the server says (v2.1).
        token: The user's SDK token, where a call returns it. Never shown in
            ``repr``.
    """

    id: str
    name: str = ""
    avatar_url: str | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)
    internal_id: int | None = None
    active: bool | None = None
    token: str | None = attrs.field(default=None, repr=False)


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


@attrs.frozen
class Comment:
    """A comment (message) in a room.

    Attributes:
        id: The comment id. v2.1 documents omit it in places; ``None`` then.
        room_id: The room, filled from the request when the response lacks it.
        sender: The author, or ``None`` if the response does not say.
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
    """

    id: int | None
    room_id: str | None
    sender: User | None
    message: str
    type: str = "text"
    payload: Payload | None = None
    timestamp: datetime | None = None
    unique_temp_id: str | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)
    comment_before_id: int | None = None
    disable_link_preview: bool = False


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
