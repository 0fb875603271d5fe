"""What the tour is made of: runs, steps, rows, and how one step runs.

A :class:`Step` is one operation of the client in one dialect; a
:class:`Run` is what the steps of one dialect share (client, names, ids,
server facts); :func:`run_step` runs a step and says how it went in a
:class:`Row`. :func:`dig`, :func:`first` and :func:`record_paging` read the
raw answers a step recorded. The steps themselves are in :mod:`._tour`.

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import APIError, UnsupportedOperationError
from ._cassette import Interaction, Recorder, Tag, tagged
from ._shape import Finding

if TYPE_CHECKING:
    from .. import QiscusClient


class Status(enum.Enum):
    """What a step found."""

    OK = "ok"
    DIFFERS = "differs"
    REFUSED = "refused"
    FAILED = "failed"
    SKIPPED = "skipped"


#: Statuses that make the command exit 1.
FAILING = frozenset({Status.DIFFERS, Status.REFUSED, Status.FAILED})


class Skip(Exception):  # noqa: N818 - control flow, like pytest's Skipped
    """A step cannot run (an earlier step it depends on did not succeed)."""


@attrs.define
class Row:
    """One line of the report: an operation in a dialect."""

    operation: str
    dialect: str
    status: Status
    detail: str = ""
    exchanges: list[Interaction] = attrs.Factory(list)
    findings: list[Finding] = attrs.Factory(list)


@attrs.define
class Run:
    """What the steps of one dialect share: client, names, ids and facts.

    Attributes:
        client: A client pinned to *dialect*.
        dialect: ``"v2"`` or ``"v2.1"``.
        prefix: The run prefix every created name starts with.
        recorder: The recording transport (for the raw answers).
        facts: This dialect's server facts, filled in by the steps.
        rooms: Room ids created so far, by role (``group``, ``single``...).
        comments: Comment ids posted so far, by payload type.
    """

    client: QiscusClient
    dialect: str
    prefix: str
    recorder: Recorder
    facts: dict[str, Any] = attrs.Factory(dict)
    rooms: dict[str, str] = attrs.Factory(dict)
    comments: dict[str, int] = attrs.Factory(dict)
    _start: int = 0

    @property
    def marker(self) -> str:
        """The ``unique_temp_id`` of the tour's text comment."""
        return f"{self.prefix}-{self.dialect.replace('.', '')}-marker"

    @property
    def password(self) -> str:
        """The disposable users' password (redacted from the cassette)."""
        return f"{self.prefix}-password"

    def user(self, name: str) -> str:
        """A disposable user's identifier: an email in v2, a user_id in v2.1."""
        if self.dialect == "v2":
            return f"{self.prefix}-v2-{name}@example.com"
        return f"{self.prefix}-v21-{name}"

    def room(self, role: str) -> str:
        """The id of the room created for *role*.

        Raises:
            Skip: That room was not created.
        """
        try:
            return self.rooms[role]
        except KeyError:
            raise Skip(f"needs the {role} room, which was not created") from None

    def comment(self, kind: str) -> int:
        """The id of the comment posted with payload type *kind*.

        Raises:
            Skip: It was not posted, or the server answered no id.
        """
        try:
            return self.comments[kind]
        except KeyError:
            raise Skip(f"needs the {kind} comment's id") from None

    def begin(self) -> None:
        """Mark the start of a step: :meth:`exchanges` counts from here."""
        self._start = len(self.recorder.interactions)

    def exchanges(self) -> list[Interaction]:
        """The exchanges recorded since the current step began."""
        return self.recorder.interactions[self._start :]

    def last_answer(self) -> Any:
        """The newest JSON answer of the current step (``{}`` if none)."""
        for item in reversed(self.exchanges()):
            if item.text is None and item.response is not None:
                return item.response
        return {}


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` or None when any level is missing."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def first(data: Any, *keys: str) -> tuple[str, Any] | None:
    """The first of *keys* present in the mapping *data*, with its value."""
    if isinstance(data, Mapping):
        for key in keys:
            if key in data:
                return key, data[key]
    return None


def record_paging(run: Run, endpoint: str, total: int | None, *keys: str) -> None:
    """Record whether *endpoint* honoured the ``limit`` of the step's first page.

    *total* is how many items there were in all, when known; *keys* name the
    list in ``results`` (the first present counts).
    """
    item = next((i for i in run.exchanges() if i.text is None), None)
    if item is None:
        return
    found = first(dig(item.response, "results"), *keys)
    got = len(found[1]) if found and isinstance(found[1], list) else 0
    sent = [v for k, v in item.query if k == "limit"]
    limit = int(sent[0]) if sent and sent[0].isdigit() else None
    if limit is None:
        verdict = f"no limit sent: {got} on the first page"
    elif got > limit:
        verdict = f"limit {limit} ignored: {got} on the first page"
    elif total is not None and total <= limit:
        verdict = f"limit {limit}: too few items to tell ({got} of {total})"
    elif got == limit:
        verdict = f"limit {limit} honoured"
    else:
        verdict = f"limit {limit}: {got} on the first page"
    run.facts.setdefault("paging", {})[endpoint] = verdict


Action = Callable[[Run], Awaitable[str | None]]


@attrs.frozen
class Step:
    """One entry of the tour.

    Attributes:
        operation: The name in the report and the cassette.
        action: The coroutine; returns a short detail for the report.
        requires: The client methods *action* calls (by default the method
            the operation is named by); when one is missing the step is
            reported "not implemented by this client".
        app_data: The step reads data the tour did not create (other users,
            exports): every foreign string in its answers is redacted.
        dialects: The dialects whose documents have the endpoint. Where the
            client knows better it refuses before sending, and the step is
            reported "not served"; this field is for endpoints only one
            dialect's documents describe.
    """

    operation: str
    action: Action
    requires: tuple[str, ...] = attrs.field()
    app_data: bool = False
    dialects: frozenset[str] = frozenset({"v2", "v2.1"})

    @requires.default
    def _named_method(self) -> tuple[str, ...]:
        # Most operations are named by the method they call: "get_user", or
        # "post_comment:card" for one of several steps calling post_comment.
        return (self.operation.partition(":")[0],)


def _unrunnable(run: Run, step: Step) -> str | None:
    """Why *step* cannot run in *run*, or ``None`` when it can."""
    if run.dialect not in step.dialects:
        return f"documented for {', '.join(sorted(step.dialects))} only"
    if not all(hasattr(run.client, name) for name in step.requires):
        return "not implemented by this client"
    return None


async def run_step(run: Run, step: Step) -> Row:
    """Run one step and say how it went (shape comparison comes later)."""
    reason = _unrunnable(run, step)
    if reason is not None:
        return Row(step.operation, run.dialect, Status.SKIPPED, reason)
    run.begin()
    try:
        with tagged(Tag(step.operation, run.dialect, step.app_data)):
            detail = await step.action(run)
    except Skip as exc:
        status, detail = Status.SKIPPED, str(exc)
    except UnsupportedOperationError:
        status, detail = Status.SKIPPED, f"not served in {run.dialect}"
    except APIError as exc:
        status, detail = Status.REFUSED, f"{exc.status_code} {exc.message}"
    except Exception as exc:  # noqa: BLE001 - a failed step must not end the tour
        status, detail = Status.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        status = Status.OK
    return Row(step.operation, run.dialect, status, detail or "", run.exchanges())
