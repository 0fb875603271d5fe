"""Writing one room's comments: through imports where they carry everything.

Strictly private. Text comments and replies without extras go through the
import endpoint, which keeps their ``CreatedAt`` and links a reply to its
parent by ``ParentCommentUniqueId`` (the import document, "Comments"); the
rest through ``post_comment``, which stamps the time of posting. A batch of
importable comments is sent before the next posted one, so the room keeps
the source's order.

Each comment's ``UniqueId`` (import) or ``unique_temp_id`` (post) is its
marker: what the target answers for it afterwards, how each write is
confirmed before its checkpoint row, and how a rerun finds what a stopped
run wrote. The server refuses a ``UniqueId`` it already holds, so an
import repeated after a crash cannot duplicate anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._wire import Dialect
from ..errors import APIError, BackupFailedError, QiscusError
from ..models import Comment
from ..payloads import Reply
from ._checkpoint import Checkpoint
from ._imports import ImportChunk, ImportComment, ImportPlanError, plan_import
from ._plan import CommentWrite, relink
from ._report import ReportBuilder

if TYPE_CHECKING:
    from .._client import QiscusClient

__all__ = ["PAGE", "RECORD_ERRORS", "TIMESTAMP_REASON", "RoomComments"]

TIMESTAMP_REASON = (
    "posting through the API stamps the time of the write; only an import "
    "carries CreatedAt"
)
#: Comments per import file at most (the 4 MB limit packs them further).
IMPORT_BATCH = 1000
#: Errors that make one record fail without stopping the job.
RECORD_ERRORS = (QiscusError, ValueError, TypeError)
#: Comments per page read.
PAGE = 100
#: Comments per ``load_comments_with_range`` read of markers (v2.1).
_RANGE = 100


@attrs.define
class RoomComments:
    """Writes the comments of one target room, in order. Strictly private."""

    target: QiscusClient
    dialect: Dialect
    store: Checkpoint
    report: ReportBuilder
    room_id: str
    use_import: bool
    poll_interval: float
    wait_timeout: float
    #: Source markers by source comment key, for ``ParentCommentUniqueId``.
    parents: Mapping[str, str]
    markers: dict[str, str] | None = None
    batch: list[tuple[CommentWrite, Comment]] = attrs.Factory(list)
    _sent: list[tuple[CommentWrite, Comment]] = attrs.Factory(list)

    async def write(self, plan: CommentWrite, comment: Comment) -> None:
        """Write one comment (or queue it for the next import)."""
        if self.markers is None:
            self.markers = await self.read_markers()
        landed = self.markers.get(plan.marker)
        if landed is not None:
            self.store.record("comment", plan.key, landed, "already")
            self.report.count("comment", "already")
            return
        parent = self._parent_marker(plan)
        if self.use_import and self._importable(plan, comment, parent):
            self.batch.append((plan, comment))
            if len(self.batch) >= IMPORT_BATCH:
                await self.flush()
            return
        await self.flush()
        await self._post(plan)

    def _parent_marker(self, plan: CommentWrite) -> str | None:
        """The marker of a reply's parent, if the parent is on the target."""
        if plan.parent_key is None:
            return None
        queued = {p.key for p, _ in self.batch}
        if plan.parent_key in queued:
            return self.parents.get(plan.parent_key)
        if self.store.target_id("comment", plan.parent_key) is not None:
            return self.parents.get(plan.parent_key)
        return None

    @staticmethod
    def _importable(plan: CommentWrite, comment: Comment, parent: str | None) -> bool:
        """Whether an import carries all of it (the document: text or reply)."""
        if plan.extras or comment.timestamp is None:
            return False
        if plan.type == "text":
            return plan.payload is None
        return plan.type == "reply" and isinstance(plan.payload, Reply) and bool(parent)

    async def _post(self, plan: CommentWrite) -> None:
        parent = (
            self.store.target_id("comment", plan.parent_key)
            if plan.parent_key
            else None
        )
        payload, why = relink(plan, parent)
        kind, message = plan.type, plan.message
        if why is not None:
            self.report.drop("comment", plan.key, "payload", why)
            kind, message = "text", message or plan.payload.text
        self.report.drop("comment", plan.key, "timestamp", TIMESTAMP_REASON)
        try:
            made = await self.target.post_comment(
                self.room_id,
                plan.sender,
                message,
                payload=payload,
                type=kind,
                extras=plan.extras,
                unique_temp_id=plan.marker,
            )
        except RECORD_ERRORS as exc:
            self.report.fail("comment", plan.key, str(exc))
            return
        self.store.record("comment", plan.key, str(made.id), "written")
        self.report.count("comment", "written")

    # ------------------------------------------------------------ import files

    def _records(
        self, batch: list[tuple[CommentWrite, Comment]]
    ) -> list[ImportComment]:
        return [
            ImportComment(
                unique_id=plan.marker,
                room_unique_id=self.room_id,
                creator=plan.sender,
                message=plan.message,
                type=plan.type,
                # "replied_comment_id: 1, you must type literally integer 1".
                payload=(
                    {"text": plan.payload.text, "replied_comment_id": 1}
                    if plan.type == "reply"
                    else None
                ),
                parent_unique_id=self.parents.get(plan.parent_key or "", "")
                if plan.type == "reply"
                else "",
                created_at=comment.timestamp,
            )
            for plan, comment in batch
        ]

    async def flush(self) -> None:
        """Import the queued comments, confirm them, record them.

        What the import could not take (a refused file, a rule broken) is
        posted instead, once the target shows it did not land.
        """
        batch, self.batch = self.batch, []
        if not batch:
            return
        self._sent = batch
        records = self._records(batch)
        try:
            chunks = plan_import(
                records,
                existing_users={p.sender for p, _ in batch},
                existing_rooms=[self.room_id],
                existing_comments={r.parent_unique_id for r in records}
                - {r.unique_id for r in records},
            )
        except ImportPlanError as exc:
            self.report.note(f"an import was planned wrong, posting instead: {exc}")
            chunks = []
        refused, unsure = (
            await self._send(chunks) if chunks else ("planned wrong", None)
        )
        self.markers = await self.read_markers()
        for plan, _ in batch:
            landed = self.markers.get(plan.marker)
            if landed is not None:
                self.store.record("comment", plan.key, landed, "imported")
                self.report.count("comment", "written")
            elif unsure is not None:
                self.report.fail(
                    "comment",
                    plan.key,
                    f"its import was not confirmed ({unsure}): run the copy "
                    "again to find it on the target or write it",
                )
            elif refused is None:
                self.report.fail(
                    "comment", plan.key, "imported, but the target does not show it"
                )
            else:
                await self._post(plan)
        if refused is not None:
            self.report.note(
                f"an import of comments was refused ({refused}): they were "
                "posted instead"
            )

    async def _send(self, chunks: list[ImportChunk]) -> tuple[str | None, str | None]:
        """Import each file in turn; why one was refused, or why it is unsure.

        Refused: the server answered the upload with a client error, or said
        the import failed (applied all or nothing: none of its rows landed).
        Unsure: it was sent but its fate is unknown (a timeout, a lost
        answer), so posting its comments now could duplicate what it applies
        later.
        """
        for chunk in chunks:
            accepted = False
            try:
                started = await self.target.create_import("comments", chunk.data)
                accepted = True
                await self.target.wait_for_import(
                    started.id,
                    poll_interval=self.poll_interval,
                    timeout=self.wait_timeout,
                )
            except BackupFailedError as exc:
                self._row_errors(exc)
                return str(exc), None
            except APIError as exc:
                if not accepted and 400 <= exc.status_code < 500:  # noqa: PLR2004
                    return str(exc), None
                return None, str(exc)
            except QiscusError as exc:
                return None, str(exc)
        return None, None

    def _row_errors(self, error: BackupFailedError) -> None:
        """Each refused row's reasons, by its comment (the row's ``Key``)."""
        errors = getattr(error.backup, "errors", None) or {}
        rows = errors.get("Data") if isinstance(errors, Mapping) else None
        keys = {p.marker: p.key for p, _ in self._sent}
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, Mapping) or row.get("Key") not in keys:
                continue
            why = "; ".join(str(e) for e in row.get("Errors") or ()) or "refused"
            self.report.drop(
                "comment",
                keys[row["Key"]],
                "import",
                f"the import refused it ({why}): posted instead",
            )

    # ------------------------------------------------------------ markers

    async def read_markers(
        self, read: Iterable[Comment] | None = None
    ) -> dict[str, str]:
        """The markers already in the target room, to comment ids.

        v2 lists each comment's ``unique_temp_id``; v2.1 lists only the
        marker a client put in ``extras``, so the other comments' are read
        with ``load_comments_with_range``, which answers ``unique_id``.
        *read*: the room's comments, if already read.
        """
        found: dict[str, str] = {}
        unmarked: list[int] = []
        async for c in self._comments(read):
            if c.unique_temp_id:
                found[c.unique_temp_id] = str(c.id)
            elif c.id is not None:
                unmarked.append(c.id)
        if unmarked and self.dialect is Dialect.V2_1:
            found.update(await self._ranged(sorted(unmarked)))
        return found

    async def _comments(self, read: Iterable[Comment] | None) -> AsyncIterator[Comment]:
        """*read*, or the room's comments page by page (none held at once)."""
        if read is not None:
            for c in read:
                yield c
            return
        async for c in self.target.iter_comments(self.room_id, page_size=PAGE):
            yield c

    async def _ranged(self, ids: Sequence[int]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for start in range(0, len(ids), _RANGE):
            part = ids[start : start + _RANGE]
            for c in await self.target.get_comments_range(
                self.room_id, part[0], part[-1]
            ):
                if c.unique_temp_id:
                    found[c.unique_temp_id] = str(c.id)
        return found
