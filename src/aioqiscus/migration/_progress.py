"""How a copy reports its progress: a callback and ``progress`` events.

Strictly private; :class:`MigrationProgress` and :class:`MigrationHooks`
are public in :mod:`aioqiscus.migration`. Hooks follow the client's own
(:mod:`aioqiscus.events`): plain callables in a mapping, checked before
anything is read, called in order with a frozen event; one that raises is
logged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict

import attrs

from .._observe import check_hooks, emit

__all__ = [
    "PHASES",
    "MigrationHooks",
    "MigrationProgress",
    "Phase",
    "ProgressCallback",
    "Reporter",
]

Phase = Literal["read", "users", "rooms", "comments", "verify"]
#: The phases in the order a run goes through them.
PHASES: tuple[Phase, ...] = ("read", "users", "rooms", "comments", "verify")

#: ``on_progress(phase, done, total)``: phase is ``read``, ``users``,
#: ``rooms``, ``comments`` or ``verify``; total is ``None`` while unknown.
ProgressCallback = Callable[[str, int, "int | None"], object]


@attrs.frozen
class MigrationProgress:
    """How far one phase of a copy has gone.

    Attributes:
        phase: ``read`` (source users whose rooms were read), ``users``,
            ``rooms``, ``comments`` (source comments planned or written)
            or ``verify`` (users and rooms compared), in that order.
        done: Objects of the phase handled so far.
        total: Objects the phase handles, or ``None`` while unknown (the
            ``read`` and ``comments`` phases learn it as they go).
    """

    phase: Phase
    done: int
    total: int | None

    @property
    def finished(self) -> bool:
        """Whether the phase is over: each phase ends with ``done == total``."""
        return self.total is not None and self.done >= self.total


class MigrationHooks(TypedDict, total=False):
    """``event_hooks=`` of :func:`~aioqiscus.migration.copy_app`."""

    progress: Sequence[Callable[[MigrationProgress], object]]


class Reporter:
    """Hands each step to the callback and the hooks. Strictly private."""

    def __init__(
        self,
        on_progress: ProgressCallback | None,
        event_hooks: MigrationHooks | Mapping[str, Any] | None,
    ) -> None:
        self._callback = on_progress
        self._hooks = check_hooks(event_hooks, ("progress",)).get("progress", ())
        self._last: dict[str, tuple[int, int | None]] = {}

    def __call__(self, phase: Phase, done: int, total: int | None) -> None:
        self._last[phase] = (done, total)
        if self._callback is not None:
            self._callback(phase, done, total)
        if self._hooks:
            emit(self._hooks, MigrationProgress(phase, done, total))

    def end(self, phase: Phase, done: int) -> None:
        """Close *phase* with ``done == total``, unless its last step did."""
        if self._last.get(phase) != (done, done):
            self(phase, done, done)
