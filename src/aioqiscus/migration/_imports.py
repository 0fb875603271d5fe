"""Import records and :func:`plan_import`.

Strictly private; the names are public in :mod:`aioqiscus.migration`.
:func:`plan_import` checks import records against every rule of the "Data
Backup and Import" documents and packs them into files the server accepts
(at most 4 MB each), users before rooms before comments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from ..errors import InvalidArgumentError, QiscusError
from ..models import IMPORT_LIMIT

__all__ = [
    "IMPORT_LIMIT",
    "ImportChunk",
    "ImportComment",
    "ImportPlanError",
    "ImportProblem",
    "ImportRoom",
    "ImportUser",
    "plan_import",
]


def _stamp(value: datetime | None) -> str:
    moment = value or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tuple_of_str(values: Iterable[str]) -> tuple[str, ...]:
    """Any iterable of ids as a tuple.

    A typed function, not ``converter=tuple``: attrs types a field's argument
    from its converter, and ``tuple``'s ``Iterable[_T_co]`` made type checkers
    refuse ``participants=["a", "b"]``.
    """
    return tuple(values)


@attrs.frozen
class ImportUser:
    """A user to import. Emails and tokens must be unique app-wide."""

    email: str
    name: str
    avatar_url: str = ""
    authentication_token: str | None = attrs.field(default=None, repr=False)
    password: str | None = attrs.field(default=None, repr=False)
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented record (``CreateAt`` is the document's spelling)."""
        data: dict[str, Any] = {
            "Email": self.email,
            "Name": self.name,
            "AvatarUrl": self.avatar_url,
            "CreateAt": _stamp(self.created_at),
        }
        if self.authentication_token is not None:
            data["AuthenticationToken"] = self.authentication_token
        if self.password is not None:
            data["Password"] = self.password
        return data


@attrs.frozen
class ImportRoom:
    """A room to import.

    A single room has exactly 2 participants, the creator among them; the
    server names it from their emails.
    """

    unique_id: str
    name: str
    type: Literal["single", "group"]
    creator: str
    participants: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    options: str = ""
    avatar_url: str = ""
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented record."""
        return {
            "Name": self.name,
            "Type": self.type,
            "Options": self.options,
            "CreatorEmail": self.creator,
            "CreatedAt": _stamp(self.created_at),
            "AvatarUrl": self.avatar_url,
            "UniqueId": self.unique_id,
            "ParticipantEmails": list(self.participants),
        }


@attrs.frozen
class ImportComment:
    """A comment to import; a ``reply`` names its parent by unique id."""

    unique_id: str
    room_unique_id: str
    creator: str
    message: str
    type: str = "text"
    payload: Any = None
    parent_unique_id: str = ""
    disable_link_preview: bool = False
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented record."""
        return {
            "Message": self.message,
            "DisableLinkPreview": self.disable_link_preview,
            "Type": self.type,
            "UniqueId": self.unique_id,
            "CreatorEmail": self.creator,
            "RoomUniqueId": self.room_unique_id,
            "CreatedAt": _stamp(self.created_at),
            "Payload": self.payload,
            "ParentCommentUniqueId": self.parent_unique_id,
        }


ImportRecord = ImportUser | ImportRoom | ImportComment
_RESOURCE = {ImportUser: "users", ImportRoom: "rooms", ImportComment: "comments"}
_ORDER = ("users", "rooms", "comments")


@attrs.frozen
class ImportProblem:
    """One rule one record breaks: its position in the input, and why."""

    index: int
    record: ImportRecord
    message: str

    def __str__(self) -> str:
        return f"record {self.index} ({type(self.record).__name__}): {self.message}"


class ImportPlanError(QiscusError, ValueError):
    """Import records break the documented rules; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} import problem(s):\n{shown}{tail}")


@attrs.frozen
class ImportChunk:
    """One import file: its resource type, JSON bytes and record count.

    Pass it to ``client.create_import(chunk.resource, chunk.data)``. Each
    import request takes one resource type, so a chunk says which.
    """

    resource: str
    data: bytes = attrs.field(repr=False)
    records: int

    @property
    def size(self) -> int:
        """The file size in bytes."""
        return len(self.data)


@attrs.define
class _Checker:
    """Collects every problem instead of stopping at the first."""

    users: set[str]
    rooms: set[str]
    comments: set[str]
    problems: list[ImportProblem] = attrs.Factory(list)
    tokens: set[str] = attrs.Factory(set)

    def fail(self, index: int, record: ImportRecord, message: str) -> None:
        self.problems.append(ImportProblem(index, record, message))

    def _key(
        self, i: int, r: ImportRecord, name: str, value: str, seen: set[str]
    ) -> None:
        """The record's key *name* must be set and not in *seen* already."""
        if not value:
            self.fail(i, r, f"{name} is empty")
        elif value in seen:
            self.fail(i, r, f"{name} {value} is not unique")

    def user(self, i: int, r: ImportUser) -> None:
        self._key(i, r, "Email", r.email, self.users)
        self.users.add(r.email)
        token = r.authentication_token
        if token is not None:
            if token in self.tokens:
                self.fail(i, r, "AuthenticationToken is not unique")
            self.tokens.add(token)

    def room(self, i: int, r: ImportRoom) -> None:
        self._key(i, r, "UniqueId", r.unique_id, self.rooms)
        self.rooms.add(r.unique_id)
        if r.type not in ("single", "group"):
            self.fail(i, r, f"Type must be single or group, not {r.type!r}")
        if r.type == "single" and (
            len(set(r.participants)) != 2 or r.creator not in r.participants  # noqa: PLR2004
        ):
            self.fail(
                i, r, "a single room needs exactly 2 participants including the creator"
            )
        for email in (r.creator, *r.participants):
            if email not in self.users:
                self.fail(i, r, f"{email} is not an imported or existing user")

    def comment(self, i: int, r: ImportComment) -> None:
        self._key(i, r, "UniqueId", r.unique_id, self.comments)
        if r.room_unique_id not in self.rooms:
            self.fail(i, r, f"RoomUniqueId {r.room_unique_id} is not an imported room")
        if r.creator not in self.users:
            self.fail(i, r, f"CreatorEmail {r.creator} is not an imported user")
        if r.type == "reply":
            self._reply(i, r)
        elif r.parent_unique_id:
            self.fail(i, r, "only a reply may have a ParentCommentUniqueId")
        # Checked after the parent: a comment cannot reply to itself.
        self.comments.add(r.unique_id)

    def _reply(self, i: int, r: ImportComment) -> None:
        if r.parent_unique_id not in self.comments:
            self.fail(
                i,
                r,
                "a reply's ParentCommentUniqueId must name an earlier or existing "
                "comment",
            )
        payload = r.payload if isinstance(r.payload, dict) else {}
        # "replied_comment_id: 1, you must type literally integer 1".
        if payload.get("replied_comment_id") != 1 or "text" not in payload:
            self.fail(
                i, r, 'a reply payload must be {"text": ..., "replied_comment_id": 1}'
            )


def plan_import(
    records: Iterable[ImportRecord],
    *,
    existing_users: Iterable[str] = (),
    existing_rooms: Iterable[str] = (),
    existing_comments: Iterable[str] = (),
    limit: int = IMPORT_LIMIT,
) -> list[ImportChunk]:
    """Validate import records and pack them into files the server accepts.

    Users come before rooms before comments whatever the input order; within
    a resource the input order is kept, so a reply never lands in an earlier
    file than its parent. Every file is a JSON array of at most *limit* bytes.

    Args:
        records: ``ImportUser``, ``ImportRoom`` and ``ImportComment`` values.
        existing_users: Emails already on the server (from an export).
        existing_rooms: Room unique ids already on the server.
        existing_comments: Comment unique ids already on the server.
        limit: The size cap per file (the server's is 4 MB).

    Raises:
        ImportPlanError: Listing every problem of every record.
    """
    if limit < 2:  # noqa: PLR2004 - "[]"
        msg = "limit must hold at least an empty JSON array"
        raise InvalidArgumentError(msg)
    listed = list(records)
    by_resource: dict[str, list[tuple[int, ImportRecord]]] = {r: [] for r in _ORDER}
    checker = _Checker(set(existing_users), set(existing_rooms), set(existing_comments))
    for index, record in enumerate(listed):
        resource = _RESOURCE.get(type(record))
        if resource is None:
            msg = f"record {index} is a {type(record).__name__}, not an import record"
            raise TypeError(msg)
        by_resource[resource].append((index, record))
    for index, record in by_resource["users"]:
        checker.user(index, record)  # type: ignore[arg-type]
    for index, record in by_resource["rooms"]:
        checker.room(index, record)  # type: ignore[arg-type]
    for index, record in by_resource["comments"]:
        checker.comment(index, record)  # type: ignore[arg-type]
    chunks: list[ImportChunk] = []
    for resource in _ORDER:
        chunks.extend(_pack(resource, by_resource[resource], limit, checker))
    if checker.problems:
        raise ImportPlanError(sorted(checker.problems, key=lambda p: p.index))
    return chunks


def _pack(
    resource: str,
    records: list[tuple[int, ImportRecord]],
    limit: int,
    checker: _Checker,
) -> list[ImportChunk]:
    """Greedy, order-keeping packing of JSON records into arrays <= limit."""
    chunks: list[ImportChunk] = []
    current: list[bytes] = []
    size = 2  # the brackets
    for index, record in records:
        item = json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"))
        encoded = item.encode()
        if len(encoded) + 2 > limit:
            checker.fail(index, record, f"is {len(encoded)} bytes: over the file limit")
            continue
        extra = len(encoded) + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append(
                ImportChunk(resource, b"[" + b",".join(current) + b"]", len(current))
            )
            current, size = [], 2
            extra = len(encoded)
        current.append(encoded)
        size += extra
    if current:
        chunks.append(
            ImportChunk(resource, b"[" + b",".join(current) + b"]", len(current))
        )
    return chunks
