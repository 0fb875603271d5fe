"""The SQLite checkpoint of a copy: one file, one row per confirmed write.

Strictly private. Each row maps a source id (``kind``, ``source_id``) to the
target id it was written as. A row is committed right after the target
confirmed the write and before the job moves on, so a process killed at any
point loses at most the writes in flight, which the next run finds on the
target (comments by their marker, rooms by their shape).

The database runs in WAL mode with ``synchronous=NORMAL``: a commit survives
the process being killed (SIGKILL included), not a power cut, and costs no
fsync per row (100,000 fsyncs would dominate a large copy).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Literal

from ..errors import QiscusError

__all__ = ["Checkpoint", "CheckpointError", "MigrationError"]

#: Bumped when the tables change; an older or newer file is refused.
SCHEMA = "aioqiscus-migration-1"
#: ``imported``: written through an import, which kept its time;
#: ``pending``: a write begun, not confirmed (not counted as done).
State = Literal["pending", "written", "imported", "already"]


class MigrationError(QiscusError):
    """A copy cannot start or go on; the message says why and what to do."""


class CheckpointError(MigrationError):
    """The checkpoint file cannot be used: another pair of apps, or damaged.

    Nothing has been written to the target when it is refused on opening;
    a checkpoint that cannot be written stops the job after the write it
    could not record, which the next run finds on the target.
    """


class Checkpoint:
    """An open checkpoint file, bound to one source and target pair."""

    def __init__(self, path: str | os.PathLike[str], source: str, target: str) -> None:
        self.path = os.fspath(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            msg = f"cannot open the checkpoint {self.path}: {exc}"
            raise CheckpointError(msg) from exc
        try:
            self._prepare(source, target)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            msg = (
                f"the checkpoint {self.path} is damaged or not a checkpoint "
                f"({exc}); move it away to start over"
            )
            raise CheckpointError(msg) from exc
        except CheckpointError:
            self._db.close()
            raise

    def _prepare(self, source: str, target: str) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        tables = {
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables:
            with db:
                db.execute("BEGIN")
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                db.execute(
                    "CREATE TABLE objects (kind TEXT NOT NULL, source_id TEXT NOT "
                    "NULL, target_id TEXT, state TEXT NOT NULL, "
                    "PRIMARY KEY (kind, source_id))"
                )
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema", SCHEMA), ("source", source), ("target", target)],
                )
            return
        if tables != {"meta", "objects"}:
            msg = (
                f"the checkpoint {self.path} is not a migration checkpoint; "
                "use another checkpoint file"
            )
            raise CheckpointError(msg)
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("schema") != SCHEMA:
            msg = (
                f"the checkpoint {self.path} has schema {meta.get('schema')!r}, "
                f"not {SCHEMA!r}: another aioqiscus version wrote it; resume "
                "with that version, or use another checkpoint file"
            )
            raise CheckpointError(msg)
        if (meta.get("source"), meta.get("target")) != (source, target):
            msg = (
                f"the checkpoint {self.path} belongs to a copy from "
                f"{meta.get('source')} to {meta.get('target')}, not from {source} "
                f"to {target}; use another checkpoint file"
            )
            raise CheckpointError(msg)

    def close(self) -> None:
        self._db.close()

    def get(self, kind: str, source_id: str) -> tuple[str | None, State] | None:
        """The (target id, state) recorded for a source object, if any."""
        row = self._db.execute(
            "SELECT target_id, state FROM objects WHERE kind=? AND source_id=?",
            (kind, source_id),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def target_id(self, kind: str, source_id: str) -> str | None:
        """The target id a finished write recorded, else ``None``."""
        found = self.get(kind, source_id)
        if found is None or found[1] == "pending":
            return None
        return found[0]

    def record(
        self, kind: str, source_id: str, target_id: str | None, state: State
    ) -> None:
        """Record (and commit) what happened to one source object."""
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                (kind, source_id, target_id, state),
            )
        except sqlite3.Error as exc:
            # A full disk or a vanished file: stop before another write,
            # since a write the checkpoint cannot remember would be repeated.
            msg = f"cannot write the checkpoint {self.path}: {exc}"
            raise CheckpointError(msg) from exc

    def taken(self, kind: str) -> set[str]:
        """The target ids already given to a finished write of *kind*."""
        return {
            row[0]
            for row in self._db.execute(
                "SELECT target_id FROM objects WHERE kind=? AND state!='pending' "
                "AND target_id IS NOT NULL",
                (kind,),
            )
        }
