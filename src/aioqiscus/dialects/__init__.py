"""The sans-I/O core: one module per REST dialect, and its public face.

Each dialect module (``v2``, ``v21``) builds :class:`~aioqiscus._wire.Call`
values (a request spec plus a pure parser) and never performs I/O, so it is
tested synchronously against the JSON samples of the reference documents.

This package's face, the only names other modules use: :class:`Codec` (what
a dialect module provides), :data:`CODECS` (one per :class:`Dialect`), and
the wire readers webhook deliveries share with the dialects
(:func:`payload_from_wire`, the field hooks and :func:`assembler`, which
builds frozen models fast), and the payload writer the
payload classes' ``to_wire()`` shares with them (:func:`payload_to_wire`),
and the reader of export files (:func:`parse_export`).
``_common``, ``_payloads`` and ``_backups`` are strictly private.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from .. import models
from .._wire import Call, Dialect, Operation, Page, Route
from . import v2, v21
from ._assemble import assembler
from ._backups import Backups, parse_export
from ._common import (
    CommentBody,
    SentReader,
    identifier,
    optional_int,
    optional_str,
    room_options,
    room_type,
    strict_str,
    timestamp,
)
from ._payloads import from_wire as payload_from_wire
from ._payloads import to_wire as payload_to_wire

__all__ = [
    "CODECS",
    "Codec",
    "assembler",
    "identifier",
    "optional_int",
    "optional_str",
    "parse_export",
    "payload_from_wire",
    "payload_to_wire",
    "room_options",
    "room_type",
    "strict_str",
    "timestamp",
]


class Codec(Protocol):
    """What every dialect module provides (modules satisfy it structurally)."""

    DIALECT: Dialect
    ROUTES: Mapping[Operation, Route]
    #: Exports and imports: the same builders in both dialects.
    BACKUPS: Backups

    def create_room(
        self,
        name: str,
        participants: Sequence[str],
        creator: str,
        avatar_url: str | None,
        options: Mapping[str, Any] | None,
    ) -> Call[models.Room]: ...

    def get_or_create_room_with_target(
        self, user_ids: Sequence[str], options: Mapping[str, Any] | None
    ) -> Call[models.Room]: ...

    def get_or_create_channel(
        self,
        unique_id: str,
        participants: Sequence[str],
        name: str | None,
        avatar_url: str | None,
        options: Mapping[str, Any] | None,
        *,
        method: str = "GET",
    ) -> Call[models.Room]: ...

    def get_rooms_info(
        self,
        room_ids: Sequence[str],
        channel_ids: Sequence[str],
        as_user: str | None,
        show_participants: bool,
    ) -> Call[list[models.Room]]: ...

    def update_room(
        self,
        room_id: str,
        name: str | None,
        avatar_url: str | None,
        options: Mapping[str, Any] | None,
        channel_id: str | None,
        as_user: str | None,
    ) -> Call[models.Room]: ...

    def add_participants(
        self, room_id: str, user_ids: Sequence[str]
    ) -> Call[models.ParticipantChange]: ...

    def remove_participants(
        self, room_id: str, user_ids: Sequence[str]
    ) -> Call[models.ParticipantChange]: ...

    def list_participants(
        self, room_id: str, page: int, limit: int, as_user: str | None
    ) -> Call[Page[models.User]]: ...

    def list_user_rooms(
        self,
        user_id: str,
        page: int,
        limit: int,
        room_type: models.RoomType | None,
        show_participants: bool,
        show_empty: bool = False,
    ) -> Call[Page[models.Room]]: ...

    def get_unread_counts(
        self, user_id: str, room_ids: Sequence[str]
    ) -> Call[dict[str, int]]: ...

    def post_comment(
        self, room_id: str, *values: Any, marker_in_extras: bool = True
    ) -> Call[models.Comment]:
        """The send of the body :attr:`post_comment_body` builds from these values."""
        ...

    @property
    def post_comment_body(self) -> CommentBody:
        """The body of a comment send (the dialect's ``post_comment_body``)."""
        ...

    def sent_reader(self) -> SentReader:
        """The reader of a send's answer for the JSON library in use."""
        ...

    def list_comments(
        self, room_id: str, page: int, limit: int
    ) -> Call[Page[models.Comment]]: ...

    def post_system_event(
        self,
        room_id: str,
        event_type: str,
        subject: str | None,
        objects: Sequence[str],
        room_name: str | None,
        message: str | None,
        payload: Mapping[str, Any] | None,
        extras: Mapping[str, Any] | None,
    ) -> Call[models.Comment]: ...

    def search_messages(
        self, user_id: str, query: str, room_id: str | None
    ) -> Call[list[models.Comment]]: ...

    def login_or_register(
        self,
        user_id: str,
        username: str,
        password: str | None,
        avatar_url: str | None,
        extras: Mapping[str, Any] | None,
        device_token: str | None,
        device_platform: str | None,
    ) -> Call[models.User]: ...

    def get_user(self, user_id: str) -> Call[models.User]: ...

    def reset_user_token(self, user_id: str) -> Call[models.User]: ...

    def get_user_token(self, user_id: str) -> Call[str]: ...

    def list_users(
        self, page: int, limit: int, order_query: str | None
    ) -> Call[Page[models.User]]: ...

    def list_unread_users(
        self, page: int, limit: int, since: datetime | None, until: datetime | None
    ) -> Call[Page[str]]: ...

    def get_user_unread_counts(
        self, user_ids: Sequence[str], since: datetime | None, until: datetime | None
    ) -> Call[dict[str, int]]: ...

    def deactivate_users(self, user_ids: Sequence[str]) -> Call[str]: ...

    def reactivate_users(self, user_ids: Sequence[str]) -> Call[str]: ...

    def get_average_reply_time(
        self, user_id: str, since: datetime | None, until: datetime | None
    ) -> Call[models.ReplyTime]: ...

    def load_comments_with_range(
        self, room_id: str, first_comment_id: int, last_comment_id: int
    ) -> Call[list[models.Comment]]: ...

    def list_webhook_logs(
        self, page: int, limit: int, kind: str
    ) -> Call[Page[models.WebhookLog]]: ...


CODECS: Mapping[Dialect, Codec] = {Dialect.V2: v2, Dialect.V2_1: v21}
