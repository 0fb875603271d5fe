"""Reading an app through both dialects: :func:`compare_dialects`.

Strictly private; the names are public in :mod:`aioqiscus.migration`.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """

    checked: int
    differences: tuple[Difference, ...]
    missing: tuple[tuple[str, str, str], ...]

    @property
    def ok(self) -> bool:
        """Whether both dialects read every object the same."""
        return not self.differences and not self.missing

    def __str__(self) -> str:
        if self.ok:
            return f"{self.checked} objects read the same through v2 and v2.1"
        lines = [f"{self.checked} objects compared:"]
        lines += [f"  {d}" for d in self.differences]
        lines += [f"  {k} {i}: unreadable through {d}" for k, i, d in self.missing]
        return "\n".join(lines)


#: The fields both dialects carry. Others are one-sided and not compared: v2
#: users have numeric ids and no extras; v2 rooms info has no options or
#: channel ids; v2.1 rooms carry no last-comment fields.
_USER_FIELDS = ("id", "name", "avatar_url")
_ROOM_FIELDS = ("id", "name", "type", "avatar_url")


async def compare_dialects(
    client_v2: QiscusClient,
    client_v21: QiscusClient,
    *,
    user_ids: Sequence[str] = (),
    room_ids: Sequence[str] = (),
    as_user: str | None = None,
) -> DialectComparison:
    """Read users and rooms through both dialects and report the differences.

    Only fields both dialects carry are compared (users: id, name, avatar;
    rooms: id, name, type, avatar and participant ids; v2 reads no room
    options, so compare those with your own data).

    Args:
        client_v2: A client pinned to ``api_version="v2"``.
        client_v21: A client pinned to ``api_version="v2.1"``.
        user_ids: Users to compare.
        room_ids: Rooms to compare.
        as_user: A participant of every room (v2 reads rooms as a user).
    """
    from .._wire import Dialect  # noqa: PLC0415 - keep the module import light

    if client_v2.dialect is not Dialect.V2 or client_v21.dialect is not Dialect.V2_1:
        msg = "compare_dialects needs clients pinned to api_version 'v2' and 'v2.1'"
        raise InvalidArgumentError(msg)
    if room_ids and as_user is None:
        msg = "comparing rooms needs as_user= (v2 reads rooms as a participant)"
        raise InvalidArgumentError(msg)
    differences: list[Difference] = []
    missing: list[tuple[str, str, str]] = []
    for user_id in user_ids:
        pair = []
        for client, label in ((client_v2, "v2"), (client_v21, "v2.1")):
            try:
                pair.append(await client.get_user(user_id))
            except QiscusError:
                missing.append(("user", user_id, label))
        if len(pair) == 2:  # noqa: PLR2004
            differences += _diff("user", user_id, pair[0], pair[1], _USER_FIELDS)
    if room_ids:
        old = await client_v2.get_rooms_info(
            list(room_ids), as_user=as_user, show_participants=True
        )
        new = await client_v21.get_rooms_info(list(room_ids), show_participants=True)
        _compare_rooms(room_ids, old, new, differences, missing)
    return DialectComparison(
        len(user_ids) + len(room_ids), tuple(differences), tuple(missing)
    )


def _compare_rooms(
    room_ids: Sequence[str],
    old: Sequence[Room],
    new: Sequence[Room],
    differences: list[Difference],
    missing: list[tuple[str, str, str]],
) -> None:
    by_old = {r.id: r for r in old}
    by_new = {r.id: r for r in new}
    for room_id in room_ids:
        a, b = by_old.get(room_id), by_new.get(room_id)
        if a is None or b is None:
            missing += [
                ("room", room_id, label)
                for label, room in (("v2", a), ("v2.1", b))
                if room is None
            ]
            continue
        differences += _diff("room", room_id, a, b, _ROOM_FIELDS)
        ids_a = sorted(u.id for u in a.participants)
        ids_b = sorted(u.id for u in b.participants)
        if ids_a != ids_b:
            differences.append(
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
