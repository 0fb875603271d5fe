"""What a copy did: :class:`MigrationReport`, as a value, JSON and text.

Strictly private; the names are public in :mod:`aioqiscus.migration`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "Failure",
    "KindCounts",
    "MigrationReport",
    "NotCarried",
    "Problem",
    "ReportBuilder",
]

Kind = Literal["user", "room", "comment"]
KINDS: tuple[Kind, ...] = ("user", "room", "comment")
#: How many ids a text summary shows per line before "and N more".
_SHOWN = 5


@attrs.frozen
class KindCounts:
    """What happened to the objects of one kind.

    Attributes:
        read: Objects read from the source.
        written: Objects written to the target by this run.
        already: Objects the checkpoint or the target already had.
        skipped: Objects left out on purpose (the reason is in
            ``MigrationReport.not_carried``).
        failed: Objects the target refused or that could not be written
            (each in ``MigrationReport.failures``).
    """

    read: int = 0
    written: int = 0
    already: int = 0
    skipped: int = 0
    failed: int = 0


@attrs.frozen
class NotCarried:
    """A field the target does not hold as the source had it, and why.

    Attributes:
        kind: ``user``, ``room`` or ``comment``.
        field: The model field (``options``, ``timestamp``, ...).
        reason: Why it could not be carried.
        ids: The source ids of every object concerned.
    """

    kind: Kind
    field: str
    reason: str
    ids: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.ids[:_SHOWN])
        more = len(self.ids) - _SHOWN
        tail = f" and {more} more" if more > 0 else ""
        return (
            f"{self.kind} {self.field} ({len(self.ids)}: {shown}{tail}): {self.reason}"
        )


@attrs.frozen
class Failure:
    """One object that could not be read or written, with the error's words."""

    kind: Kind
    id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}: {self.reason}"


@attrs.frozen
class Problem:
    """A difference or conflict between the source and the target.

    Verification reports each field that reads differently on the target
    (``source`` and ``target`` hold both values); a dry run reports what
    would go wrong before anything is written.
    """

    kind: Kind
    id: str
    field: str
    source: Any
    target: Any
    reason: str = ""

    def __str__(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return (
            f"{self.kind} {self.id}: {self.field}: source={self.source!r} "
            f"target={self.target!r}{why}"
        )


@attrs.frozen
class MigrationReport:
    """What :func:`~aioqiscus.migration.copy_app` did, found and left out.

    Attributes:
        source: The source app (``app_id`` at base URL, dialect).
        target: The target app.
        dry_run: Nothing was written: ``written`` counts what would be.
        counts: ``KindCounts`` by kind (``user``, ``room``, ``comment``).
        not_carried: Fields that could not be carried, and why.
        failures: Objects that could not be read or written.
        conflicts: What a dry run found in the way (ids already on the
            target with other content, payloads the target would refuse).
        differences: What verification read differently on the target.
        verified: Whether the target was read back and compared.
        notes: Facts about the run worth knowing (where the users came from).
    """

    source: str
    target: str
    dry_run: bool
    counts: Mapping[str, KindCounts]
    not_carried: tuple[NotCarried, ...] = ()
    failures: tuple[Failure, ...] = ()
    conflicts: tuple[Problem, ...] = ()
    differences: tuple[Problem, ...] = ()
    verified: bool = False
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No failure, conflict or difference (fields not carried aside)."""
        return not (self.failures or self.conflicts or self.differences)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data (``json.dumps`` takes it as is)."""
        data = attrs.asdict(self, recurse=True)
        data["ok"] = self.ok
        return json.loads(json.dumps(data, default=str))  # type: ignore[no-any-return]

    def summary(self) -> str:
        """The report as readable lines."""
        mode = "dry run" if self.dry_run else "copy"
        lines = [f"{mode} from {self.source} to {self.target}"]
        for kind in KINDS:
            c = self.counts.get(kind, KindCounts())
            verb = "to write" if self.dry_run else "written"
            lines.append(
                f"  {kind}s: {c.read} read, {c.written} {verb}, {c.already} already "
                f"there, {c.skipped} skipped, {c.failed} failed"
            )
        sections: list[tuple[str, tuple[object, ...]]] = [
            ("notes", self.notes),
            ("not carried", self.not_carried),
            ("failures", self.failures),
            ("conflicts", self.conflicts),
            ("differences", self.differences),
        ]
        for title, items in sections:
            if items:
                lines.append(f"{title}:")
                lines += [f"  - {item}" for item in items]
        if self.verified:
            verdict = (
                "verified: the target matches"
                if not self.differences
                else (f"verified: {len(self.differences)} difference(s)")
            )
            lines.append(verdict)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@attrs.define
class ReportBuilder:
    """Collects counts and findings while a job runs. Strictly private."""

    source: str
    target: str
    dry_run: bool
    counts: dict[str, dict[str, int]] = attrs.Factory(
        lambda: {k: dict.fromkeys(attrs.fields_dict(KindCounts), 0) for k in KINDS}
    )
    dropped: dict[tuple[Kind, str, str], list[str]] = attrs.Factory(dict)
    failures: list[Failure] = attrs.Factory(list)
    conflicts: list[Problem] = attrs.Factory(list)
    differences: list[Problem] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    verified: bool = False

    def count(self, kind: Kind, outcome: str, n: int = 1) -> None:
        self.counts[kind][outcome] += n

    def drop(self, kind: Kind, key: str, field: str, reason: str) -> None:
        self.dropped.setdefault((kind, field, reason), []).append(key)

    def fail(self, kind: Kind, key: str, reason: str) -> None:
        self.count(kind, "failed")
        self.failures.append(Failure(kind, key, reason))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def build(self) -> MigrationReport:
        return MigrationReport(
            source=self.source,
            target=self.target,
            dry_run=self.dry_run,
            counts={k: KindCounts(**v) for k, v in self.counts.items()},
            not_carried=tuple(
                NotCarried(kind, field, reason, tuple(ids))
                for (kind, field, reason), ids in self.dropped.items()
            ),
            failures=tuple(self.failures),
            conflicts=tuple(self.conflicts),
            differences=tuple(self.differences),
            verified=self.verified,
            notes=tuple(self.notes),
        )
