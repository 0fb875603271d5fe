"""The Omnichannel wire: requests as data, answers parsed to models (pure).

Strictly private. The sans-I/O core of :mod:`aioqiscus.omnichannel`, like
:mod:`aioqiscus.dialects` for the Chat SDK: every builder returns a
:class:`Call` (a :class:`~aioqiscus._wire.RequestSpec` and the parser of the
decoded body) and performs no I/O. Paths, bodies and queries follow
``omnichannel.md`` section 2 (the official Go SDK's ``multichannel``
package) and section 3 for ``available_agents``.

Each model is read through a table of ``field: (wire key, reader)``; a key
the table does not name, or a value whose type no source foresees, is kept
in the model's ``extras`` as it arrived (the reference lists what is
unknown; we keep rather than guess). What cannot be read at all (no
``data``, a list that is not a list, an agent without an id) raises
:class:`~aioqiscus.errors.ResponseShapeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .._envelope import describe, items
from .._wire import Page, Query, RequestSpec
from ..dialects import room_options
from ..errors import ResponseShapeError
from ..models import Room, RoomType
from .models import (
    SECRET_KEYS,
    Agent,
    AgentAssignment,
    Channel,
    CustomerInfo,
    CustomerProperty,
    CustomerRoom,
    Division,
    NamedRef,
    Resolution,
    RoomLog,
    RoomTag,
    Service,
)

T = TypeVar("T")
M = TypeVar("M")

#: The Go SDK's zero time: a timestamp that was never set.
_GO_ZERO = "0001-01-01T00:00:00Z"


@attrs.frozen
class Call(Generic[T]):
    """A request and the pure function that reads its decoded JSON body."""

    name: str
    request: RequestSpec
    parse: Callable[[Any], T]


class _Keep(Exception):  # noqa: N818 - a signal, not an error
    """A value of a type no source foresees: kept in extras, as it arrived."""


# ---------------------------------------------------------------- readers


def read_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Keep


def _int(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _Keep


def read_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    # Older deliveries send "true"/"false" (omnichannel.md 5.5).
    if value in ("true", "false"):
        return bool(value == "true")
    raise _Keep


def _zone(name: Any) -> timezone | ZoneInfo:
    if not isinstance(name, str) or name.upper() in ("UTC", "Z", ""):
        return UTC
    if name[:1] in "+-":
        hours, _, minutes = name[1:].partition(":")
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-offset if name[0] == "-" else offset)
    return ZoneInfo(name)


def _time(value: Any) -> datetime | None:
    """Any of the four timestamp forms of ``omnichannel.md`` 5.3, aware UTC.

    RFC 3339; PHP's ``{"date", "timezone_type", "timezone"}``; and the
    zone-less ``YYYY-MM-DD HH:MM:SS`` / ``YYYY-MM-DDTHH:MM:SS``, read as UTC
    (the samples' servers run in UTC; the zone is not stated).
    """
    if value is None or value in ("", _GO_ZERO):
        return None
    try:
        if isinstance(value, dict):
            parsed = datetime.fromisoformat(value["date"])
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_zone(value.get("timezone")))
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value)
        else:
            raise _Keep
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
        raise _Keep from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _raw(value: Any) -> Any:
    return value


def nested(read: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """A reader of a nested object: ``null`` is ``None``, a non-object kept."""

    def reader(value: Any) -> T | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _Keep
        return read(value)

    return reader


Reader = Callable[[Any], Any]
Table = Mapping[str, tuple[str, Reader]]


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        msg = f"expected {what} to be an object, got {describe(data)}"
        raise ResponseShapeError(msg)
    return data


def read_fields(
    data: Any, table: Table, what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields *table* names, and every other key as the extras."""
    found = _object(data, what)
    known: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    wires = set()
    for name, (key, read) in table.items():
        wires.add(key)
        if key in found:
            try:
                known[name] = read(found[key])
            except _Keep:
                extras[key] = found[key]
    extras.update((k, v) for k, v in found.items() if k not in wires)
    return known, extras


def _build(cls: Callable[..., M], data: Any, table: Table, what: str, *need: str) -> M:
    known, extras = read_fields(data, table, what)
    for name in need:
        if known.get(name) is None:
            msg = f"{what} has no usable {table[name][0]!r}: {describe(data)}"
            raise ResponseShapeError(msg)
    return cls(**known, extras=extras)


def data_of(body: Any) -> Any:
    """The ``data`` of an Omnichannel answer (``{"data": ..., ...}``)."""
    found = _object(body, "the answer")
    if "data" not in found:
        msg = f"expected an answer with 'data', got {describe(body)}"
        raise ResponseShapeError(msg)
    return found["data"]


# ---------------------------------------------------------------- models

_REF: Table = {"id": ("id", read_text), "name": ("name", read_text)}


def _refs(value: Any) -> tuple[NamedRef, ...]:
    """``[{"id", "name"}]``; any other entry keeps the whole list in extras."""
    if not isinstance(value, list) or not all(
        isinstance(v, dict) and read_text_or_none(v.get("id")) for v in value
    ):
        raise _Keep
    return tuple(_build(NamedRef, v, _REF, "a reference", "id") for v in value)


def read_text_or_none(value: Any) -> str | None:
    try:
        return read_text(value)
    except _Keep:
        return None


_AGENT: Table = {
    "id": ("id", read_text),
    "name": ("name", read_text),
    "email": ("email", read_text),
    "avatar_url": ("avatar_url", read_text),
    "is_available": ("is_available", read_bool),
    "force_offline": ("force_offline", read_bool),
    "current_customer_count": ("current_customer_count", _int),
    "type": ("type", _int),
    "type_as_string": ("type_as_string", read_text),
    "sdk_email": ("sdk_email", read_text),
    "last_login": ("last_login", _time),
    "created_at": ("created_at", _time),
    "channels": ("user_channels", _refs),
    "roles": ("user_roles", _refs),
    "authentication_token": ("authentication_token", read_text),
    "sdk_key": ("sdk_key", read_text),
}


def agent(data: Any) -> Agent:
    """An agent object of 2.8, 2.9, 2.10 or a webhook's ``candidate_agent``."""
    return _build(Agent, data, _AGENT, "an agent", "id")


_TAG: Table = {"id": ("id", read_text), "name": ("name", read_text)}


def room_tag(data: Any) -> RoomTag:
    """``{"id", "name"}`` (2.1, 2.2)."""
    return _build(RoomTag, data, _TAG, "a room tag")


_CHANNEL: Table = {
    "id": ("id", read_text),
    "name": ("name", read_text),
    "is_active": ("is_active", read_bool),
    "app_id": ("app_id", read_text),
    "badge_url": ("badge_url", read_text),
    "use_channel_responder": ("use_channel_responder", read_bool),
}


def channel(data: Any, kind: str | None = None) -> Channel:
    """A channel of 2.13 (or 2.4's ``channel``); secrets set apart."""
    known, extras = read_fields(data, _CHANNEL, "a channel")
    if known.get("name") is None and isinstance(extras.get("profile_name"), str):
        # Facebook pages have a profile_name and no name (2.13).
        known["name"] = extras["profile_name"]
    credentials = {k: extras.pop(k) for k in SECRET_KEYS & extras.keys()}
    return Channel(**known, kind=kind, credentials=credentials, extras=extras)


def channels(body: Any) -> list[Channel]:
    """2.13: every ``<kind>_channels`` list of ``data``, in order."""
    found = _object(data_of(body), "'data'")
    out: list[Channel] = []
    for key, value in found.items():
        # Only the *_channels lists are channels; another key says nothing
        # a Channel could hold.
        if key.endswith("_channels"):
            kind = key.removesuffix("_channels")
            out.extend(channel(c, kind) for c in items(value, f"data.{key}"))
    return out


def _properties(value: Any) -> tuple[CustomerProperty, ...]:
    entries = items(value, "user_properties")
    if not all(isinstance(e, dict) and isinstance(e.get("key"), str) for e in entries):
        msg = "expected user_properties to hold {key, value} objects"
        raise ResponseShapeError(msg)
    return tuple(CustomerProperty(e["key"], e.get("value")) for e in entries)


_INFO: Table = {
    "user_id": ("user_id", read_text),
    "first_initiated": ("first_initiated", _time),
    "first_agent_response_time": ("first_agent_response_time", _time),
    "channel_id": ("channel_id", read_text),
    "channel_name": ("channel_name", read_text),
    "is_blocked": ("is_blocked", read_bool),
    "channel": ("channel", nested(channel)),
}


def customer_info(body: Any) -> CustomerInfo:
    """2.3 and 2.4: ``data.extras.user_properties`` and the rest."""
    known, extras = read_fields(data_of(body), _INFO, "'data'")
    inner = extras.pop("extras", None)
    if not isinstance(inner, dict):
        # No additional info yet, or a shape no source shows: kept.
        if inner is not None:
            extras["extras"] = inner
        inner = {}
    rest = dict(inner)
    properties = _properties(rest.pop("user_properties", None))
    if rest:
        extras["extras"] = rest
    return CustomerInfo(**known, properties=properties, extras=extras)


_CUSTOMER_ROOM: Table = {
    "room_id": ("room_id", read_text),
    "id": ("id", read_text),
    "name": ("name", read_text),
    "source": ("source", read_text),
    "channel_id": ("channel_id", read_text),
    "room_type": ("room_type", read_text),
    "user_id": ("user_id", read_text),
    "user_avatar_url": ("user_avatar_url", read_text),
    "room_badge": ("room_badge", read_text),
    "contact_id": ("contact_id", read_text),
    "is_handled_by_bot": ("is_handled_by_bot", read_bool),
    "is_resolved": ("is_resolved", read_bool),
    "is_waiting": ("is_waiting", read_bool),
    "last_comment_sender": ("last_comment_sender", read_text),
    "last_comment_sender_type": ("last_comment_sender_type", read_text),
    "last_comment_text": ("last_comment_text", read_text),
    "last_comment_at": ("last_comment_timestamp", _time),
    "last_customer_comment_text": ("last_customer_comment_text", read_text),
    "last_customer_at": ("last_customer_timestamp", _time),
}


def customer_room(body: Any) -> CustomerRoom:
    """2.14: ``data.customer_room``."""
    data = _object(data_of(body), "'data'")
    room = _build(
        CustomerRoom,
        data.get("customer_room"),
        _CUSTOMER_ROOM,
        "data.customer_room",
        "room_id",
    )
    rest = {k: v for k, v in data.items() if k != "customer_room"}
    return attrs.evolve(room, extras={**room.extras, **rest}) if rest else room


_ROOM_LOG: Table = {
    "room_id": ("room_id", read_text),
    "id": ("id", read_text),
    "user_id": ("user_id", read_text),
    "name": ("name", read_text),
    "source": ("source", read_text),
    "channel_id": ("channel_id", read_text),
    "is_handled_by_bot": ("is_handled_by_bot", read_bool),
    "is_waiting": ("is_waiting", read_bool),
    "resolved": ("resolved", read_bool),
    "has_no_message": ("has_no_message", read_bool),
    "room_badge": ("room_badge", read_text),
    "user_avatar_url": ("user_avatar_url", read_text),
    "created_at": ("created_at", _time),
    "extras_text": ("extras", _raw),
}


def room_log(data: Any) -> RoomLog:
    """2.7's ``data``, or a new-session webhook's ``room_log`` (4.4)."""
    return _build(RoomLog, data, _ROOM_LOG, "a room log")


_SERVICE: Table = {
    "id": ("id", read_text),
    "room_id": ("room_id", read_text),
    "is_resolved": ("is_resolved", read_bool),
    "notes": ("notes", read_text),
    "user_id": ("user_id", read_text),
    "app_id": ("app_id", read_text),
    "room_log_id": ("room_log_id", read_text),
    "first_comment_id": ("first_comment_id", read_text),
    "last_comment_id": ("last_comment_id", read_text),
    "resolved_at": ("resolved_at", _time),
    "retrieved_at": ("retrieved_at", _time),
    "created_at": ("created_at", _time),
    "updated_at": ("updated_at", _time),
    "agent": ("user", nested(agent)),
}


def service(data: Any) -> Service:
    """A service (2.12 ``data.service``, 4.2 ``latest_service``, 4.3)."""
    return _build(Service, data, _SERVICE, "a service")


def chat_room(data: Any) -> Room | None:
    """2.12's ``room_info.room`` as a Chat SDK :class:`~aioqiscus.models.Room`.

    ``None`` for a room type aioqiscus does not know (the caller keeps it).
    """
    found = _object(data, "room_info.room")
    try:
        kind = RoomType(found.get("room_type"))
    except ValueError:
        return None
    room_id = read_text_or_none(found.get("room_id"))
    if room_id is None:
        return None
    return Room(
        id=room_id,
        name=read_text_or_none(found.get("room_name")) or "",
        type=kind,
        avatar_url=read_text_or_none(found.get("room_avatar_url")) or None,
        options=parse_options(found.get("room_options")),
        channel_id=read_text_or_none(found.get("room_channel_id")) or None,
    )


#: Room options as a mapping, as :class:`~aioqiscus.models.Room` holds them:
#: a JSON string (current deliveries) or an object (older ones, 5.5);
#: ``""``/``null`` is ``{}``; anything else is kept under ``"_raw"``.
parse_options = room_options


def resolution(body: Any) -> Resolution:
    """2.12: ``data.service`` and ``data.room_info.room``."""
    data = dict(_object(data_of(body), "'data'"))
    raw_service = data.pop("service", None)
    room = None
    info = data.get("room_info")
    if isinstance(info, dict) and isinstance(info.get("room"), dict):
        room = chat_room(info["room"])
        if room is not None:
            data.pop("room_info")
    return Resolution(
        service=None if raw_service is None else service(raw_service),
        room=room,
        extras=data,
    )


def assignment(body: Any) -> AgentAssignment:
    """2.9: ``data.added_agent``; any other key of ``data`` kept."""
    data = dict(_object(data_of(body), "'data'"))
    added = data.pop("added_agent", None)
    return AgentAssignment(None if added is None else agent(added), extras=data)


_DIVISION: Table = {
    "id": ("id", read_text),
    "name": ("name", read_text),
    "is_default": ("is_default_role", read_bool),
    "app_id": ("app_id", read_text),
    "created_at": ("created_at", _time),
    "updated_at": ("updated_at", _time),
}


def division(data: Any) -> Division:
    """A division of 2.11."""
    return _build(Division, data, _DIVISION, "a division", "id")


# ---------------------------------------------------------------- pages


def _count(meta: Mapping[str, Any], key: str) -> int | None:
    value = meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _paged(
    items: Sequence[T], meta: Any, page: int, limit: int, total_key: str
) -> Page[T]:
    """A page; whether more follow from ``meta`` where it tells, else a full page.

    2.8 answers ``{per_page, total_count}``, 2.10 and 2.11
    ``{limit, page, total, total_page}``.
    """
    found = meta if isinstance(meta, dict) else {}
    total = _count(found, total_key)
    pages = _count(found, "total_page")
    if pages is not None:
        more = page < pages
    elif total is not None:
        more = page * limit < total
    else:
        more = len(items) >= limit
    return Page(
        tuple(items),
        more,
        total=total,
        total_pages=pages,
        current_page=_count(found, "page"),
    )


# ---------------------------------------------------------------- requests


def _path(value: str) -> str:
    return quote(value, safe="")


def get_room_tags(room_id: str) -> Call[list[RoomTag]]:
    """2.1 ``GET /api/v1/room_tag/{room_id}``."""
    return Call(
        "get_room_tags",
        RequestSpec("GET", f"/api/v1/room_tag/{_path(room_id)}"),
        lambda body: [room_tag(t) for t in items(data_of(body), "'data'")],
    )


def create_room_tag(room_id: str, tag: str) -> Call[RoomTag]:
    """2.2 ``POST /api/v1/room_tag/create``."""
    return Call(
        "create_room_tag",
        RequestSpec(
            "POST",
            "/api/v1/room_tag/create",
            json={"room_id": room_id, "tag": tag},
            idempotent=False,
        ),
        lambda body: room_tag(data_of(body)),
    )


def _user_info(room_id: str) -> str:
    return f"/api/v1/qiscus/room/{_path(room_id)}/user_info"


def get_customer_info(room_id: str) -> Call[CustomerInfo]:
    """2.4 ``GET /api/v1/qiscus/room/{room_id}/user_info``."""
    return Call(
        "get_customer_info", RequestSpec("GET", _user_info(room_id)), customer_info
    )


def replace_customer_info(
    room_id: str, properties: Sequence[tuple[str, Any]]
) -> Call[CustomerInfo]:
    """2.3 ``POST .../user_info``: the whole list, replaced."""
    body = {"user_properties": [{"key": k, "value": v} for k, v in properties]}
    return Call(
        "replace_customer_info",
        RequestSpec("POST", _user_info(room_id), json=body, idempotent=False),
        customer_info,
    )


def mark_as_resolved(
    room_id: str, notes: str | None, last_comment_id: str | None
) -> Call[Resolution]:
    """2.12 ``POST /api/v1/admin/service/mark_as_resolved``.

    Only ``room_id`` is required (IGO sends it alone); the optional keys
    are sent when given, as AHM does.
    """
    body: dict[str, Any] = {"room_id": room_id}
    if notes is not None:
        body["notes"] = notes
    if last_comment_id is not None:
        body["last_comment_id"] = last_comment_id
    return Call(
        "mark_as_resolved",
        RequestSpec(
            "POST",
            "/api/v1/admin/service/mark_as_resolved",
            json=body,
            idempotent=False,
        ),
        resolution,
    )


def get_customer_room(room_id: str) -> Call[CustomerRoom]:
    """2.14 ``GET /api/v2/customer_rooms/{room_id}``."""
    return Call(
        "get_customer_room",
        RequestSpec("GET", f"/api/v2/customer_rooms/{_path(room_id)}"),
        customer_room,
    )


def send_bot_message(app_code: str, body: Mapping[str, Any]) -> Call[None]:
    """2.6 ``POST /{app_code}/bot``; the answer's body is not read (as GO)."""
    return Call(
        "send_bot_message",
        RequestSpec("POST", f"/{_path(app_code)}/bot", json=body, idempotent=False),
        lambda _body: None,
    )


def set_bot_active(room_id: str, active: bool) -> Call[RoomLog]:
    """2.7 ``POST /bot/{room_id}/activate`` (no ``/api`` prefix)."""
    return Call(
        "set_bot_active",
        RequestSpec(
            "POST",
            f"/bot/{_path(room_id)}/activate",
            json={"is_active": active},
            idempotent=False,
        ),
        lambda body: room_log(data_of(body)),
    )


def list_agents(page: int, limit: int, search: str, scope: str) -> Call[Page[Agent]]:
    """2.8 ``GET /api/v2/admin/agents``: ``search`` and ``scope`` always sent."""
    query: Query = (
        ("page", str(page)),
        ("limit", str(limit)),
        ("search", search),
        ("scope", scope),
    )

    def parse(body: Any) -> Page[Agent]:
        data = _object(data_of(body), "'data'")
        found = [agent(a) for a in items(data.get("agents"), "data.agents")]
        return _paged(found, body.get("meta"), page, limit, "total_count")

    return Call("iter_agents", RequestSpec("GET", "/api/v2/admin/agents", query), parse)


def assign_agent(
    room_id: str,
    agent_id: str,
    replace_latest_agent: bool,
    max_agent: int,
) -> Call[AgentAssignment]:
    """2.9 ``POST /api/v1/admin/service/assign_agent``, every key as GO sends."""
    body = {
        "room_id": room_id,
        "agent_id": agent_id,
        "replace_latest_agent": replace_latest_agent,
        "max_agent": max_agent,
    }
    return Call(
        "assign_agent",
        RequestSpec(
            "POST",
            "/api/v1/admin/service/assign_agent",
            json=body,
            idempotent=False,
        ),
        assignment,
    )


def list_agents_by_division(
    page: int,
    limit: int,
    division_ids: Sequence[str],
    available: bool | None,
    sort: str,
) -> Call[Page[Agent]]:
    """2.10 ``GET /api/v2/admin/agents/by_division``.

    ``is_available`` is omitted for "all" (GO always sends it, ``false``
    by default, contrary to its own comment: omnichannel.md 2.10).
    """
    query: list[tuple[str, str]] = [("page", str(page)), ("limit", str(limit))]
    query.extend(("division_ids[]", d) for d in division_ids)
    if available is not None:
        query.append(("is_available", "true" if available else "false"))
    query.append(("sort", sort))

    def parse(body: Any) -> Page[Agent]:
        found = [agent(a) for a in items(data_of(body), "'data'")]
        return _paged(found, body.get("meta"), page, limit, "total")

    return Call(
        "iter_agents_by_division",
        RequestSpec("GET", "/api/v2/admin/agents/by_division", tuple(query)),
        parse,
    )


def list_divisions(page: int, limit: int) -> Call[Page[Division]]:
    """2.11 ``GET /api/v2/divisions``."""
    query: Query = (("page", str(page)), ("limit", str(limit)))

    def parse(body: Any) -> Page[Division]:
        found = [division(d) for d in items(data_of(body), "'data'")]
        return _paged(found, body.get("meta"), page, limit, "total")

    return Call("iter_divisions", RequestSpec("GET", "/api/v2/divisions", query), parse)


def list_channels() -> Call[list[Channel]]:
    """2.13 ``GET /api/v2/channels``."""
    return Call("list_channels", RequestSpec("GET", "/api/v2/channels"), channels)


def available_agents(room_id: str) -> Call[Page[Agent]]:
    """Section 3: ``GET /api/v2/admin/service/available_agents?room_id=``.

    A secondary source: ``data`` is a list (ADI) or ``{"agents": [...]}``
    (AHM); both are read. No paging is documented: one page.
    """

    def parse(body: Any) -> Page[Agent]:
        data = data_of(body)
        if isinstance(data, dict):
            data = data.get("agents")
        found = [agent(a) for a in items(data, "the available agents")]
        return Page(tuple(found), has_more=False)

    return Call(
        "iter_available_agents",
        RequestSpec(
            "GET", "/api/v2/admin/service/available_agents", (("room_id", room_id),)
        ),
        parse,
    )
