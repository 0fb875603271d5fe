"""Reading an app through both dialects: :func:`compare_dialects`.

Strictly private; the names are public in :mod:`aioqiscus.migration`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ..errors import InvalidArgumentError, QiscusError

if TYPE_CHECKING:
    from .._client import QiscusClient
    from ..models import Room

__all__ = ["DialectComparison", "Difference", "compare_dialects"]


@attrs.frozen
class Difference:
    """A field that reads differently through the two dialects."""

    kind: Literal["user", "room"]
    id: str
    field: str
    v2: Any
    v21: Any

    def __str__(self) -> str:
        return f"{self.kind} {self.id}: {self.field}: v2={self.v2!r} v2.1={self.v21!r}"


@attrs.frozen
class DialectComparison:
    """What :func:`compare_dialects` found.

    Attributes:
        checked: How many users and rooms were compared.
        differences: Every field that differs.
        missing: ``(kind, id, dialect)`` for objects one dialect could not read.
        reasons: Why, for each entry of *missing*: the server's error, or
            what the dialect answered.
    """

    checked: int
    differences: tuple[Difference, ...]
    missing: tuple[tuple[str, str, str], ...]
    reasons: Mapping[tuple[str, str, str], str] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """Whether both dialects read every object the same."""
        return not self.differences and not self.missing

    def __str__(self) -> str:
        if self.ok:
            return f"{self.checked} objects read the same through v2 and v2.1"
        lines = [f"{self.checked} objects compared:"]
        lines += [f"  {d}" for d in self.differences]
        for entry in self.missing:
            kind, ident, dialect = entry
            why = self.reasons.get(entry)
            lines.append(
                f"  {kind} {ident}: unreadable through {dialect}"
                + (f": {why}" if why else "")
            )
        return "\n".join(lines)


#: The fields both dialects carry. Others are one-sided and not compared: v2
#: users have numeric ids and no extras; v2 rooms info has no options or
#: channel ids; v2.1 rooms carry no last-comment fields.
_USER_FIELDS = ("id", "name", "avatar_url")
_ROOM_FIELDS = ("id", "name", "type", "avatar_url")


def _why(error: QiscusError) -> str:
    return f"{type(error).__name__}: {error}"


@attrs.define
class _Comparison:
    """Collects differences and unreadable objects. Strictly private."""

    differences: list[Difference] = attrs.Factory(list)
    missing: list[tuple[str, str, str]] = attrs.Factory(list)
    reasons: dict[tuple[str, str, str], str] = attrs.Factory(dict)

    def unreadable(self, kind: str, ident: str, dialect: str, why: str) -> None:
        entry = (kind, ident, dialect)
        self.missing.append(entry)
        self.reasons[entry] = why

    def result(self, checked: int) -> DialectComparison:
        return DialectComparison(
            checked, tuple(self.differences), tuple(self.missing), self.reasons
        )


async def compare_dialects(
    client_v2: QiscusClient,
    client_v21: QiscusClient,
    *,
    user_ids: Sequence[str] = (),
    room_ids: Sequence[str] = (),
    as_user: str | Mapping[str, str] | None = None,
) -> DialectComparison:
    """Read users and rooms through both dialects and report the differences.

    Only fields both dialects carry are compared (users: id, name, avatar;
    rooms: id, name, type, avatar and participant ids; v2 reads no room
    options, so compare those with your own data). An object a dialect
    cannot read is in ``missing``, and why in ``reasons``.

    Args:
        client_v2: A client pinned to ``api_version="v2"``.
        client_v21: A client pinned to ``api_version="v2.1"``.
        user_ids: Users to compare.
        room_ids: Rooms to compare.
        as_user: Who reads the rooms through v2, which reads a room as one
            of its participants: one user for every room, or a mapping of
            room id to user. For a room it does not name, the first
            participant the v2.1 read lists is used.
    """
    from .._wire import Dialect  # noqa: PLC0415 - keep the module import light

    if client_v2.dialect is not Dialect.V2 or client_v21.dialect is not Dialect.V2_1:
        msg = "compare_dialects needs clients pinned to api_version 'v2' and 'v2.1'"
        raise InvalidArgumentError(msg)
    given: object = as_user  # checked at run time too: callers may be untyped
    if given is not None and not isinstance(given, str | Mapping):
        msg = "as_user must be a user id or a mapping of room id to user id"
        raise InvalidArgumentError(msg)
    found = _Comparison()
    for user_id in user_ids:
        pair = []
        for client, label in ((client_v2, "v2"), (client_v21, "v2.1")):
            try:
                pair.append(await client.get_user(user_id))
            except QiscusError as exc:
                found.unreadable("user", user_id, label, _why(exc))
        if len(pair) == 2:  # noqa: PLR2004
            found.differences += _diff("user", user_id, pair[0], pair[1], _USER_FIELDS)
    for room_id in room_ids:
        await _compare_room(client_v2, client_v21, room_id, as_user, found)
    return found.result(len(user_ids) + len(room_ids))


async def _read_room(
    client: QiscusClient, room_id: str, reader: str | None
) -> tuple[Room | None, str]:
    """The room through *client* (as *reader*), or ``None`` and why not."""
    try:
        rooms = await client.get_rooms_info(
            [room_id], as_user=reader, show_participants=True
        )
    except QiscusError as exc:
        return None, _why(exc)
    for room in rooms:
        if room.id == room_id:
            return room, ""
    if reader:
        return None, (
            f"get_rooms_info read as {reader} answered no room {room_id} (v2 "
            f"answers only the rooms its reader is in)"
        )
    return None, f"get_rooms_info answered no room {room_id}"


async def _compare_room(
    client_v2: QiscusClient,
    client_v21: QiscusClient,
    room_id: str,
    as_user: str | Mapping[str, str] | None,
    found: _Comparison,
) -> None:
    new, why_new = await _read_room(client_v21, room_id, None)
    if new is None:
        found.unreadable("room", room_id, "v2.1", why_new)
    reader = as_user if isinstance(as_user, str) else (as_user or {}).get(room_id)
    if reader is None and new is not None and new.participants:
        reader = new.participants[0].id
    if reader is None:
        found.unreadable(
            "room",
            room_id,
            "v2",
            "v2 reads a room as a participant: none given in as_user, and "
            + ("the room has none" if new is not None else "v2.1 could not list one"),
        )
        return
    old, why_old = await _read_room(client_v2, room_id, reader)
    if old is None:
        found.unreadable("room", room_id, "v2", why_old)
    if old is None or new is None:
        return
    found.differences += _diff("room", room_id, old, new, _ROOM_FIELDS)
    ids_a = sorted(u.id for u in old.participants)
    ids_b = sorted(u.id for u in new.participants)
    if ids_a != ids_b:
        found.differences.append(
            Difference("room", room_id, "participants", ids_a, ids_b)
        )


def _diff(
    kind: Literal["user", "room"], key: str, a: Any, b: Any, fields: Sequence[str]
) -> list[Difference]:
    return [
        Difference(kind, key, name, getattr(a, name), getattr(b, name))
        for name in fields
        if getattr(a, name) != getattr(b, name)
    ]
