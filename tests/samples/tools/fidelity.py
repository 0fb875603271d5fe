"""Check that every field of every response sample reaches the model (run by hand).

Usage: ``python tests/samples/tools/fidelity.py`` (from the repository, with
aioqiscus importable). Exit status: 0 when no field is lost, 1 when some
field is lost, 2 when a sample has no parse path or does not match the Go
SDK struct it claims to follow.

The examples are every response sample under ``tests/samples/v2`` and
``tests/samples/v21`` (including the comment payloads of ``v2/payloads``,
checked inside a comment) and the samples derived from the official Go SDK's
response structs (``v21/gosdk/`` and the endpoints only that SDK calls; see
``v21/SOURCES.md``). Each derived sample is first checked against the
struct's field tree recorded in ``gosdk.json``: it holds every field the SDK
reads and no other.

Each example goes through the library's public parse path,
``aioqiscus.dialects.CODECS[dialect].<builder>(...).parse(results)``. Then
every wire key of ``results`` is traced to the model through the tables
below, one per model: a key *reaches* the model when the attribute its table
names holds the key's value (after the normalisations of :func:`same`: ids
to strings, timestamps to datetimes, JSON strings to mappings, ``""`` and
``null`` to unset). A key the table does not name reaches the model only if
a catch-all mapping of that model (``extras``; a system event's ``payload``;
a raw payload's ``data``) holds it with the same value. Everything else is
reported as lost. Three more rules, each explicit in the tables:

- ``Dup(twin)``: a redundant copy of another key of the same object (v2's
  ``topic_id`` of ``room_id``); it reaches the model when its twin does.
  Copies whose value differs from the twin are printed as notes.
- ``Echo(value)``: a key that repeats a request argument (v2's ``room_id`` in
  a participant change); it reaches the caller when it equals the argument.
- Alias probes: where one object carries two keys the tables send to one
  attribute (``username`` and ``name``), the example is parsed again without
  the first, so the second must reach the model on its own.

An example whose builder the codec lacks (neither a module function nor one
of its ``BACKUPS``) is reported with all its fields lost.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from aioqiscus import Dialect
from aioqiscus.dialects import CODECS
from aioqiscus.models import Backup, Comment, Room, User, WebhookLog
from aioqiscus.payloads import (
    AccountLinking,
    Button,
    Buttons,
    Card,
    Carousel,
    CarouselCard,
    ContactPerson,
    Custom,
    FileAttachment,
    Location,
    RawPayload,
    Reply,
    SystemEvent,
)

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent
V2, V21 = Dialect.V2, Dialect.V2_1


@attrs.frozen
class Dup:
    """A redundant copy of *twin*, a key of the same object."""

    twin: str


@attrs.frozen
class Echo:
    """A key that repeats the request argument *value*."""

    value: Any


#: The key under which a table lists its model's catch-all mappings.
ANY = "*"

# ------------------------------------------------- wire key -> model attribute
# A dotted key reads inside a nested wire object (v2's user_avatar.avatar.url);
# a dotted target reads inside a nested model (a v2 comment's sender.id).

_USER = {
    "username": "name",
    "avatar_url": "avatar_url",
    "extras": "extras",
    "active": "active",
    "id": "internal_id",
    "token": "token",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "last_comment_read_id": "last_comment_read_id",
    "last_comment_received_id": "last_comment_received_id",
    ANY: ("extras",),
}
USER_V2 = {**_USER, "email": "id", "avatar.url": "avatar_url"}
USER_V21 = {
    **_USER,
    "user_id": "id",
    "email": "id",  # get_user_list names users by email (v2.1/users.md)
    "name": "listed_name",
}
ROOM_V2 = {
    "room_id": "id",
    "id": "id",
    "room_name": "name",
    "room_type": "type",
    "chat_type": "type",
    "room_avatar_url": "avatar_url",
    "avatar_url": "avatar_url",
    "options": "options",
    "participants": "participants",
    "unread_count": "unread_count",
    "creator": "creator",
    "last_comment_id": "last_comment_id",
    "last_comment_message": "last_comment_message",
    "last_comment_timestamp": "last_comment_at",
    "last_topic_id": Dup("id"),
}
ROOM_V21 = {
    "room_id": "id",
    "room_name": "name",
    "room_type": "type",
    "room_avatar_url": "avatar_url",
    "room_options": "options",
    "room_channel_id": "channel_id",
    "participants": "participants",
    "unread_count": "unread_count",
    "last_comment_id": "last_comment_id",
    "last_comment_message": "last_comment_message",
    "last_comment_timestamp": "last_comment_at",
}
_COMMENT = {
    "id": "id",
    "room_id": "room_id",
    "message": "message",
    "type": "type",
    "payload": "payload",
    "timestamp": "timestamp",
    "unique_temp_id": "unique_temp_id",
    "extras": "extras",
    "comment_before_id": "comment_before_id",
    "disable_link_preview": "disable_link_preview",
    ANY: ("extras",),
}
COMMENT_V2 = {
    **_COMMENT,
    "room_name": "room_name",
    "chat_type": "room_type",
    "topic_id": Dup("room_id"),
    "unix_timestamp": Dup("timestamp"),
    "email": "sender.id",
    "username": "sender.name",
    "user_avatar_url": "sender.avatar_url",
    "user_avatar.avatar.url": "sender.avatar_url",
    "user_id": "sender.internal_id",
}
COMMENT_V21 = {**_COMMENT, "unique_id": "unique_temp_id", "user": "sender"}
BACKUP = {
    "unique_id": "id",
    "resource_name": "resource",
    "status": "status",
    "percentage": "percentage",
    "total_rows": "total_rows",
    "size": "size",
    "download_url": "download_url",
    "original_filename": "filename",
    "error_message": "error_message",
    "errors": "errors",
    "created_at": "created_at",
}
WEBHOOK_LOG = {
    "id": "id",
    "attempted_at": "attempted_at",
    "endpoint": "endpoint",
    "is_success": "succeeded",
    "response_code": "response_code",
    "request_body": "request_body",
    "response_body": "response_body",
    "error_message": "error_message",
}
PAYLOADS: dict[type, Mapping[str, Any]] = {
    Button: {
        "label": "label",
        "type": "type",
        "payload.url": "url",
        "payload.method": "method",
        "payload.payload": "payload",
        "postback_text": "postback_text",
    },
    Buttons: {"text": "text", "buttons": "buttons"},
    Card: {
        "text": "text",
        "title": "title",
        "description": "description",
        "image": "image_url",
        "image_url": "image_url",
        "url": "url",
        "buttons": "buttons",
    },
    Carousel: {"cards": "cards"},
    CarouselCard: {
        "title": "title",
        "description": "description",
        "image": "image_url",
        "image_url": "image_url",
        "default_action": "default_action",
        "buttons": "buttons",
    },
    AccountLinking: {
        "text": "text",
        "url": "url",
        "redirect_url": "redirect_url",
        "params": "params",
    },
    Custom: {"type": "subtype", "content": "content"},
    Location: {
        "name": "name",
        "address": "address",
        "latitude": "latitude",
        "longitude": "longitude",
        "map_url": "map_url",
    },
    ContactPerson: {"name": "name", "value": "value", "type": "kind"},
    Reply: {
        "text": "text",
        "replied_comment_id": "replied_comment_id",
        "replied_comment_message": "replied_comment_message",
        "replied_comment_sender_email": "replied_comment_sender",
    },
    FileAttachment: {
        "url": "url",
        "caption": "caption",
        "file_name": "file_name",
        "size": "size",
        "pages": "pages",
    },
    SystemEvent: {
        "type": "event",
        "subject_email": "subject_id",
        "subject_user_id": "subject_id",
        "subject_username": "subject_name",
        "object_email": "object_ids",
        "object_email_list": "object_ids",
        "object_user_id": "object_ids",
        "object_user_id_list": "object_ids",
        "object_username": "object_names",
        "object_username_list": "object_names",
        "room_name": "room_name",
        "payload": "payload",
        # v2 echoes a custom event's own payload (type add_admin, ...).
        ANY: ("payload",),
    },
    RawPayload: {ANY: ("data",)},
}


@attrs.frozen
class Count:
    """One unread count, so a ``{room_id: count}`` answer can be traced."""

    room_id: str
    unread_count: int


@attrs.frozen
class UserCount:
    """One user's unread count, so a ``{user_id: count}`` answer can be traced."""

    user_id: str
    unread_count: int


TABLES: dict[Dialect, dict[type, Mapping[str, Any]]] = {
    V2: {User: USER_V2, Room: ROOM_V2, Comment: COMMENT_V2, Backup: BACKUP},
    V21: {
        User: USER_V21,
        Room: ROOM_V21,
        Comment: COMMENT_V21,
        Backup: BACKUP,
        WebhookLog: WEBHOOK_LOG,
    },
}
for _tables in TABLES.values():
    _tables.update(PAYLOADS)
    _tables[Count] = {"room_id": "room_id", "unread_count": "unread_count"}
    _tables[UserCount] = {"user_id": "user_id", "unread_count": "unread_count"}

#: (dropped, kept): parse again without *dropped* where *kept* is beside it.
ALIAS_PROBES = (
    ("username", "name"),
    ("user_avatar_url", "user_avatar"),
    ("avatar_url", "avatar"),
)

# ------------------------------------------------------------------- examples


@attrs.frozen
class Example:
    """How one sample is parsed and where its ``results`` keys land.

    Attributes:
        dialect: The dialect whose codec parses it.
        builder: The codec function, by name.
        args: Its arguments (request values the answer may echo).
        results: Table for the ``results`` object, ``""`` naming the parsed
            value itself; ``None`` when the parsed value is the model that
            ``results`` is.
        view: Turns the parsed value into something the tables can read.
    """

    dialect: Dialect
    builder: str
    args: tuple[Any, ...] = ()
    results: Mapping[str, Any] | None = None
    view: Callable[[Any], Any] | None = None


def _counts(found: Mapping[str, int]) -> tuple[Count, ...]:
    return tuple(Count(k, v) for k, v in found.items())


def _user_counts(found: Mapping[str, int]) -> tuple[UserCount, ...]:
    return tuple(UserCount(k, v) for k, v in found.items())


def _room_of(change: Any) -> Any:
    """The room a v2 participant change answers (``ParticipantChange.room``)."""
    return change.room


def _user_rooms(
    dialect: Dialect, key: str, limit: int, *, show_participants: bool
) -> Example:
    args = ("u", 1, limit, None, show_participants, False)
    table = {
        key: "items",
        "meta.current_page": "current_page",
        "meta.total_room": "total",
    }
    return Example(dialect, "list_user_rooms", args, table)


#: A room answer: the room, and whether the call changed it.
ROOM = {"room": "", "changed": "changed"}
#: v2 also bundles the room's newest comments.
V2_ROOM = {**ROOM, "comments": "comments"}
USER = {"user": ""}
COMMENT = {"comment": ""}
HISTORY = {"backup_histories": ""}
HISTORY_ONE = {"backup_history": ""}
TOKEN = {"token": ""}
V2_COMMENT = ("1", "a@example.com", "", "text", None, None, "m1", False)
V21_COMMENT = ("16", "guest@qiscus.com", "", "text", None, None, "m1", False)
V2_EVENT = ("2427", "join_room", "yusuf@kiwari.id", (), None, None, None, None)
V21_EVENT = ("2110", "custom", None, (), None, None, {"type": "add_admin"}, None)

EXAMPLES: dict[str, Example] = {
    "v2/add_room_participants": Example(
        V2, "add_participants", ("16", ["kotak@outlook.com"]), view=_room_of
    ),
    "v2/remove_room_participants": Example(
        V2, "remove_participants", ("16", ["gone@example.com"]), view=_room_of
    ),
    "v2/create_room": Example(V2, "create_room", ("gege", ["a"], "a", None, None)),
    "v2/create_room_later": Example(
        V2, "create_room", ("gege", ["a"], "a", None, None)
    ),
    "v2/get_or_create_room_with_target": Example(
        V2, "get_or_create_room_with_target", (["a", "b"], None), V2_ROOM
    ),
    "v2/get_rooms_info": Example(
        V2, "get_rooms_info", (["13", "14"], [], "a", False), {"rooms_info": ""}
    ),
    "v2/get_user_rooms": _user_rooms(V2, "rooms_info", 20, show_participants=False),
    "v2/get_user_rooms_participants": _user_rooms(
        V2, "rooms_info", 20, show_participants=True
    ),
    "v2/update_room": Example(
        V2, "update_room", ("18", "uwooo", None, None, None, "a"), V2_ROOM
    ),
    "v2/load_comments": Example(
        V2, "list_comments", ("234", 1, 20), {"comments": "items"}
    ),
    "v2/load_comments_early": Example(
        V2, "list_comments", ("234", 1, 20), {"comments": "items"}
    ),
    "v2/post_comment": Example(V2, "post_comment", V2_COMMENT, COMMENT),
    "v2/post_comment_early": Example(V2, "post_comment", V2_COMMENT, COMMENT),
    "v2/post_system_event_message": Example(V2, "post_system_event", V2_EVENT, COMMENT),
    "v2/search_messages": Example(
        V2, "search_messages", ("u", "q", None), {"comments": ""}
    ),
    "v2/login_or_register": Example(
        V2, "login_or_register", ("a", "A", None, None, None, None, None), USER
    ),
    "v2/login_or_register_early": Example(
        V2, "login_or_register", ("a", "A", None, None, None, None, None), USER
    ),
    "v2/user_profile": Example(V2, "get_user", ("a",), USER),
    "v2/reset_user_token": Example(V2, "reset_user_token", ("a",), USER),
    "v21/add_room_participants": Example(
        V21, "add_participants", ("16", ["u"]), {"participants_added": ""}
    ),
    "v21/remove_room_participants": Example(
        V21, "remove_participants", ("16", ["u"]), {"participants_removed": ""}
    ),
    "v21/create_room": Example(
        V21, "create_room", ("Group Room", ["a"], "a", None, None), ROOM
    ),
    "v21/get_or_create_room_with_target": Example(
        V21, "get_or_create_room_with_target", (["a", "b"], None), ROOM
    ),
    "v21/get_or_create_channel": Example(
        V21, "get_or_create_channel", ("test123", ["a"], None, None, None), ROOM
    ),
    "v21/update_room": Example(
        V21, "update_room", ("16", None, None, None, None, None), ROOM
    ),
    "v21/get_rooms_info": Example(
        V21, "get_rooms_info", (["16", "17"], [], None, False), {"rooms": ""}
    ),
    "v21/get_room_participants": Example(
        V21, "list_participants", ("16", 1, 100, None), {"participants": "items"}
    ),
    "v21/get_user_rooms": _user_rooms(V21, "rooms", 100, show_participants=False),
    "v21/get_unread_count": Example(
        V21, "get_unread_counts", ("u", ["16"]), {"unread_counts": ""}, _counts
    ),
    "v21/get_user_list": Example(
        V21,
        "list_users",
        (1, 100, None),
        {
            "users": "items",
            "meta.total_data": "total",
            "meta.total_page": "total_pages",
        },
    ),
    "v21/load_comments": Example(
        V21, "list_comments", ("16", 1, 20), {"comments": "items"}
    ),
    "v21/post_system_event_message": Example(
        V21, "post_system_event", V21_EVENT, COMMENT
    ),
    "v21/login_or_register": Example(
        V21, "login_or_register", ("a", "A", None, None, None, None, None), USER
    ),
    "v21/user_profile": Example(V21, "get_user", ("a",), USER),
    "v21/get_user_token": Example(V21, "get_user_token", ("a",), TOKEN),
    "v21/reset_user_token": Example(
        V21, "reset_user_token", ("a",), {"token": "token"}
    ),
    "v21/load_comments_with_range": Example(
        V21, "load_comments_with_range", ("2110", 1204, 1205), {"comments": ""}
    ),
    "v21/get_unread_users": Example(
        V21, "list_unread_users", (1, 100, None, None), {"user_ids": "items"}
    ),
    "v21/get_user_unread_count": Example(
        V21,
        "get_user_unread_counts",
        (["user1@qiscus.com", "user2@qiscus.com"], None, None),
        {"user_unread_count": ""},
        _user_counts,
    ),
    "v21/get_average_reply_time_user": Example(
        V21,
        "get_average_reply_time",
        ("alice", None, None),
        {
            "data.user_id": "user_id",
            "data.duration.average": "average",
            "data.duration.longest": "longest",
            "data.duration.shortest": "shortest",
            "start_time": "since",
            "end_time": "until",
        },
    ),
    "v21/webhook_logs": Example(
        V21, "list_webhook_logs", (1, 100, "all"), {"webhook_logs": "items"}
    ),
    "v21/deactivate_users": Example(
        V21, "deactivate_users", (["alice", "bob"],), {"message": ""}
    ),
    "v21/reactivate_users": Example(
        V21, "reactivate_users", (["alice", "bob"],), {"message": ""}
    ),
}
for _kind in ("buttons", "card", "carousel", "custom", "file_attachment", "text"):
    EXAMPLES[f"v21/post_comment_{_kind}"] = Example(
        V21, "post_comment", V21_COMMENT, COMMENT
    )
EXPORT = ("comments", date(2017, 7, 1), date(2017, 7, 17))
IMPORT = ("comments", b"[]", "comments.json")
BACKUP_ID = ("c44c4168-0b45-4ac2-8942-a4f1af987a13",)
for _prefix, _dialect in (("v2", V2), ("v21", V21)):
    EXAMPLES |= {
        f"{_prefix}/create_export": Example(_dialect, "create_export", EXPORT),
        f"{_prefix}/create_import": Example(
            _dialect, "create_import", IMPORT, HISTORY_ONE
        ),
        f"{_prefix}/get_export": Example(
            _dialect, "get_export", BACKUP_ID, HISTORY_ONE
        ),
        f"{_prefix}/list_exports": Example(_dialect, "list_exports", (1,), HISTORY),
        f"{_prefix}/list_imports": Example(_dialect, "list_imports", (1,), HISTORY),
    }
EXAMPLES["v2/delete_export"] = Example(V2, "delete_export", BACKUP_ID, HISTORY_ONE)
#: Go SDK samples parse like their documented twins.
for _path in sorted((SAMPLES / "v21" / "gosdk").glob("*.json")):
    _twin = {"post_comment": "post_comment_text"}.get(_path.stem, _path.stem)
    EXAMPLES[f"v21/gosdk/{_path.stem}"] = EXAMPLES[f"v21/{_twin}"]

#: Samples that follow a Go SDK response struct exactly.
GO_SAMPLES = {
    *(f"v21/gosdk/{p.stem}" for p in (SAMPLES / "v21" / "gosdk").glob("*.json")),
    "v21/get_average_reply_time_user",
    "v21/webhook_logs",
    "v21/deactivate_users",
    "v21/reactivate_users",
}


def _payload_type(stem: str) -> str:
    if stem.startswith("system_"):
        return "system_event"
    return "card" if stem == "card_request" else stem


# ------------------------------------------------------------------- tracing


@attrs.define
class Report:
    """What one example lost, and notes on redundant copies."""

    name: str
    parse: str
    fields: int = 0
    lost: list[str] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)


class Unresolved(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The model has no attribute at a table's target."""


def resolve(model: Any, target: str) -> Any:
    """The value at the dotted attribute path *target* ("" is the model)."""
    for part in filter(None, target.split(".")):
        if not attrs.has(type(model)) or not hasattr(model, part):
            raise Unresolved(part)
        model = getattr(model, part)
    return model


def _empty(value: Any) -> bool:
    if isinstance(value, str):
        return value in ("", "{}") or value.startswith("0001-01-01")
    return value is None or (isinstance(value, (list, tuple, dict)) and not value)


def _same_time(wire: Any, attr: datetime) -> bool:
    if isinstance(wire, str):
        try:
            parsed = datetime.fromisoformat(wire)
        except ValueError:
            return False
        # "YYYY-MM-DD hh:mm:ss" (get_average_reply_time_user) names no zone.
        return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed) == attr
    if isinstance(wire, int) and not isinstance(wire, bool):
        return attr.timestamp() == wire
    return False


def _same_mapping(wire: Any, attr: Mapping[str, Any]) -> bool:
    if isinstance(wire, str):
        try:
            wire = json.loads(wire)
        except ValueError:
            return False
    return isinstance(wire, dict) and dict(attr) == wire


def _same_sequence(wire: Any, attr: tuple[Any, ...] | list[Any]) -> bool:
    if not isinstance(wire, list):
        return len(attr) == 1 and same(wire, attr[0])
    return len(wire) == len(attr) and all(map(same, wire, attr))


def same(wire: Any, attr: Any) -> bool:
    """Whether the model value *attr* holds the wire value *wire*."""
    if _empty(wire) and _empty(attr):
        return True
    checks: list[tuple[type | tuple[type, ...], Callable[[Any, Any], bool]]] = [
        (enum.Enum, lambda w, a: a.value == w),
        (datetime, _same_time),
        (timedelta, lambda w, a: _number(w) and a.total_seconds() == w),
        (Mapping, _same_mapping),
        ((tuple, list), _same_sequence),
        (str, lambda w, a: isinstance(w, int) and str(w) == a),
    ]
    if attr == wire and type(attr) is type(wire):
        return True
    for kind, check in checks:
        if isinstance(attr, kind):
            return check(wire, attr)
    if attrs.has(type(attr)) and not isinstance(wire, dict):
        # v2 lists bare emails where a user object would be.
        return same(wire, getattr(attr, "id", None))
    return attr == wire and isinstance(wire, bool) == isinstance(attr, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def leaves(tree: Any, path: str = "") -> Iterator[str]:
    """Every leaf path of a JSON tree, list indices collapsed to ``[]``."""
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            yield from leaves(value, f"{path}.{key}" if path else key)
    elif isinstance(tree, list) and tree:
        for item in tree:
            yield from leaves(item, f"{path}[]")
    else:
        yield path


class Tracer:
    """Traces one parsed example; collects lost keys and notes."""

    def __init__(self, dialect: Dialect) -> None:
        self.tables = TABLES[dialect]
        self.lost: dict[str, str] = {}
        self.notes: list[str] = []

    def trace(
        self,
        wire: Mapping[str, Any],
        model: Any,
        table: Mapping[str, Any],
        where: str = "",
        prefix: str = "",
    ) -> dict[str, bool]:
        """Trace every key of *wire*; return which keys reached *model*."""
        reached: dict[str, bool] = {}
        for key, value in wire.items():
            name, here = prefix + key, where + key
            target = table.get(name)
            nested = any(k.startswith(f"{name}.") for k in table)
            if target is None and nested and isinstance(value, dict):
                inner = self.trace(value, model, table, f"{here}.", f"{name}.")
                reached[key] = all(inner.values())
                continue
            if isinstance(target, Dup):
                continue  # judged once its twin is known, below
            if isinstance(target, Echo):
                reached[key] = self._leaf(here, value, target.value)
            elif target is None:
                reached[key] = self._caught(here, key, value, model, table)
            else:
                reached[key] = self._land(here, key, value, model, table, target)
        for key, value in wire.items():
            target = table.get(prefix + key)
            if isinstance(target, Dup):
                twin = table[prefix + target.twin] if target.twin in wire else None
                reached[key] = self._dup(where + key, value, target, twin, model)
                if reached[key] and not reached[target.twin]:
                    reached[key] = self._lose(where + key, f"copy of {target.twin}")
        return reached

    def _dup(
        self, here: str, value: Any, target: Dup, twin: str | None, model: Any
    ) -> bool:
        if twin is None:
            return self._lose(here, f"copy of {target.twin}, which is absent")
        kept = resolve(model, twin)
        if not same(value, kept) and not _empty(value):
            self.notes.append(f"{here} = {value!r} differs from {target.twin}")
        return True

    def _caught(
        self,
        here: str,
        key: str,
        value: Any,
        model: Any,
        table: Mapping[str, Any],
        why: str = "",
    ) -> bool:
        for catch in table.get(ANY, ()):
            found = resolve(model, catch)
            if isinstance(found, Mapping) and key in found and same(value, found[key]):
                return True
        if isinstance(value, dict) and value and not why:
            for leaf in set(leaves(value, here)):
                self._lose(leaf, "")
            return False
        if isinstance(value, list) and value and not why:
            return self._lose(here, f"{len(value)} items")
        return self._lose(here, why)

    def _land(
        self,
        here: str,
        key: str,
        value: Any,
        model: Any,
        table: Mapping[str, Any],
        target: str,
    ) -> bool:
        try:
            attr = resolve(model, target)
        except Unresolved as exc:
            return self._lose(here, f"no model attribute {exc}")
        sub = self.tables.get(type(attr))
        if sub is not None and isinstance(value, dict):
            return all(self.trace(value, attr, sub, f"{here}.").values())
        if isinstance(value, list) and isinstance(attr, (tuple, list)):
            return self._list(here, value, attr)
        if same(value, attr):
            return True
        why = f"{value!r:.40} became {attr!r:.40}"
        return self._caught(here, key, value, model, table, why)

    def _list(
        self, here: str, wire: list[Any], found: tuple[Any, ...] | list[Any]
    ) -> bool:
        if len(wire) != len(found):
            return self._lose(here, f"{len(wire)} in, {len(found)} out")
        ok = True
        for item, attr in zip(wire, found, strict=True):
            sub = self.tables.get(type(attr))
            if sub is not None and isinstance(item, dict):
                ok = all(self.trace(item, attr, sub, f"{here}[].").values()) and ok
            elif not same(item, attr):
                ok = self._lose(f"{here}[]", f"{item!r:.40} became {attr!r:.40}")
        return ok

    def _leaf(self, here: str, value: Any, attr: Any) -> bool:
        return same(value, attr) or self._lose(here, f"{value!r:.40} != {attr!r:.40}")

    def _lose(self, here: str, why: str) -> bool:
        self.lost.setdefault(here, why)
        return False


# ------------------------------------------------------------------- running


class NoBuilder(Exception):  # noqa: N818 - a reason to report, not a crash
    """The codec has no builder of that name yet."""


def _parse(example: Example, results: Any) -> Any:
    codec = CODECS[example.dialect]
    build = getattr(codec, example.builder, None) or getattr(
        codec.BACKUPS, example.builder, None
    )
    if build is None:
        raise NoBuilder(example.builder)
    parsed = build(*example.args).parse(results)
    return example.view(parsed) if example.view else parsed


def _check(example: Example, results: Any, checked: Any) -> Tracer:
    tracer = Tracer(example.dialect)
    parsed = _parse(example, results)
    table = example.results
    if table is None:
        table = TABLES[example.dialect][type(parsed)]
    tracer.trace(checked, parsed, table)
    return tracer


def _without(tree: Any, dropped: str, kept: str) -> Any:
    if isinstance(tree, list):
        return [_without(item, dropped, kept) for item in tree]
    if not isinstance(tree, dict):
        return tree
    return {
        k: _without(v, dropped, kept)
        for k, v in tree.items()
        if not (k == dropped and kept in tree)
    }


def _has_pair(tree: Any, dropped: str, kept: str) -> bool:
    if isinstance(tree, list):
        return any(_has_pair(item, dropped, kept) for item in tree)
    if not isinstance(tree, dict):
        return False
    if dropped in tree and kept in tree:
        return True
    return any(_has_pair(v, dropped, kept) for v in tree.values())


def run(name: str, example: Example) -> Report:
    """Parse one sample and trace its fields."""
    data = json.loads((SAMPLES / f"{name}.json").read_text())
    if name.startswith("v2/payloads/"):
        kind = _payload_type(name.rsplit("/", 1)[1])
        # A payload sample is wrapped in the least comment v2 answers: its
        # text, type and author.
        comment = {"message": "", "type": kind, "payload": data, "email": "a@x.io"}
        results = {"comment": comment}
        checked = {"comment": {"payload": data}}
    else:
        results = checked = data["results"]
    report = Report(name, f"{example.dialect} {example.builder}")
    report.fields = len(set(leaves(checked)))
    try:
        tracer = _check(example, results, checked)
    except NoBuilder as exc:
        report.lost = [f"{p}  (no codec builder {exc})" for p in sorted(checked)]
        return report
    except Exception as exc:  # noqa: BLE001 - a failed parse is a finding
        report.lost = [f"*  (parse failed: {type(exc).__name__}: {exc})"]
        return report
    lost = dict(tracer.lost)
    for dropped, kept in ALIAS_PROBES:
        if not _has_pair(checked, dropped, kept):
            continue
        try:
            probe = _check(
                example,
                _without(results, dropped, kept),
                _without(checked, dropped, kept),
            ).lost
        except Exception as exc:  # noqa: BLE001 - a failed parse is a finding
            probe = {"*": f"parse failed: {type(exc).__name__}: {exc}"}
        for path, why in probe.items():
            if path not in lost:
                lost[path] = f"when {dropped} is absent" + (f"; {why}" if why else "")
    report.lost = [f"{p}  ({why})" if why else p for p, why in sorted(lost.items())]
    report.notes = tracer.notes
    return report


def _conforms(data: Any, tree: Any, path: str) -> Iterator[str]:
    """Where *data* departs from a Go struct tree recorded in gosdk.json."""
    if isinstance(tree, dict):
        if not isinstance(data, dict):
            yield f"{path}: expected an object"
        elif tree:  # an empty Go struct{} reads nothing inside: anything goes
            yield from (f"{path}.{k}: not in the struct" for k in data if k not in tree)
            yield from (f"{path}.{k}: missing" for k in tree if k not in data)
            for key in tree.keys() & data.keys():
                yield from _conforms(data[key], tree[key], f"{path}.{key}")
    elif isinstance(tree, list):
        if not isinstance(data, list) or not data:
            yield f"{path}: expected a non-empty list"
        else:
            for item in data:
                yield from _conforms(item, tree[0], f"{path}[]")
    elif not _go_scalar(data, tree):
        yield f"{path}: {data!r:.40} is not a Go {tree}"


def _go_scalar(value: Any, go_type: str) -> bool:
    kinds: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "time.Time": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "[]interface{}": lambda v: isinstance(v, list),
        "interface{}": lambda v: True,  # noqa: ARG005 - any JSON value
    }
    return kinds[go_type](value)


def go_problems(names: set[str]) -> list[str]:
    """Departures of the Go-derived samples from the SDK's structs."""
    record = json.loads((HERE / "gosdk.json").read_text())
    structs = {
        call["path"].rsplit("/", 1)[1]: record["responses"][call["response"]]
        for call in record["calls"]
    }
    problems = []
    for name in sorted(names):
        tree = structs.get(name.rsplit("/", 1)[1])
        if tree is None:
            problems.append(f"{name}: no Go SDK call answers it")
            continue
        data = json.loads((SAMPLES / f"{name}.json").read_text())
        problems += [f"{name}: {p.lstrip('.')}" for p in _conforms(data, tree, "")]
    return problems


def samples() -> list[str]:
    """Every response sample of both dialects, as ``dir/name``."""
    found = []
    for folder in ("v2", "v2/payloads", "v21", "v21/gosdk"):
        found += [
            f"{folder}/{p.stem}" for p in sorted((SAMPLES / folder).glob("*.json"))
        ]
    return found


def _example(name: str) -> Example | None:
    if name.startswith("v2/payloads/"):
        return Example(V2, "post_comment", V2_COMMENT, {"comment": ""})
    return EXAMPLES.get(name)


def main() -> int:
    """Check every sample; print a table and a summary; return the exit status."""
    out = sys.stdout.write
    names = samples()
    unknown = [n for n in names if _example(n) is None]
    problems = go_problems(GO_SAMPLES) + [f"{n}: no parse path" for n in unknown]
    if problems:
        out("".join(f"error: {p}\n" for p in problems))
        return 2
    reports = [run(n, e) for n in names if (e := _example(n)) is not None]
    width = max(len(r.name) for r in reports)
    out(f"{'example':<{width}}  {'parsed by':<38} fields  lost\n")
    for r in reports:
        out(f"{r.name:<{width}}  {r.parse:<38} {r.fields:>6}  {len(r.lost):>4}\n")
        out("".join(f"    - {field}\n" for field in r.lost))
        out("".join(f"    ~ {note}\n" for note in r.notes))
    exact = sum(not r.lost for r in reports)
    out(
        f"{len(reports)} examples: {exact} exact, "
        f"{len(reports) - exact} with lost fields\n"
    )
    return 1 if exact < len(reports) else 0


if __name__ == "__main__":
    sys.exit(main())
