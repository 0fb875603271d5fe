"""In-memory state of the fake server: users, rooms, comments, backups, logs.

Strictly private. Records hold wire-neutral values; ``_shapes`` renders them
in each dialect's documented JSON. The :class:`Store` also holds the lookups
every handler shares (``user_or_404``, ``room_or_404``, ...): they raise the
error answer the servers give for a missing record.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ._http import Reject, invalid

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
#: What each poll of a new export reveals by default; the last step repeats.
DEFAULT_EXPORT_STEPS = (("started", 0), ("started", 50), ("finished", 100))
#: An import answers ``started`` (the documents' Make an Import example), and
#: is ``finished`` at the next listing.
DEFAULT_IMPORT_STEPS = (("started", 0), ("finished", 100))


def now(skew: float = 0.0) -> str:
    """The current time as the servers format it, *skew* seconds off."""
    at = datetime.now(UTC) + timedelta(seconds=skew)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.define
class UserRecord:
    """A user: ``identifier`` is the v2 email and the v2.1 user_id."""

    internal_id: int
    identifier: str
    name: str
    avatar_url: str = ""
    extras: dict[str, Any] = attrs.Factory(dict)
    password: str = ""
    token: str = attrs.Factory(lambda: secrets.token_urlsafe(15))
    active: bool = True
    created_at: str = attrs.Factory(now)
    updated_at: str = attrs.Factory(now)


@attrs.define
class CommentRecord:
    """A comment."""

    id: int
    room_id: int
    sender: str
    message: str
    type: str = "text"
    payload: Any = None
    extras: dict[str, Any] = attrs.Factory(dict)
    unique_temp_id: str = ""
    timestamp: str = attrs.Factory(now)
    before_id: int = 0
    disable_link_preview: bool = False


@attrs.define
class RoomRecord:
    """A room; ``options`` is kept as the string clients sent."""

    id: int
    name: str
    type: str
    creator: str
    participants: list[str]
    avatar_url: str = ""
    options: str = ""
    channel_id: str = ""
    created_at: str = attrs.Factory(now)
    comments: list[CommentRecord] = attrs.Factory(list)
    last_read: dict[str, int] = attrs.Factory(dict)

    @property
    def last_comment(self) -> CommentRecord | None:
        """The newest comment."""
        return self.comments[-1] if self.comments else None

    def unread(self, user: str, within: Callable[[str], bool] | None = None) -> int:
        """Comments by others after *user*'s last read comment.

        *within* keeps only the comments whose timestamp it accepts.
        """
        seen = self.last_read.get(user, 0)
        return sum(
            1
            for c in self.comments
            if c.id > seen
            and c.sender != user
            and (within is None or within(c.timestamp))
        )


@attrs.define
class WebhookLogRecord:
    """One webhook delivery attempt, as ``webhook_logs`` reports it.

    ``kind`` is ``mobile`` or ``rest``: which webhook type it delivered.
    """

    id: int
    kind: str
    endpoint: str
    request_body: str
    response_code: int
    response_body: str
    error_message: str
    attempted_at: str = attrs.Factory(now)

    @property
    def is_success(self) -> bool:
        """Whether the receiver answered 2xx."""
        return 200 <= self.response_code < 300  # noqa: PLR2004


@attrs.define
class BackupRecord:
    """An export or import job; ``steps`` is what each poll reveals next.

    An export's ``content`` is the file it serves once finished.
    """

    unique_id: str
    resource: str
    filename: str
    kind: str  # "export" or "import"
    steps: list[tuple[str, int]]
    created_at: str = attrs.Factory(now)
    total_rows: int = 0
    size: int = 0
    error: str = ""
    import_errors: dict[str, Any] = attrs.Factory(dict)
    content: bytes = b""
    polls: int = 0

    @property
    def state(self) -> tuple[str, int]:
        """The (status, percentage) the server currently reports."""
        return self.steps[min(self.polls, len(self.steps) - 1)]


@attrs.define
class AgentRecord:
    """An Omnichannel agent: who serves customers, up to a quota."""

    id: int
    name: str
    email: str
    quota: int = 2
    is_available: bool = True
    force_offline: bool = False
    division_ids: list[int] = attrs.Factory(list)
    rooms: list[int] = attrs.Factory(list)
    token: str = attrs.Factory(lambda: secrets.token_urlsafe(15))
    created_at: str = attrs.Factory(now)


@attrs.define
class ChannelRecord:
    """An Omnichannel channel: a WhatsApp number, a LINE account, a widget..."""

    id: int
    kind: str
    name: str
    is_active: bool = True
    secret: str = attrs.Factory(lambda: secrets.token_urlsafe(15))


@attrs.define
class CustomerRoomRecord:
    """The Omnichannel side of a Chat SDK room a customer writes in."""

    room_id: int
    log_id: int
    customer: str
    channel_id: int
    source: str
    bot_active: bool = True
    resolved: bool = False
    agents: list[int] = attrs.Factory(list)
    tags: list[tuple[int, str]] = attrs.Factory(list)
    properties: list[dict[str, Any]] = attrs.Factory(list)
    services: int = 0
    created_at: str = attrs.Factory(now)


@attrs.define
class OmnichannelState:
    """What the fake's Omnichannel knows, beside the Chat SDK store."""

    agents: dict[int, AgentRecord] = attrs.Factory(dict)
    divisions: dict[int, tuple[str, bool]] = attrs.Factory(dict)
    channels: dict[int, ChannelRecord] = attrs.Factory(dict)
    rooms: dict[int, CustomerRoomRecord] = attrs.Factory(dict)
    ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))


@attrs.define
class Store:
    """Everything the fake server knows.

    Attributes:
        users: Users by identifier (v2 email, v2.1 user_id).
        rooms: Rooms by id.
        backups: Export and import jobs by unique id.
        imported_rooms: Room ids by the ``UniqueId`` of a rooms import row.
        comments_by_unique_id: Comments by unique id (``unique_temp_id``,
            an import's ``UniqueId``), which ``ParentCommentUniqueId`` names.
        export_steps: What each poll of a new export reveals, in order.
        import_steps: What a new valid import answers, then each listing of
            imports reveals, in order (an invalid one answers ``failed``).
        webhook_logs: Every webhook delivery attempted, oldest first.
        clock_skew: How many seconds the server's clock is ahead of the
            machine's (negative: behind); stamps comments and users.
        omnichannel: Agents, divisions, channels and customer rooms.
    """

    users: dict[str, UserRecord] = attrs.Factory(dict)
    rooms: dict[int, RoomRecord] = attrs.Factory(dict)
    backups: dict[str, BackupRecord] = attrs.Factory(dict)
    webhook_logs: list[WebhookLogRecord] = attrs.Factory(list)
    imported_rooms: dict[str, int] = attrs.Factory(dict)
    comments_by_unique_id: dict[str, CommentRecord] = attrs.Factory(dict)
    omnichannel: OmnichannelState = attrs.Factory(OmnichannelState)
    export_steps: list[tuple[str, int]] = attrs.Factory(
        lambda: list(DEFAULT_EXPORT_STEPS)
    )
    import_steps: list[tuple[str, int]] = attrs.Factory(
        lambda: list(DEFAULT_IMPORT_STEPS)
    )
    clock_skew: float = 0.0
    _user_ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))
    _room_ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(1001))
    _comment_ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(500001))
    _log_ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))

    def upsert_user(
        self,
        identifier: str,
        name: str,
        *,
        avatar_url: str | None = None,
        extras: dict[str, Any] | None = None,
        password: str | None = None,
    ) -> UserRecord:
        """Create the user, or update the given fields of an existing one."""
        user = self.users.get(identifier)
        if user is None:
            user = UserRecord(next(self._user_ids), identifier, name)
            self.users[identifier] = user
        elif name:
            user.name = name
        if avatar_url is not None:
            user.avatar_url = avatar_url
        if extras is not None:
            user.extras = extras
        if password is not None:
            user.password = password
        user.updated_at = now(self.clock_skew)
        return user

    def set_active(self, identifiers: list[str], active: bool) -> None:
        """(De)activate the users *identifiers*; a 404 for an unknown one."""
        for user in self.users_or_404(identifiers):
            if user.active != active:
                user.active = active
                user.updated_at = now(self.clock_skew)

    def log_webhook(self, kind: str, endpoint: str, body: bytes, **answer: Any) -> None:
        """Record one webhook delivery attempt (``response_code``, ...)."""
        self.webhook_logs.append(
            WebhookLogRecord(
                next(self._log_ids),
                kind,
                endpoint,
                body.decode("utf-8", "replace"),
                **answer,
            )
        )

    def create_room(
        self,
        name: str,
        type: str,
        creator: str,
        participants: list[str],
        *,
        avatar_url: str = "",
        options: str = "",
        channel_id: str = "",
    ) -> RoomRecord:
        """Create a room; the creator is always a participant."""
        members = list(dict.fromkeys([creator, *participants]))
        room = RoomRecord(
            next(self._room_ids),
            name,
            type,
            creator,
            members,
            avatar_url=avatar_url,
            options=options,
            channel_id=channel_id,
        )
        self.rooms[room.id] = room
        return room

    def add_comment(
        self, room: RoomRecord, sender: str, message: str, **fields: Any
    ) -> CommentRecord:
        """Append a comment; the sender has read everything up to it."""
        before = room.last_comment.id if room.last_comment else 0
        fields.setdefault("timestamp", now(self.clock_skew))
        comment = CommentRecord(
            next(self._comment_ids),
            room.id,
            sender,
            message,
            before_id=before,
            **fields,
        )
        room.comments.append(comment)
        if comment.unique_temp_id:
            self.comments_by_unique_id.setdefault(comment.unique_temp_id, comment)
        room.last_read[sender] = comment.id
        return comment

    # ------------------------------------------------------------ lookups

    def user_or_404(self, identifier: str) -> UserRecord:
        """The user *identifier*, or a 404 ``User not found``."""
        user = self.users.get(identifier)
        if user is None:
            raise Reject(404, "User not found", f"user {identifier} not found")
        return user

    def users_or_404(self, identifiers: list[str]) -> list[UserRecord]:
        """Every user in *identifiers*; a 404 for the first unknown one."""
        return [self.user_or_404(i) for i in identifiers]

    def room_or_404(self, raw: str | None) -> RoomRecord:
        """The room whose id is *raw*: a 400 if absent, a 404 if unknown."""
        if raw is None:
            raise invalid("room_id is required")
        try:
            room = self.rooms.get(int(raw))
        except ValueError:
            room = None
        if room is None:
            raise Reject(404, "Room not found", f"room {raw} not found")
        return room

    def group_or_404(self, raw: str | None) -> RoomRecord:
        """Like :meth:`room_or_404`, and a 400 unless the room is a group."""
        room = self.room_or_404(raw)
        if room.type != "group":
            raise invalid("room must be a group room")
        return room

    def backup_or_404(self, unique_id: str, kind: str) -> BackupRecord:
        """The *kind* (``export``/``import``) job *unique_id*, or a 404."""
        record = self.backups.get(unique_id)
        if record is None or record.kind != kind:
            raise Reject(404, "Backup not found", f"backup {unique_id} not found")
        return record
