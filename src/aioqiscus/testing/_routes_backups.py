"""Data backup and import endpoints of the fake server, and their table.

Strictly private. Both dialects serve the same ``exports`` and ``imports``
endpoints (qiscus-rest-v2.md, Data Backup and Import; the same in v2.1).
An export reveals the store's ``export_steps`` one poll at a time. An import
is a multipart JSON file applied all-or-nothing: answered ``failed`` with its
problems per record at once, or else reveals the store's ``import_steps`` one
listing at a time (no endpoint reads one import). Each handler registers its
(method, endpoint) in :data:`ROUTES` where it is defined.

An export takes a snapshot of the rows created between its start and end
dates, as a JSON array in the import format (the documents say to "export
first" to see what is there, so the two formats meet), and serves it,
unauthenticated like the CDN links of the documents, from
``/download/<unique id>/<file name>`` on the host the export was requested
from, once finished: :func:`download`.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from . import _rules as rules
from . import _shapes as shapes
from ._http import HTML_404, JSON, Reject, Reply, Request, invalid, json_or_400
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


def _parent_unique_id(comment: CommentRecord, by_id: dict[int, CommentRecord]) -> str:
    """A reply's ``ParentCommentUniqueId``: its parent's unique id, else ""."""
    payload = comment.payload
    if comment.type != "reply" or not isinstance(payload, dict):
        return ""
    parent = by_id.get(payload.get("replied_comment_id", 0))
    return (parent.unique_temp_id or str(parent.id)) if parent else ""


def _export_comments(store: Store, start: date, end: date) -> list[dict[str, Any]]:
    """Comments posted in the range, oldest first, replies naming parents."""
    rows = []
    for room in store.rooms.values():
        room_unique_id = _room_unique_id(store, room)
        by_id = {c.id: c for c in room.comments}
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
                "ParentCommentUniqueId": _parent_unique_id(c, by_id),
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
        import_errors=_errors(errors),
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


class _Problems:
    """An import's problems, kept per record: its row, its key, its errors.

    The documents show ``errors`` as ``{"Message": "", "Data": null}`` and
    never a failed one; the fake's ``Data`` (one object per failing record,
    ``Row``, ``Key`` and ``Errors``) is a guess, documented in testing.md.
    """

    def __init__(self, rows: list[dict[str, Any]], key: str) -> None:
        self._rows = rows
        self._key = key
        self.found: dict[int, list[str]] = {}

    def add(self, index: int, problem: str) -> None:
        self.found.setdefault(index, []).append(problem)

    def records(self) -> list[dict[str, Any]]:
        return [
            {"Row": i, "Key": self._rows[i].get(self._key), "Errors": problems}
            for i, problems in self.found.items()
        ]

    def stamp(self, index: int, key: str) -> str:
        """The row's time *key* in the server's format; now if absent."""
        value = self._rows[index].get(key)
        if value is None or value == "":
            return now()
        moment = None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(value)
        if moment is None:
            self.add(index, f"{key} must be a time like 2017-05-11T19:14:24Z")
            return now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _errors(records: list[dict[str, Any]]) -> dict[str, Any]:
    """An import's ``errors``: every record's problems, and all in a line."""
    if not records:
        return {}
    message = "; ".join(f"row {r['Row']}: {', '.join(r['Errors'])}" for r in records)
    return {"Message": message, "Data": records}


def _import_users(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Users: Email and AuthenticationToken unique, ``CreateAt`` kept."""
    problems = _Problems(rows, "Email")
    emails: set[Any] = set(store.users)
    tokens: set[Any] = {u.token for u in store.users.values()}
    created = []
    for i, row in enumerate(rows):
        email, token = row.get("Email"), row.get("AuthenticationToken")
        if not isinstance(email, str) or not email:
            problems.add(i, "Email is required")
        elif email in emails:
            problems.add(i, "Email already exists")
        if token and token in tokens:
            problems.add(i, "AuthenticationToken already exists")
        emails.add(email)
        tokens.add(token)
        created.append(problems.stamp(i, "CreateAt"))
    if not problems.found:
        for row, stamp in zip(rows, created, strict=True):
            user = store.upsert_user(
                row["Email"],
                row.get("Name") or row["Email"],
                avatar_url=row.get("AvatarUrl") or "",
                password=row.get("Password") or "",
            )
            user.created_at = stamp
            if row.get("AuthenticationToken"):
                user.token = row["AuthenticationToken"]
    return problems.records()


def _check_room(
    store: Store, row: dict[str, Any], index: int, problems: _Problems
) -> None:
    """The documented rules of one room row but its UniqueId."""
    creator = row.get("CreatorEmail")
    participants = row.get("ParticipantEmails") or []
    if not isinstance(participants, list):
        problems.add(index, "ParticipantEmails must be a list")
        participants = []
    unknown = [
        p for p in dict.fromkeys([creator, *participants]) if p not in store.users
    ]
    if unknown:
        problems.add(index, f"unknown CreatorEmail or participant: {unknown[0]}")
    kind = row.get("Type") or "group"
    if kind not in ("single", "group"):
        problems.add(index, "Type must be single or group")
    if kind == "single" and (len(participants) != 2 or creator not in participants):  # noqa: PLR2004
        problems.add(
            index, "a single room needs exactly 2 participants, the creator one"
        )
    if not isinstance(row.get("Options") or "", str):
        problems.add(index, "Options must be a string")


def _import_rooms(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rooms: UniqueId unique app-wide; single rooms named from their people."""
    problems = _Problems(rows, "UniqueId")
    taken: set[Any] = set(store.imported_rooms)
    created = []
    for i, row in enumerate(rows):
        unique_id = row.get("UniqueId")
        if not isinstance(unique_id, str) or not unique_id:
            problems.add(i, "UniqueId is required")
        elif unique_id in taken or _room_by_unique_id(store, unique_id):
            problems.add(i, "UniqueId already exists")
        taken.add(unique_id)
        _check_room(store, row, i, problems)
        created.append(problems.stamp(i, "CreatedAt"))
    if not problems.found:
        for row, stamp in zip(rows, created, strict=True):
            participants = list(row.get("ParticipantEmails") or [])
            kind = row.get("Type") or "group"
            # "the name inserted into db will be changed by logic using
            # template participant1_email {space} participant2_email".
            name = " ".join(participants) if kind == "single" else row.get("Name")
            room = store.create_room(
                name or "",
                kind,
                row["CreatorEmail"],
                participants,
                avatar_url=row.get("AvatarUrl") or "",
                options=row.get("Options") or "",
            )
            room.created_at = stamp
            store.imported_rooms[row["UniqueId"]] = room.id
    return problems.records()


def _room_by_unique_id(store: Store, unique_id: Any) -> RoomRecord | None:
    """The room an import names: an imported one's UniqueId, else its id.

    Exports give rooms that were not imported their id as ``UniqueId``.
    """
    room_id = store.imported_rooms.get(unique_id)
    if room_id is None and isinstance(unique_id, str) and unique_id.isdigit():
        room_id = int(unique_id)
    return store.rooms.get(room_id) if room_id is not None else None


def _check_comment(
    store: Store, row: dict[str, Any], index: int, problems: _Problems
) -> None:
    """The documented rules of one comment row but its ids."""
    if _room_by_unique_id(store, row.get("RoomUniqueId")) is None:
        problems.add(index, "RoomUniqueId is unknown")
    if row.get("CreatorEmail") not in store.users:
        problems.add(index, "CreatorEmail is unknown")
    try:
        rules.check_payload(row.get("Type") or "text", row.get("Payload"))
    except Reject as exc:
        problems.add(index, "; ".join(exc.details) or exc.message)


def _import_comments(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Comments: ``CreatedAt`` kept, a reply's parent resolved to its id.

    A reply's ``ParentCommentUniqueId`` names a comment already stored or
    an earlier row of the same file; its payload's ``replied_comment_id``
    (the document's placeholder ``1``) becomes the parent's id.
    """
    problems = _Problems(rows, "UniqueId")
    earlier: set[Any] = set()
    created = []
    for i, row in enumerate(rows):
        unique_id = row.get("UniqueId")
        if not isinstance(unique_id, str) or not unique_id:
            problems.add(i, "UniqueId is required")
        elif unique_id in earlier or unique_id in store.comments_by_unique_id:
            problems.add(i, "UniqueId already exists")
        parent = row.get("ParentCommentUniqueId")
        if row.get("Type") == "reply" and not (
            parent in earlier or parent in store.comments_by_unique_id
        ):
            problems.add(
                i,
                "ParentCommentUniqueId must name an existing or earlier comment",
            )
        earlier.add(unique_id)
        _check_comment(store, row, i, problems)
        created.append(problems.stamp(i, "CreatedAt"))
    if not problems.found:
        for row, stamp in zip(rows, created, strict=True):
            kind = row.get("Type") or "text"
            payload = rules.check_payload(kind, row.get("Payload"))
            if kind == "reply":
                parent = store.comments_by_unique_id[row["ParentCommentUniqueId"]]
                payload = {**payload, "replied_comment_id": parent.id}
            room = _room_by_unique_id(store, row["RoomUniqueId"])
            assert room is not None  # checked above  # noqa: S101
            store.add_comment(
                room,
                row["CreatorEmail"],
                row.get("Message") or "",
                type=kind,
                payload=payload,
                unique_temp_id=row["UniqueId"],
                timestamp=stamp,
                disable_link_preview=bool(row.get("DisableLinkPreview")),
            )
    return problems.records()


_IMPORTERS = {
    "users": _import_users,
    "rooms": _import_rooms,
    "comments": _import_comments,
}


def _apply_import(store: Store, resource: str, rows: list[Any]) -> list[dict[str, Any]]:
    """Apply an import all-or-nothing; returns its failing records."""
    bad = [i for i, r in enumerate(rows) if not isinstance(r, dict)]
    if bad:
        return [
            {"Row": i, "Key": None, "Errors": ["every row must be an object"]}
            for i in bad
        ]
    return _IMPORTERS[resource](store, rows)
