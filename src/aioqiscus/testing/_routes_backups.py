"""Data backup and import endpoints of the fake server, and their table.

Strictly private. Both dialects serve the same ``exports`` and ``imports``
endpoints (qiscus-rest-v2.md, Data Backup and Import; the same in v2.1).
An export reveals the store's ``export_steps`` one poll at a time. An import
is a multipart JSON file applied all-or-nothing: answered ``failed`` with its
problems at once, or else reveals the store's ``import_steps`` one listing at
a time (no endpoint reads one import). :data:`ROUTES` at the bottom maps
(method, endpoint) to its handler.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from . import _rules as rules
from . import _shapes as shapes
from ._http import Reply, Request, invalid, json_or_400
from ._store import BackupRecord, Store, now

#: The documented import file limit (4 MB).
IMPORT_LIMIT = 4 * 1024 * 1024
_RESOURCES = ("users", "rooms", "comments")


def _base(req: Request) -> str:
    """Where finished exports are downloaded from."""
    return f"https://{req.app_id}.fake.qiscus.invalid/backups"


def _history(req: Request, record: BackupRecord) -> Reply:
    return 200, shapes.envelope({"backup_history": shapes.backup(record, _base(req))})


def _resource(req: Request) -> str:
    resource = req.required("type")
    if resource not in _RESOURCES:
        raise invalid("type must be users, rooms or comments")
    return resource


def _page(store: Store, req: Request, kind: str) -> list[BackupRecord]:
    """The jobs of *kind* on the requested page: newest first, 20 a page."""
    found = [b for b in store.backups.values() if b.kind == kind][::-1]
    return rules.page(found, req.number("page", 1), 20)


def _list(req: Request, chunk: list[BackupRecord]) -> Reply:
    base = _base(req)
    return 200, shapes.envelope(
        {"backup_histories": [shapes.backup(b, base) for b in chunk]}
    )


# ---------------------------------------------------------------- exports


def create_export(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Create or Request Backup (between two dates)."""
    resource = _resource(req)
    dates = []
    for key in ("start_date", "end_date"):
        try:
            dates.append(date.fromisoformat(req.required(key)))
        except ValueError:
            raise invalid(f"{key} must use the format YYYY-MM-DD") from None
    if dates[0] > dates[1]:
        raise invalid("start_date must not be after end_date")
    created = now()
    rows = _rows(store, resource)
    record = BackupRecord(
        str(uuid.uuid4()),
        resource,
        f"{created}_exported_{resource}.json",
        "export",
        list(store.export_steps),
        created_at=created,
        total_rows=len(rows),
        size=len(json.dumps(rows)),
        error="export failed on the server",
    )
    store.backups[record.unique_id] = record
    return 200, shapes.envelope(shapes.backup(record, _base(req)))


def list_exports(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get List of Backup: newest first, 20 a page."""
    return _list(req, _page(store, req, "export"))


def get_export(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get Backup By Id: each poll reveals the next step."""
    record = store.backup_or_404(req.required(":id"), "export")
    reply = _history(req, record)
    record.polls += 1
    return reply


def delete_export(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Delete Backup By Id: answers it as it was."""
    record = store.backup_or_404(req.required(":id"), "export")
    del store.backups[record.unique_id]
    return _history(req, record)


def _rows(store: Store, resource: str) -> list[Any]:
    if resource == "users":
        return [u.identifier for u in store.users.values()]
    if resource == "rooms":
        return [r.id for r in store.rooms.values()]
    return [c.id for r in store.rooms.values() for c in r.comments]


# ---------------------------------------------------------------- data imports


def create_import(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Make an Import: a JSON array in a multipart ``file``."""
    resource = _resource(req)
    upload = req.raw("file")
    if not isinstance(upload, tuple):
        raise invalid("file is required")
    filename, content = upload
    if len(content) > IMPORT_LIMIT:
        raise invalid("file is larger than 4 MB")
    rows = json_or_400(content, "file must be a JSON array")
    if not isinstance(rows, list):
        raise invalid("file must be a JSON array")
    errors = _apply_import(store, resource, rows)
    record = BackupRecord(
        str(uuid.uuid4()),
        resource,
        filename or f"{resource}.json",
        "import",
        [("failed", 100)] if errors else list(store.import_steps),
        total_rows=0 if errors else len(rows),
        size=len(content),
        import_errors={"Message": "; ".join(errors), "Data": errors} if errors else {},
    )
    store.backups[record.unique_id] = record
    return _history(req, record)


def list_imports(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get Imported List: newest first, 20 a page.

    Listing is the only way to read an import, so each listing advances the
    imports it shows to their next step.
    """
    chunk = _page(store, req, "import")
    reply = _list(req, chunk)
    for record in chunk:
        record.polls += 1
    return reply


def _import_users(store: Store, rows: list[dict[str, Any]]) -> list[str]:
    problems = [
        f"row {i}: Email missing or already exists"
        for i, row in enumerate(rows)
        if not row.get("Email") or row["Email"] in store.users
    ]
    if not problems:
        for row in rows:
            store.upsert_user(
                row["Email"],
                row.get("Name") or row["Email"],
                avatar_url=row.get("AvatarUrl") or "",
            )
    return problems


def _import_rooms(store: Store, rows: list[dict[str, Any]]) -> list[str]:
    problems = []
    for i, row in enumerate(rows):
        people = [row.get("CreatorEmail"), *(row.get("ParticipantEmails") or [])]
        if any(p not in store.users for p in people):
            problems.append(f"row {i}: CreatorEmail or a participant is unknown")
        if row.get("UniqueId") in store.imported_rooms:
            problems.append(f"row {i}: UniqueId already exists")
    if not problems:
        for row in rows:
            room = store.create_room(
                row.get("Name") or "",
                row.get("Type") or "group",
                row["CreatorEmail"],
                list(row.get("ParticipantEmails") or []),
                avatar_url=row.get("AvatarUrl") or "",
                options=row.get("Options") or "",
            )
            store.imported_rooms[row["UniqueId"]] = room.id
    return problems


def _import_comments(store: Store, rows: list[dict[str, Any]]) -> list[str]:
    problems = []
    for i, row in enumerate(rows):
        if row.get("RoomUniqueId") not in store.imported_rooms:
            problems.append(f"row {i}: RoomUniqueId is unknown")
        if row.get("CreatorEmail") not in store.users:
            problems.append(f"row {i}: CreatorEmail is unknown")
    if not problems:
        for row in rows:
            room = store.rooms[store.imported_rooms[row["RoomUniqueId"]]]
            store.add_comment(
                room,
                row["CreatorEmail"],
                row.get("Message") or "",
                type=row.get("Type") or "text",
                payload=row.get("Payload"),
                unique_temp_id=row.get("UniqueId") or "",
            )
    return problems


_IMPORTERS = {
    "users": _import_users,
    "rooms": _import_rooms,
    "comments": _import_comments,
}


def _apply_import(store: Store, resource: str, rows: list[Any]) -> list[str]:
    """Apply an import all-or-nothing; returns the problems found."""
    if not all(isinstance(r, dict) for r in rows):
        return ["every row must be an object"]
    return _IMPORTERS[resource](store, rows)


ROUTES: rules.Routes = {
    ("POST", "exports"): create_export,
    ("GET", "exports"): list_exports,
    ("GET", "exports/:id"): get_export,
    ("DELETE", "exports/:id"): delete_export,
    ("POST", "imports"): create_import,
    ("GET", "imports"): list_imports,
}
