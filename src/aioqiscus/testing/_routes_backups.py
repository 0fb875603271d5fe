"""Data backup and import endpoints of the fake server, and their table.

Strictly private. Both dialects serve the same ``exports`` and ``imports``
endpoints (qiscus-rest-v2.md, Data Backup and Import; the same in v2.1).
An export reveals the store's ``export_steps`` one poll at a time. An import
is a multipart JSON file applied all-or-nothing: answered ``failed`` with its
problems at once, or else reveals the store's ``import_steps`` one listing at
a time (no endpoint reads one import). Each handler registers its (method,
endpoint) in :data:`ROUTES` where it is defined.

An export takes a snapshot of the rows created between its start and end
dates, as a JSON array in the import format (the documents say to "export
first" to see what is there, so the two formats meet), and serves it,
unauthenticated like the CDN links of the documents, from
``/download/<unique id>/<file name>`` on the host the export was requested
from, once finished: :func:`download`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from . import _rules as rules
from . import _shapes as shapes
from ._http import HTML_404, JSON, Reply, Request, invalid, json_or_400
from ._store import BackupRecord, CommentRecord, RoomRecord, Store, UserRecord, now

#: (method, endpoint) -> handler, filled by ``@ROUTES.on`` below.
ROUTES = rules.Table()

#: The documented import file limit (4 MB).
IMPORT_LIMIT = 4 * 1024 * 1024
_RESOURCES = ("users", "rooms", "comments")
#: The path finished exports are downloaded from, and its journal endpoint.
DOWNLOAD_PREFIX = "/download/"
DOWNLOAD = "download"


def _base(req: Request, record: BackupRecord) -> str:
    """Where *record* is downloaded from once finished: the server asked.

    The unique id in the path keeps exports with equal file names apart.
    """
    return f"{req.origin}{DOWNLOAD_PREFIX}{record.unique_id}"


def _history(req: Request, record: BackupRecord) -> Reply:
    return 200, shapes.envelope(
        {"backup_history": shapes.backup(record, _base(req, record))}
    )


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
    return 200, shapes.envelope(
        {"backup_histories": [shapes.backup(b, _base(req, b)) for b in chunk]}
    )


# ---------------------------------------------------------------- exports


@ROUTES.on("POST", "exports")
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
    rows = _EXPORTERS[resource](store, dates[0], dates[1])
    content = json.dumps(rows, ensure_ascii=False).encode()
    record = BackupRecord(
        str(uuid.uuid4()),
        resource,
        f"{created}_exported_{resource}.json",
        "export",
        list(store.export_steps),
        created_at=created,
        total_rows=len(rows),
        size=len(content),
        error="export failed on the server",
        content=content,
    )
    store.backups[record.unique_id] = record
    return 200, shapes.envelope(shapes.backup(record, _base(req, record)))


@ROUTES.on("GET", "exports")
def list_exports(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get List of Backup: newest first, 20 a page."""
    return _list(req, _page(store, req, "export"))


@ROUTES.on("GET", "exports/:id")
def get_export(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Get Backup By Id: each poll reveals the next step."""
    record = store.backup_or_404(req.required(":id"), "export")
    reply = _history(req, record)
    record.polls += 1
    return reply


@ROUTES.on("DELETE", "exports/:id")
def delete_export(store: Store, req: Request) -> Reply:
    """qiscus-rest-v2.md, Delete Backup By Id: answers it as it was."""
    record = store.backup_or_404(req.required(":id"), "export")
    del store.backups[record.unique_id]
    return _history(req, record)


def download(store: Store, path: str) -> tuple[int, bytes, str]:
    """A finished export's file, by its URL path; a plain 404 otherwise."""
    unique_id, _, _ = path.removeprefix(DOWNLOAD_PREFIX).partition("/")
    record = store.backups.get(unique_id)
    if (
        record is None
        or record.kind != "export"
        or record.state[0] != "finished"
        or path != f"{DOWNLOAD_PREFIX}{unique_id}/{record.filename}"
    ):
        return 404, HTML_404, "text/html"
    return 200, record.content, JSON


def _day(stamp: str) -> date | None:
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC).date()
    except ValueError:
        return None


def _within(stamp: str, start: date, end: date) -> bool:
    """Whether the server time *stamp* falls on a day from *start* to *end*."""
    day = _day(stamp)
    return day is not None and start <= day <= end


def _export_users(store: Store, start: date, end: date) -> list[dict[str, Any]]:
    """Users created in the range (the document's ``CreateAt`` spelling)."""
    found: list[UserRecord] = [
        u for u in store.users.values() if _within(u.created_at, start, end)
    ]
    return [
        {
            "Email": u.identifier,
            "Name": u.name,
            "AvatarUrl": u.avatar_url,
            "CreateAt": u.created_at,
        }
        for u in found
    ]


def _room_unique_id(store: Store, room: RoomRecord) -> str:
    """The import ``UniqueId`` a room came with, else its id."""
    for unique_id, room_id in store.imported_rooms.items():
        if room_id == room.id:
            return unique_id
    return str(room.id)


def _export_rooms(store: Store, start: date, end: date) -> list[dict[str, Any]]:
    """Rooms created in the range."""
    found = [r for r in store.rooms.values() if _within(r.created_at, start, end)]
    return [
        {
            "Name": r.name,
            "Type": r.type,
            "Options": r.options,
            "CreatorEmail": r.creator,
            "CreatedAt": r.created_at,
            "AvatarUrl": r.avatar_url,
            "UniqueId": _room_unique_id(store, r),
            "ParticipantEmails": list(r.participants),
        }
        for r in found
    ]


def _export_comments(store: Store, start: date, end: date) -> list[dict[str, Any]]:
    """Comments posted in the range, oldest first."""
    rows = []
    for room in store.rooms.values():
        room_unique_id = _room_unique_id(store, room)
        found: list[CommentRecord] = [
            c for c in room.comments if _within(c.timestamp, start, end)
        ]
        rows += [
            {
                "Message": c.message,
                "DisableLinkPreview": c.disable_link_preview,
                "Type": c.type,
                "UniqueId": c.unique_temp_id or str(c.id),
                "CreatorEmail": c.sender,
                "RoomUniqueId": room_unique_id,
                "CreatedAt": c.timestamp,
                "Payload": c.payload,
                "ParentCommentUniqueId": "",
            }
            for c in found
        ]
    return rows


_EXPORTERS = {
    "users": _export_users,
    "rooms": _export_rooms,
    "comments": _export_comments,
}


# ---------------------------------------------------------------- data imports


@ROUTES.on("POST", "imports")
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


@ROUTES.on("GET", "imports")
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
