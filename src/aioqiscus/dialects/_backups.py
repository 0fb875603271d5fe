"""Exports and imports: the same in both dialects but for the path prefix.

:class:`Backups` holds the six backup builders under one prefix; each dialect
module builds one (``BACKUPS``) and merges its routes into ``ROUTES``. See
"Data Backup and Import" in ``qiscus-rest-v2.md`` and
``v2.1/data-backup-and-import.md``. Pure, like the dialects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from .._envelope import items, loads, structure
from .._wire import Call, Operation, RequestSpec, Route
from ..errors import ResponseShapeError
from ..models import (
    Backup,
    ExportedComment,
    ExportedRoom,
    ExportedUser,
    ExportRecord,
)
from . import _common as c
from ._payloads import from_wire


@functools.cache
def _converter() -> Callable[[Any, Any], Backup]:
    """The backup object's structuring function, built on first use."""
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415

    conv = c.base_converter()
    return make_dict_structure_fn(
        Backup,
        conv,
        id=override(rename="unique_id", struct_hook=c.identifier),
        resource=override(rename="resource_name"),
        percentage=override(struct_hook=_count),
        total_rows=override(struct_hook=_count),
        size=override(struct_hook=_count),
        filename=override(rename="original_filename"),
    )


def _count(value: Any, _: Any = None) -> int:
    return c.optional_int(value) or 0


def parse_backup(data: Any) -> Backup:
    """One backup history object."""
    backup = _converter()
    return structure(lambda d: backup(d, Backup), data, "backup")


def _one(results: Any) -> Backup:
    # create_export answers the backup itself as results; the others nest it.
    if isinstance(results, dict) and "backup_history" in results:
        return parse_backup(results["backup_history"])
    return parse_backup(results)


def _many(results: Any) -> list[Backup]:
    found = c.listed(results, "backup_histories")
    return [parse_backup(b) for b in found]


class Backups:
    """The backup builders of one dialect, under its path *prefix*.

    Attributes:
        routes: Verb and path of each backup operation.
    """

    def __init__(self, prefix: str) -> None:
        self.routes: Mapping[Operation, Route] = {
            Operation.CREATE_EXPORT: Route("POST", f"{prefix}/exports"),
            Operation.LIST_EXPORTS: Route("GET", f"{prefix}/exports"),
            Operation.GET_EXPORT: Route("GET", f"{prefix}/exports/{{id}}"),
            Operation.DELETE_EXPORT: Route("DELETE", f"{prefix}/exports/{{id}}"),
            Operation.CREATE_IMPORT: Route("POST", f"{prefix}/imports"),
            Operation.LIST_IMPORTS: Route("GET", f"{prefix}/imports"),
        }

    def _spec(
        self, op: Operation, *, backup_id: str | None = None, **kwargs: Any
    ) -> RequestSpec:
        route = self.routes[op]
        path = route.path
        if backup_id is not None:
            path = path.format(id=quote(backup_id, safe=""))
        return RequestSpec(route.method, path, **kwargs)

    def create_export(self, resource: str, start: date, end: date) -> Call[Backup]:
        """``POST exports`` with ``type``, ``start_date`` and ``end_date``."""
        body = {
            "type": resource,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }
        op = Operation.CREATE_EXPORT
        return Call(op, self._spec(op, json=body, idempotent=False), _one)

    def list_exports(self, page: int) -> Call[list[Backup]]:
        """``GET exports?page=`` (20 per page)."""
        op = Operation.LIST_EXPORTS
        return Call(op, self._spec(op, query=(("page", str(page)),)), _many)

    def get_export(self, backup_id: str) -> Call[Backup]:
        """``GET exports/:backup_unique_id``."""
        op = Operation.GET_EXPORT
        return Call(op, self._spec(op, backup_id=backup_id), _one)

    def delete_export(self, backup_id: str) -> Call[Backup]:
        """``DELETE exports/:backup_unique_id``."""
        op = Operation.DELETE_EXPORT
        return Call(op, self._spec(op, backup_id=backup_id), _one)

    def create_import(self, resource: str, data: bytes, filename: str) -> Call[Backup]:
        """``POST imports``: multipart ``type`` and a JSON ``file``."""
        op = Operation.CREATE_IMPORT
        spec = self._spec(
            op,
            form={"type": resource},
            files={"file": (filename, data, "application/json")},
            idempotent=False,
        )
        return Call(op, spec, _one)

    def list_imports(self, page: int) -> Call[list[Backup]]:
        """``GET imports?page=``."""
        op = Operation.LIST_IMPORTS
        return Call(op, self._spec(op, query=(("page", str(page)),)), _many)


# ---------------------------------------------------------------- export files
#
# The documents never show an export file. They say to "export first" to
# check what an import would clash with, so its rows are read in the import
# format (the fake serves that; docs/testing.md): users ``Email``, ``Name``,
# ``AvatarUrl``, ``CreateAt`` (the document's spelling; ``CreatedAt`` too),
# rooms and comments as their import rows.


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        msg = f"{key} must be a string"
        raise TypeError(msg)
    return value


def _options(row: Mapping[str, Any]) -> str:
    """A room's ``Options``: the string as given; an object as its JSON."""
    value = row.get("Options")
    if isinstance(value, dict):
        return c.options_string(value) or ""
    return _text(row, "Options")


def _exported_user(row: Mapping[str, Any]) -> ExportedUser:
    return ExportedUser(
        c.strict_str(row["Email"]),
        _text(row, "Name"),
        _text(row, "AvatarUrl"),
        c.timestamp(row.get("CreateAt", row.get("CreatedAt"))),
    )


def _exported_room(row: Mapping[str, Any]) -> ExportedRoom:
    return ExportedRoom(
        c.identifier(row["UniqueId"]),
        _text(row, "Name"),
        _text(row, "Type") or "group",
        _text(row, "CreatorEmail"),
        tuple(c.strict_str(p) for p in row.get("ParticipantEmails") or ()),
        _options(row),
        _text(row, "AvatarUrl"),
        c.timestamp(row.get("CreatedAt")),
    )


def _exported_comment(row: Mapping[str, Any]) -> ExportedComment:
    kind = _text(row, "Type") or "text"
    return ExportedComment(
        c.identifier(row["UniqueId"]),
        c.identifier(row["RoomUniqueId"]),
        c.strict_str(row["CreatorEmail"]),
        _text(row, "Message"),
        kind,
        from_wire(kind, row.get("Payload")),
        _text(row, "ParentCommentUniqueId"),
        bool(row.get("DisableLinkPreview")),
        c.timestamp(row.get("CreatedAt")),
    )


_EXPORTED: Mapping[str, Callable[[Mapping[str, Any]], ExportRecord]] = {
    "users": _exported_user,
    "rooms": _exported_room,
    "comments": _exported_comment,
}


def parse_export(resource: str, data: bytes) -> list[ExportRecord]:
    """The rows of an export file of *resource* (a JSON array of objects).

    Raises:
        ResponseShapeError: The file is not JSON, not an array of objects,
            or a row lacks a field its kind needs (``Email``, ``UniqueId``,
            ...), naming the row.
    """
    read = _EXPORTED.get(resource)
    if read is None:
        msg = f"cannot read an export of {resource!r}: not users, rooms or comments"
        raise ResponseShapeError(msg)
    rows = items(structure(loads, data, f"{resource} export file"), "export file")
    return [
        structure(read, row, f"{resource} export row {i}") for i, row in enumerate(rows)
    ]
