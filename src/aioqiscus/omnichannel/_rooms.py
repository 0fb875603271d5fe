"""A typed view of an Omnichannel room's options (pure).

Strictly private; users call :func:`aioqiscus.omnichannel.room_info`. An
Omnichannel room is a Chat SDK room whose options (a JSON string on the
wire, a mapping on :class:`~aioqiscus.models.Room`) say where the customer
writes from and whether the room waits or is resolved (``omnichannel.md``
4.1): ``{"channel", "channel_details": {"channel_id", "name", "phone"},
"is_resolved", "is_waiting", "source"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..models import Room
from . import _convert as wire
from .models import ChannelDetails, OmnichannelRoom, Source

__all__ = ["read_nested", "read_options", "room_info"]

T = TypeVar("T")

#: The option keys :class:`OmnichannelRoom` names.
_KEYS = ("channel", "source", "is_resolved", "is_waiting", "channel_details")
_DETAILS: wire.Table = {
    "channel_id": ("channel_id", wire.read_text),
    "name": ("name", wire.read_text),
    "phone": ("phone", wire.read_text),
}


def _source(value: Any) -> Source | str | None:
    if value is None or not isinstance(value, str):
        return None
    try:
        return Source(value)
    except ValueError:
        return value


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    # Older deliveries send "true"/"false" (omnichannel.md 5.5).
    if value in ("true", "false"):
        return bool(value == "true")
    return None


def read_nested(
    value: Any,
    key: str,
    table: wire.Table,
    make: Callable[..., T],
    extras: dict[str, Any],
) -> T | None:
    """*value*, the object under *key*, read by *table* into *make*.

    A JSON object becomes ``make(**fields, extras=other_keys)``; any other
    value that is not ``None`` is kept, as it arrived, in ``extras[key]``,
    and the answer is ``None``.
    """
    if isinstance(value, dict):
        known, rest = wire.read_fields(value, table, key)
        return make(**known, extras=rest)
    if value is not None:
        extras[key] = value
    return None


def read_options(
    room_id: str, options: Mapping[str, Any] | str | None
) -> OmnichannelRoom:
    """The typed view of *options* (a mapping, or the JSON string as sent).

    Never raises: a value of an unexpected type is ``None`` on the view and
    kept, as it arrived, in its ``extras``.
    """
    found = dict(
        wire.parse_options(options) if not isinstance(options, Mapping) else options
    )
    extras = {k: v for k, v in found.items() if k not in _KEYS}
    typed_details = read_nested(
        found.get("channel_details"),
        "channel_details",
        _DETAILS,
        ChannelDetails,
        extras,
    )
    view = OmnichannelRoom(
        room_id=room_id,
        channel=_source(found.get("channel")),
        source=_source(found.get("source")),
        is_resolved=_flag(found.get("is_resolved")),
        is_waiting=_flag(found.get("is_waiting")),
        channel_details=typed_details,
        is_omnichannel=any(k in found for k in _KEYS),
        extras=extras,
    )
    for key in ("channel", "source", "is_resolved", "is_waiting"):
        if key in found and getattr(view, key) is None and found[key] is not None:
            extras[key] = found[key]
    return view


def room_info(room: Room) -> OmnichannelRoom:
    """The Omnichannel view of a Chat SDK *room*: channel, source, state.

    ``room_info(room).channel`` is a :class:`Source` (``Source.WHATSAPP``)
    or, for a channel the reference does not name, its text; missing
    ``channel_details`` is ``None``; options that were not JSON are kept in
    ``extras["_raw"]``. A room without any Omnichannel option answers
    ``is_omnichannel == False``.
    """
    return read_options(room.id, room.options)
