"""The copy job: read the source, write the target, checkpoint, verify.

Strictly private; :func:`copy_app` is public in :mod:`aioqiscus.migration`.
The runner reads the source through the paged API (users, then each user's
rooms, then each room's comments; a v2 source's users and room options from
its exports), asks the pure planner (``_plan``) what to write, writes
through API calls and imports (``_comments``), and records every confirmed
write in the checkpoint before the next one. Idempotence per kind:

- users: ``login_or_register`` is an upsert, and a user the target already
  has is left as it is (a different one is reported);
- rooms: before creating one, the creator's rooms on the target are
  searched for one of the same type, name and participants that no other
  source room was given (what a stopped run created before recording it);
- comments: each carries a marker derived from the source, and a rerun
  reads the target room's markers before writing what is missing.
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from .._validate import check_ids, check_page_size, check_polling, check_window
from .._wire import Dialect
from ..errors import InvalidArgumentError, NotFoundError, QiscusError
from ..models import Comment, ExportedRoom, ExportedUser, Room, RoomType, User
from ..payloads import Reply
from ._checkpoint import Checkpoint, MigrationError
from ._comments import PAGE as _PAGE
from ._comments import RECORD_ERRORS as _RECORD_ERRORS
from ._comments import RoomComments
from ._plan import (
    CommentWrite,
    RoomWrite,
    Skip,
    UserWrite,
    comment_key,
    marker,
    plan_comment,
    plan_room,
    plan_user,
    unfit_user_id,
)
from ._progress import MigrationHooks, ProgressCallback, Reporter
from ._report import Kind, MigrationReport, Problem, ReportBuilder

if TYPE_CHECKING:
    from .._client import QiscusClient

__all__ = ["copy_app"]

#: Why a dry run reports an object the target already holds differently.
_OTHER = "already on the target with other content; left as it is"
#: Why a dry run reports an object the checkpoint maps to nothing.
_MISSING = "the checkpoint records it as copied, but the target does not have it"
#: The first day an export of "everything" starts from.
_EPOCH = date(2000, 1, 1)


def _second(moment: datetime | None) -> datetime | None:
    """*moment* to the second: imports carry ``CreatedAt`` in whole seconds."""
    return None if moment is None else moment.replace(microsecond=0)


def _where(client: QiscusClient) -> str:
    """The app a client talks to: its id at its base URL (no secret)."""
    return f"{client.app_id} at {client.base_url}"


async def _reachable(client: QiscusClient, side: str) -> Dialect:
    """The client's dialect, once one read shows the server answers it.

    A client pinned to a dialect the server does not serve gets a bare 404
    for every call, which the job would otherwise take for "no such user"
    and report record by record. ``list_exports`` exists in both dialects.

    Raises:
        MigrationError: The server answers 404 where the dialect's
            endpoints should be.
    """
    dialect = await client.negotiate()
    try:
        await client.list_exports()
    except NotFoundError as exc:
        msg = (
            f"the {side} app ({_where(client)}) does not answer the {dialect} "
            f"dialect: list_exports answered {exc.status_code}; check its "
            "api_version and base URL"
        )
        raise MigrationError(msg) from exc
    except QiscusError:
        pass  # exports may be forbidden; the job reports what fails later
    return dialect


async def copy_app(
    source: QiscusClient,
    target: QiscusClient,
    checkpoint: str | os.PathLike[str] = "move.sqlite",
    *,
    dry_run: bool = False,
    verify: bool = True,
    on_progress: ProgressCallback | None = None,
    event_hooks: MigrationHooks | Mapping[str, Any] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    users: Sequence[str] = (),
    workers: int = 4,
    exports: bool = True,
    imports: bool = True,
    poll_interval: float = 2.0,
    wait_timeout: float = 600.0,
) -> MigrationReport:
    """Copy users, rooms and comments from one app to another, resumably.

    Users come before rooms before comments, parents before replies. Each
    confirmed write is recorded in the SQLite file *checkpoint* before the
    next one, so a run stopped at any point (a crash, Ctrl-C, SIGKILL) is
    finished by running it again with the same file: nothing is written
    twice, nothing is missed, and a run after a finished one writes
    nothing. One bad record never stops the job: it is reported.

    Args:
        source: A client of the app to read (any dialect).
        target: A client of the app to write (any dialect).
        checkpoint: The checkpoint file; created if missing.
        dry_run: Read both sides and plan; write nothing (not even the
            checkpoint). The report lists what would be written, and
            the conflicts found.
        verify: Read the target back afterwards and compare it with the
            source, object by object, field by field.
        on_progress: Called with ``(phase, done, total)`` as each object
            of a phase is handled.
        event_hooks: ``{"progress": [hook, ...]}``: each hook is called
            with a :class:`MigrationProgress` at the same steps; one that
            raises is logged and ignored. Each phase ends with a step
            whose ``done`` equals its ``total``.
        since: Copy only comments posted at or after this aware time.
        until: Copy only comments posted before this aware time.
        users: User ids to start from. v2 cannot list an app's users: a v2
            source's users come from its users export (see *exports*), these
            ids, and the participants of their rooms. A v2.1 source lists
            them all itself.
        workers: How many rooms' comments are copied (and verified) at
            once; each room's comments go in order whatever this is.
        exports: Read a v2 source's users and rooms exports too (every
            row created up to today): they list the users v2 cannot, and
            hold the room options v2 reads never return. A source that
            refuses them is read without, and the report says so.
        imports: Write text comments and replies without extras through
            the import endpoint, which keeps their time (``CreatedAt``) and
            reply links; the rest, or everything with ``imports=False``,
            through ``post_comment``, which stamps the time of posting.
        poll_interval: Seconds between polls of an export being made or an
            import being applied.
        wait_timeout: Seconds to wait for one export or import to finish.
            An import not confirmed in time leaves its comments failed (not
            posted: it may still be applied); the next run settles them.

    Returns:
        The :class:`MigrationReport`.

    Raises:
        CheckpointError: The checkpoint belongs to another source and
            target pair, is damaged, or cannot be written.
        MigrationError: A side does not answer its client's dialect.
        InvalidArgumentError: Bad arguments, or source and target are the
            same app.
        QiscusError: A side could not be reached or refused the
            credentials (before anything is written).
    """
    start, end = check_window(since, until)
    check_page_size(workers, "workers")
    check_polling(poll_interval, wait_timeout)
    seeds = tuple(check_ids(users, "users", allow_empty=True))
    progress = Reporter(on_progress, event_hooks)
    where_from, where_to = _where(source), _where(target)
    if where_from == where_to:
        msg = (
            f"source and target are the same app ({where_from}): copying it onto "
            "itself would duplicate every room and comment; use "
            "compare_dialects to compare its two dialects"
        )
        raise InvalidArgumentError(msg)
    from_dialect = await _reachable(source, "source")
    to_dialect = await _reachable(target, "target")
    path = os.fspath(checkpoint)
    # The checkpoint is a local SQLite file, read and written synchronously
    # (one short transaction per write): a thread per row would cost more.
    if dry_run and not Path(path).exists():  # noqa: ASYNC240
        path = ":memory:"
    store = Checkpoint(path, where_from, where_to)
    report = ReportBuilder(
        f"{where_from} ({from_dialect})", f"{where_to} ({to_dialect})", dry_run
    )
    try:
        job = _Job(
            source,
            target,
            store,
            report,
            from_dialect,
            to_dialect,
            dry_run=dry_run,
            since=start,
            until=end,
            progress=progress,
            workers=workers,
            use_import=imports,
            poll_interval=poll_interval,
            wait_timeout=wait_timeout,
        )
        if exports and from_dialect is Dialect.V2:
            await job.read_exports()
        await job.read(seeds)
        await job.copy_users()
        await job.copy_rooms()
        await job.copy_comments()
        if verify and not dry_run:
            await job.verify()
    finally:
        store.close()
    return report.build()


@attrs.define
class _Job:
    """One run of a copy. Strictly private."""

    source: QiscusClient
    target: QiscusClient
    store: Checkpoint
    report: ReportBuilder
    src: Dialect
    dst: Dialect
    dry_run: bool
    since: datetime | None
    until: datetime | None
    progress: Reporter
    workers: int = 4
    use_import: bool = True
    poll_interval: float = 2.0
    wait_timeout: float = 600.0
    users: dict[str, User] = attrs.Factory(dict)
    rooms: dict[str, Room] = attrs.Factory(dict)
    room_plans: dict[str, RoomWrite] = attrs.Factory(dict)
    #: The target's rooms per creator, read once; the ids adopted from them.
    _target_rooms: dict[str, list[Room]] = attrs.Factory(dict)
    _found: set[str] = attrs.Factory(set)
    #: A dry run's rooms found on the target (it records nothing).
    _seen_rooms: dict[str, str] = attrs.Factory(dict)
    _done: int = 0
    #: Room options by source room id, from the rooms export.
    _options: dict[str, str] = attrs.Factory(dict)

    # ------------------------------------------------------------ reading

    async def read_exports(self) -> None:
        """A v2 source's users and room options, from its exports."""
        today = datetime.now(UTC).date()
        try:
            rows = []
            for resource in ("users", "rooms"):
                made = await self.source.create_export(resource, _EPOCH, today)
                done = await self.source.wait_for_export(
                    made.id,
                    poll_interval=self.poll_interval,
                    timeout=self.wait_timeout,
                )
                rows += await self.source.download_export(done)
        except QiscusError as exc:
            self.report.note(
                f"the source's exports could not be read ({exc}): users come "
                "from the users given and the rooms' participants only, and v2 "
                "rooms' options are not read"
            )
            return
        for row in rows:
            if isinstance(row, ExportedUser) and row.email not in self.users:
                self.users[row.email] = User(
                    row.email, row.name, row.avatar_url or None
                )
            elif isinstance(row, ExportedRoom):
                self._options[row.unique_id] = row.options
        self.report.note("room options came from the source's rooms export")

    async def read(self, seeds: tuple[str, ...]) -> None:
        """Read the source's users and every room they are in."""
        await self._list_users(seeds)
        queue, seen = collections.deque(self.users), set[str]()
        while queue:
            user_id = queue.popleft()
            if user_id in seen:
                continue
            seen.add(user_id)
            try:
                async for room in self.source.iter_user_rooms(
                    user_id, show_participants=True, show_empty=True
                ):
                    self.rooms.setdefault(room.id, room)
                    for person in room.participants:
                        if person.id not in self.users:
                            await self._profile(person)
                            queue.append(person.id)
            except QiscusError as exc:
                self.report.fail("user", user_id, f"its rooms could not be read: {exc}")
            self.progress("read", len(seen), None)
        self.progress.end("read", len(seen))

    async def _list_users(self, seeds: tuple[str, ...]) -> None:
        """The users to start from: all of a v2.1 source, else those known."""
        if self.src is Dialect.V2_1:
            async for user in self.source.iter_users(page_size=_PAGE):
                self.users[user.id] = user
            return
        self.report.note(
            "v2 cannot list users: they came from the users export, the "
            "users given and the rooms' participants"
        )
        for seed in seeds:
            if seed not in self.users:
                await self._profile(User(seed))
        if not self.users:
            msg = (
                "a v2 source cannot list its users and gave none in an "
                "export: pass users=[...] to start from"
            )
            raise InvalidArgumentError(msg)

    async def _profile(self, user: User) -> None:
        """Read a v2 user's whole profile (participants carry only part)."""
        try:
            self.users[user.id] = await self.source.get_user(user.id)
        except QiscusError as exc:
            self.users[user.id] = user
            self.report.note(f"user {user.id}: profile not readable ({exc})")

    # ------------------------------------------------------------ users

    async def copy_users(self) -> None:
        total = len(self.users)
        for done, user in enumerate(self.users.values(), 1):
            self.report.count("user", "read")
            plan = plan_user(user, source=self.src, target=self.dst)
            self._drops("user", plan.key, plan.dropped)
            await self._user(plan)
            self.progress("users", done, total)
        self.progress.end("users", total)

    async def _user(self, plan: UserWrite) -> None:
        mapped = self.store.target_id("user", plan.key)
        if mapped is not None and not self.dry_run:
            self.report.count("user", "already")
            return
        unfit = unfit_user_id(plan.key, self.dst)
        if unfit is not None and mapped is None:
            self.report.conflicts.append(
                Problem("user", plan.key, "id", plan.key, None, unfit)
            )
        try:
            existing = await self.target.get_user(mapped or plan.key)
        except NotFoundError:
            existing = None
        except QiscusError as exc:
            self.report.fail("user", plan.key, str(exc))
            return
        if existing is None and mapped is not None:  # a dry run
            self.report.conflicts.append(
                Problem("user", plan.key, "user", plan.key, None, _MISSING)
            )
            self.report.count("user", "already")
            return
        if existing is not None:
            self._compare_user(plan, existing)
            self.report.count("user", "already")
            self._record("user", plan.key, existing.id, "already")
            return
        if self.dry_run:
            self.report.count("user", "written")
            return
        try:
            made = await self.target.login_or_register(
                plan.key, plan.name, avatar_url=plan.avatar_url, extras=plan.extras
            )
        except _RECORD_ERRORS as exc:
            self.report.fail("user", plan.key, str(exc))
            return
        self._record("user", plan.key, made.id, "written")
        self.report.count("user", "written")

    def _compare_user(self, plan: UserWrite, got: User) -> None:
        """Conflicts between *plan* and the target's user of the same id."""
        fields: list[tuple[str, Any, Any]] = [
            ("name", plan.name, got.name),
            ("avatar_url", plan.avatar_url, got.avatar_url),
        ]
        if plan.extras is not None and self.dst is Dialect.V2_1:
            fields.append(("extras", dict(plan.extras), dict(got.extras)))
        for name, want, found in fields:
            if want != found:
                self.report.conflicts.append(
                    Problem("user", plan.key, name, want, found, _OTHER)
                )

    # ------------------------------------------------------------ rooms

    async def copy_rooms(self) -> None:
        total = len(self.rooms)
        for done, read in enumerate(self.rooms.values(), 1):
            self.report.count("room", "read")
            room, known = self._with_options(read)
            plan = plan_room(
                room, source=self.src, target=self.dst, options_known=known
            )
            if isinstance(plan, Skip):
                self.report.count("room", "skipped")
                self.report.drop("room", room.id, "room", plan.reason)
            else:
                self.room_plans[plan.key] = plan
                self._drops("room", plan.key, plan.dropped)
                await self._room(plan)
            self.progress("rooms", done, total)
        self.progress.end("rooms", total)

    def _with_options(self, room: Room) -> tuple[Room, bool]:
        """*room* with the options its export row holds, if there is one."""
        text = self._options.get(room.id)
        if text is None or room.options:
            return room, bool(room.options) or self.src is Dialect.V2_1
        try:
            options = json.loads(text) if text else {}
        except ValueError:
            options = None
        if not isinstance(options, dict):
            self.report.drop(
                "room", room.id, "options", "the export's options are not JSON"
            )
            return room, True
        return attrs.evolve(room, options=options), True

    async def _room(self, plan: RoomWrite) -> None:
        mapped = self.store.target_id("room", plan.key)
        if mapped is not None:
            self.report.count("room", "already")
            if self.dry_run:
                await self._check_room(plan, mapped)
            return
        if plan.how == "channel" and self.dst is Dialect.V2:
            self.report.conflicts.append(
                Problem(
                    "room",
                    plan.key,
                    "type",
                    "channel",
                    None,
                    "channels are v2.1: a v2 target may not serve them",
                )
            )
        try:
            made = await self._existing(plan)
            if made is None and self.dry_run:
                made = await self._channel(plan)
            if made is None and not self.dry_run:
                made = await self._create_room(plan)
        except _RECORD_ERRORS as exc:
            self.report.fail("room", plan.key, str(exc))
            return
        if made is None:  # a dry run: it would be written
            self.report.count("room", "written")
            return
        if self.dry_run:  # found on the target: compare what it holds
            self._seen_rooms[plan.key] = made.id
            self._compare_room(plan, made)
            self.report.count("room", "already")
            return
        state = "already" if made.id in self._found else "written"
        self._record("room", plan.key, made.id, state)
        self.report.count("room", state)

    async def _create_room(self, plan: RoomWrite) -> Room:
        target, options = self.target, plan.options
        if plan.how == "single":
            return await target.get_or_create_room_with_target(
                list(plan.participants), options=options
            )
        if plan.how == "channel":
            return await target.get_or_create_channel(
                plan.channel_id or plan.key,
                list(plan.participants),
                name=plan.name,
                avatar_url=plan.avatar_url,
                options=options,
            )
        return await target.create_room(
            plan.name,
            list(plan.participants),
            plan.creator,
            avatar_url=plan.avatar_url,
            options=options,
        )

    async def _channel(self, plan: RoomWrite) -> Room | None:
        """The v2.1 target's channel of *plan*'s unique id, if it has one.

        ``get_or_create_channel`` would return it as it is, whatever its
        name or participants: a dry run compares it.
        """
        if plan.how != "channel" or self.dst is not Dialect.V2_1:
            return None
        found = await self.target.get_rooms_info(
            [], channel_ids=[plan.channel_id or plan.key], show_participants=True
        )
        return found[0] if found else None

    async def _existing(self, plan: RoomWrite) -> Room | None:
        """The room the target already has for *plan*, if any.

        A room an interrupted run created before it could record it, or one
        a lost checkpoint knew: the creator's room of the same type, name
        (1:1 rooms: none) and participants, not yet given to another source
        room. Each creator's rooms are read once per run.
        """
        rooms = self._target_rooms.get(plan.creator)
        if rooms is None:
            try:
                rooms = [
                    r
                    async for r in self.target.iter_user_rooms(
                        plan.creator, show_participants=True, show_empty=True
                    )
                ]
            except NotFoundError:  # the creator is not on the target yet
                rooms = []
            self._target_rooms[plan.creator] = rooms
        taken = self.store.taken("room")
        members = set(plan.participants) | {plan.creator}
        kind = {"single": RoomType.SINGLE, "group": RoomType.GROUP}.get(
            plan.how, RoomType.CHANNEL
        )
        for room in rooms:
            if (
                room.type is kind
                and room.id not in taken
                and (kind is RoomType.SINGLE or room.name == plan.name)
                and {u.id for u in room.participants} == members
            ):
                self._found.add(room.id)
                return room
        return None

    # ------------------------------------------------------------ comments

    async def _history(self, room_id: str) -> list[Comment]:
        """A source room's comments in the window, oldest first."""
        found = [
            c
            async for c in self.source.iter_comments(room_id, page_size=_PAGE)
            if self._within(c)
        ]
        found.reverse()
        return found

    def _within(self, comment: Comment) -> bool:
        moment = comment.timestamp
        if moment is None:
            return True
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until

    async def copy_comments(self) -> None:
        """Copy each room's comments, *workers* rooms at a time."""
        await self._each(list(self.rooms), self._room_comments)
        self.progress.end("comments", self._done)

    async def _each(
        self, keys: list[str], run: Callable[[str], Awaitable[None]]
    ) -> None:
        """``run(key)`` for every key, at most ``workers`` at a time.

        Rooms are independent: their comments go in their own order, and
        overlapping the rooms hides each request's round trip.
        """
        pending = iter(keys)

        async def worker() -> None:
            for key in pending:
                await run(key)

        try:
            async with anyio.create_task_group() as group:
                for _ in range(min(self.workers, len(keys))):
                    group.start_soon(worker)
        except BaseExceptionGroup as errors:
            # The first worker's error (a checkpoint that cannot be
            # written) stopped the others: raise it as itself, so callers
            # catch CheckpointError, not a group.
            raise errors.exceptions[0] from None

    async def _room_comments(self, room_key: str) -> None:
        try:
            history = await self._history(room_key)
        except QiscusError as exc:
            self.report.fail("room", room_key, f"comments not readable: {exc}")
            return
        room_id = self.store.target_id("room", room_key)
        if self.dry_run:
            await self._check_comments(room_key, history, room_id)
            return
        writer = None
        if room_id is not None and not self.dry_run:
            writer = RoomComments(
                self.target,
                self.dst,
                self.store,
                self.report,
                room_id,
                use_import=self.use_import,
                poll_interval=self.poll_interval,
                wait_timeout=self.wait_timeout,
                parents={
                    key: marker(room_key, c)
                    for c in history
                    if (key := comment_key(room_key, c)) is not None
                },
            )
        for comment in history:
            plan = self._plan_comment(room_key, comment)
            if plan is None:
                continue
            if self.store.target_id("comment", plan.key) is not None:
                self.report.count("comment", "already")
            elif writer is not None:
                await writer.write(plan, comment)
            else:
                self.report.fail("comment", plan.key, "its room was not copied")
        if writer is not None:
            await writer.flush()

    async def _check_comments(
        self, room_key: str, history: list[Comment], room_id: str | None
    ) -> None:
        """A dry run's plan of a room's comments, against what the target has.

        A comment the checkpoint maps, or whose marker the target room
        holds, is compared with the target's; the rest would be written.
        The target room is read once (its pages, and on v2.1 the ranges
        that show markers).
        """
        room_id = room_id or self._seen_rooms.get(room_key)
        copied: dict[str, Comment] = {}
        markers: dict[str, str] = {}
        if room_id is not None:
            try:
                copied, markers = await self._target_comments(room_id)
            except QiscusError as exc:
                self.report.fail(
                    "room", room_key, f"the target's comments not readable: {exc}"
                )
                return
        for comment in history:
            plan = self._plan_comment(room_key, comment)
            if plan is None:
                continue
            mapped = self.store.target_id("comment", plan.key)
            landed = mapped or markers.get(plan.marker)
            if landed is None:
                self.report.count("comment", "written")
                continue
            self.report.count("comment", "already")
            got = copied.get(landed)
            if got is None:
                self.report.conflicts.append(
                    Problem("comment", plan.key, "comment", plan.key, None, _MISSING)
                )
            else:
                self._compare_comment(plan, comment, got)

    async def _target_comments(
        self, room_id: str
    ) -> tuple[dict[str, Comment], dict[str, str]]:
        """A target room's comments by id, and its markers to comment ids."""
        reader = RoomComments(
            self.target,
            self.dst,
            self.store,
            self.report,
            room_id,
            use_import=False,
            poll_interval=self.poll_interval,
            wait_timeout=self.wait_timeout,
            parents={},
        )
        copied = {
            str(c.id): c
            async for c in self.target.iter_comments(room_id, page_size=_PAGE)
        }
        return copied, await reader.read_markers(copied.values())

    def _plan_comment(self, room_key: str, comment: Comment) -> CommentWrite | None:
        """Count one source comment read and plan it (``None``: skipped)."""
        self.report.count("comment", "read")
        self._done += 1
        self.progress("comments", self._done, None)
        plan = plan_comment(comment, room_key, target=self.dst)
        if isinstance(plan, Skip):
            self._skip(room_key, comment, plan)
            return None
        self._drops("comment", plan.key, plan.dropped)
        return plan

    def _skip(self, room_key: str, comment: Comment, plan: Skip) -> None:
        self.report.count("comment", "skipped")
        key = comment_key(room_key, comment) or room_key
        self.report.drop("comment", key, "comment", plan.reason)
        if plan.refused:
            self.report.conflicts.append(
                Problem("comment", key, "payload", comment.payload, None, plan.reason)
            )

    # ------------------------------------------------------------ verify

    async def verify(self) -> None:
        """Read the target back and compare it, field by field."""
        self.report.verified = True
        total = len(self.users) + len(self.room_plans)
        done = 0
        for key, user in self.users.items():
            await self._verify_user(key, user)
            done += 1
            self.progress("verify", done, total)

        async def room(key: str) -> None:
            nonlocal done
            await self._verify_room(key, self.room_plans[key])
            done += 1
            self.progress("verify", done, total)

        await self._each(list(self.room_plans), room)
        self.progress.end("verify", total)

    def _differ(self, kind: Kind, key: str, field: str, want: Any, got: Any) -> None:
        """Report a field that reads differently on the target.

        Verification lists it as a difference; a dry run, which compares
        what the target already holds, as a conflict.
        """
        if want == got:
            return
        if self.dry_run:
            self.report.conflicts.append(Problem(kind, key, field, want, got, _OTHER))
        else:
            self.report.differences.append(Problem(kind, key, field, want, got))

    async def _verify_user(self, key: str, user: User) -> None:
        target_id = self.store.target_id("user", key)
        if target_id is None:
            return
        try:
            got = await self.target.get_user(target_id)
        except QiscusError as exc:
            self._differ("user", key, "user", key, f"not readable: {exc}")
            return
        self._differ("user", key, "name", user.name or user.id, got.name)
        self._differ("user", key, "avatar_url", user.avatar_url, got.avatar_url)
        if self.src is Dialect.V2_1 and self.dst is Dialect.V2_1:
            self._differ("user", key, "extras", dict(user.extras), dict(got.extras))

    async def _verify_room(self, key: str, plan: RoomWrite) -> None:
        room_id = self.store.target_id("room", key)
        if room_id is None:
            return
        if await self._check_room(plan, room_id):
            await self._verify_comments(key, room_id)

    async def _check_room(self, plan: RoomWrite, room_id: str) -> bool:
        """Compare the target's room *room_id* with *plan*; whether it exists."""
        key = plan.key
        reader = plan.creator if self.dst is Dialect.V2 else None
        try:
            found = await self.target.get_rooms_info(
                [room_id], as_user=reader, show_participants=True
            )
        except QiscusError as exc:
            self._differ("room", key, "room", key, f"not readable: {exc}")
            return False
        if not found:
            if self.dry_run:
                self.report.conflicts.append(
                    Problem("room", key, "room", key, None, _MISSING)
                )
            else:
                self._differ("room", key, "room", key, None)
            return False
        self._compare_room(plan, found[0])
        return True

    def _compare_room(self, plan: RoomWrite, got: Room) -> None:
        key, want = plan.key, self.rooms[plan.key]
        self._differ("room", key, "type", want.type, got.type)
        self._differ(
            "room",
            key,
            "participants",
            sorted(plan.participants),
            sorted(u.id for u in got.participants),
        )
        if plan.how != "single":
            self._differ("room", key, "name", want.name, got.name)
            self._differ("room", key, "avatar_url", want.avatar_url, got.avatar_url)
        if self.dst is Dialect.V2_1 and plan.options_known:
            self._differ(
                "room", key, "options", dict(plan.options or {}), dict(got.options)
            )

    async def _verify_comments(self, key: str, room_id: str) -> None:
        try:
            history = await self._history(key)
            copied, markers = await self._target_comments(room_id)
        except QiscusError as exc:
            self._differ("room", key, "comments", key, f"not readable: {exc}")
            return
        for comment in history:
            plan = plan_comment(comment, key, target=self.dst)
            if isinstance(plan, Skip):
                continue
            got = copied.get(markers.get(marker(key, comment), ""))
            if got is None:
                self._differ("comment", plan.key, "comment", plan.key, None)
                continue
            self._compare_comment(plan, comment, got)

    def _compare_comment(self, plan: CommentWrite, want: Comment, got: Comment) -> None:
        key = plan.key
        self._differ("comment", key, "sender", want.sender.id, got.sender.id)
        self._differ("comment", key, "message", want.message, got.message)
        if isinstance(want.payload, Reply) and plan.parent_key:
            parent = self.store.target_id("comment", plan.parent_key)
            linked = got.payload
            got_id = (
                str(linked.replied_comment_id) if isinstance(linked, Reply) else None
            )
            if parent is not None:
                self._differ(
                    "comment", key, "payload.replied_comment_id", parent, got_id
                )
        else:
            self._differ("comment", key, "type", want.type, got.type)
            self._differ("comment", key, "payload", want.payload, got.payload)
        if plan.extras is not None:
            self._differ("comment", key, "extras", dict(plan.extras), dict(got.extras))
        found = self.store.get("comment", key)
        if found is not None and found[1] == "imported":
            self._differ(
                "comment",
                key,
                "timestamp",
                _second(want.timestamp),
                _second(got.timestamp),
            )

    # ------------------------------------------------------------ helpers

    def _drops(
        self, kind: Kind, key: str, dropped: tuple[tuple[str, str], ...]
    ) -> None:
        for field, reason in dropped:
            self.report.drop(kind, key, field, reason)

    def _record(self, kind: str, key: str, target_id: str | None, state: Any) -> None:
        if not self.dry_run:
            self.store.record(kind, key, target_id, state)
