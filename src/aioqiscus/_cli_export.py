"""``aioqiscus export``: start an export, show progress, save it.

Strictly private. The command checks ``--out`` before asking for anything,
then runs four steps, each named when it fails (``create``, ``wait``,
``download``, ``write``). A download is one call,
:meth:`~aioqiscus.QiscusClient.download_export`, which writes ``<out>.part``
and renames it when complete, so a failed one leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import attrs

from ._cli_common import (
    StepError,
    UsageError,
    add_target_options,
    step,
    target,
)
from ._client import QiscusClient
from .errors import QiscusError
from .models import Backup

__all__ = ["add_arguments", "check_out", "run"]

COMMAND = "export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``export`` command's options to *parser*."""
    add_target_options(parser, fake_dialects="v2,v2.1")
    parser.add_argument(
        "--resource",
        choices=["users", "rooms", "comments"],
        required=True,
        help="what to export",
    )
    for flag, which, key in (("--since", "first", "start"), ("--until", "last", "end")):
        parser.add_argument(
            flag,
            type=date.fromisoformat,
            required=True,
            metavar="YYYY-MM-DD",
            help=f"the {which} day whose rows are exported (the {key}_date)",
        )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="file to write: the export's details, or its data with --download",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch the exported data, not just its details and URL",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=2.0, help="seconds between polls"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds to wait for the export"
    )


def check_out(path: Path) -> None:
    """Refuse an ``--out`` that cannot be written, before any request.

    Raises:
        UsageError: *path* is a directory, or its directory is missing or
            not writable.
    """
    if path.is_dir():
        raise UsageError(f"--out {path} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"--out {path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise UsageError(f"--out {path} is not writable")


@attrs.define
class Progress:
    """Export progress: a bar redrawn in place on a terminal, else plain lines.

    Plain lines (one per change) keep logs and pipes free of carriage returns.
    """

    out: TextIO
    width: int = 30
    _last: tuple[str, int] | None = None

    def __call__(self, backup: Backup) -> None:
        state = (backup.status, backup.percentage)
        if self.out.isatty():
            filled = self.width * backup.percentage // 100
            bar = "#" * filled + "-" * (self.width - filled)
            self.out.write(f"\r[{bar}] {backup.percentage:3d}% {backup.status:<10}")
        elif state != self._last:
            self.out.write(f"{backup.status} {backup.percentage}%\n")
        self.out.flush()
        self._last = state

    def finish(self) -> None:
        """End the bar's line (on a terminal)."""
        if self.out.isatty() and self._last is not None:
            self.out.write("\n")


async def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``aioqiscus export``; returns the exit status."""
    check_out(args.out)
    where = target(args, allow_fake=True)
    if where.fake is not None:
        where.fake.export_steps = [("started", p) for p in (0, 25, 60)] + [
            ("finished", 100)
        ]
    progress = Progress(out)
    async with where.client as client:
        with step(COMMAND, "create"):
            backup = await client.create_export(args.resource, args.since, args.until)
        out.write(f"export {backup.id} of {args.resource} started on {where.label}\n")
        with step(COMMAND, "wait"):
            done = await client.wait_for_export(
                backup.id,
                poll_interval=args.poll_interval,
                timeout=args.timeout,
                on_progress=progress,
            )
        progress.finish()
        if args.download:
            await _download(client, done, args.out)
            out.write(f"downloaded {done.download_url} to {args.out}\n")
        else:
            with step(COMMAND, "write"):
                args.out.write_text(json.dumps(_backup_json(done), indent=2) + "\n")
            out.write(
                f"wrote the export's details to {args.out}; the data is at "
                f"{done.download_url} (add --download to fetch it)\n"
            )
        out.write(f"{done.total_rows} rows, {done.size} bytes\n")
    return 0


def _backup_json(backup: Backup) -> dict[str, Any]:
    data = attrs.asdict(backup)
    if backup.created_at is not None:
        data["created_at"] = backup.created_at.isoformat()
    return data


async def _download(client: QiscusClient, backup: Backup, path: Path) -> None:
    """Download the export's file to *path*; a disk error is the write step's."""
    try:
        await client.download_export(backup, to=path)
    except OSError as exc:
        raise StepError(COMMAND, "write", exc) from exc
    except QiscusError as exc:
        raise StepError(COMMAND, "download", exc) from exc
