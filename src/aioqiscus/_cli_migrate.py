"""``aioqiscus migrate``: copy an app to another one, resumably, and verify.

Strictly private. The command builds a source and a target client from
``--source-*``/``--target-*`` options or ``QISCUS_SOURCE_*``/
``QISCUS_TARGET_*`` variables, runs :func:`aioqiscus.migration.copy_app`,
shows its progress (a rich bar on a terminal when rich is installed, plain
lines otherwise), prints the report's summary and writes it as JSON with
``--report``. Exit status: 0 moved (and verified), 1 failures, conflicts or
differences (listed), 2 bad usage; an interrupted run says how to resume it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from ._cli_common import HelpFormatter, UsageError, base_url, require_credentials
from ._client import QiscusClient
from ._transport import DEFAULT_BASE_URL
from .migration import MigrationReport, ProgressCallback, copy_app

__all__ = ["add_arguments", "run"]

SIDES = ("source", "target")
#: Exit status of an interrupted run (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"not a date like 2024-01-31: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``migrate`` command's options to *parser*."""
    parser.formatter_class = HelpFormatter
    for side in SIDES:
        env = f"QISCUS_{side.upper()}"
        group = parser.add_argument_group(f"the {side} app")
        group.add_argument(f"--{side}-app-id", help=f"its app id (or {env}_APP_ID)")
        group.add_argument(
            f"--{side}-secret-key",
            help=f"its secret key (or {env}_SECRET_KEY; safer)",
        )
        group.add_argument(
            f"--{side}-base-url",
            help=f"its server (or {env}_BASE_URL); {DEFAULT_BASE_URL} if unset",
        )
        group.add_argument(
            f"--{side}-api-version",
            choices=["auto", "v2", "v2.1"],
            default="auto",
            help="its dialect: negotiated (auto) or pinned",
        )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=Path("move.sqlite"),
        metavar="FILE",
        help="the SQLite file recording every write; run again with it to resume",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read both apps and plan; write nothing; list conflicts",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not read the target back to compare it",
    )
    parser.add_argument(
        "--no-imports",
        action="store_true",
        help=(
            "post every comment instead of importing text comments and "
            "replies (imports keep their time)"
        ),
    )
    parser.add_argument(
        "--since",
        type=_day,
        metavar="YYYY-MM-DD",
        help="copy only comments posted on or after this day (UTC)",
    )
    parser.add_argument(
        "--until",
        type=_day,
        metavar="YYYY-MM-DD",
        help="copy only comments posted on or before this day (UTC)",
    )
    parser.add_argument(
        "--user",
        dest="users",
        action="append",
        default=[],
        metavar="ID",
        help=(
            "a user to start from (repeatable): a v2 source cannot list its "
            "users, and finds them in its users export and from these"
        ),
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE.json",
        help="also write the whole report as JSON",
    )
    parser.add_argument(
        "--progress",
        choices=["auto", "rich", "plain", "none"],
        default="auto",
        help="how to show progress: a rich bar on a terminal, else plain lines",
    )


def _client(args: argparse.Namespace, side: str) -> QiscusClient:
    """The *side* client from its options or ``QISCUS_<SIDE>_*`` variables."""
    app_id, secret = require_credentials(args, side=side)
    return QiscusClient(
        app_id,
        secret,
        base_url=base_url(args, side) or DEFAULT_BASE_URL,
        api_version=getattr(args, f"{side}_api_version"),
    )


def _window(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    """``--since``/``--until`` days as aware UTC instants (until: day's end)."""
    since = args.since and datetime.combine(args.since, time(), UTC)
    until = args.until and datetime.combine(args.until + timedelta(days=1), time(), UTC)
    if since and until and since >= until:
        msg = "--since must not be after --until"
        raise UsageError(msg)
    return since, until


@contextmanager
def _progress(mode: str, out: TextIO) -> Iterator[ProgressCallback]:
    """A progress callback: a rich display, plain lines, or nothing."""
    if mode == "auto":
        mode = "rich" if out.isatty() and _has_rich() else "plain"
    if mode == "none":
        yield lambda *_: None
    elif mode == "rich":
        with _rich_progress(out) as show:
            yield show
    else:
        yield _plain_progress(out)


def _has_rich() -> bool:
    try:
        import rich  # noqa: F401, PLC0415 - an optional dependency
    except ImportError:
        return False
    return True


def _plain_progress(out: TextIO) -> ProgressCallback:
    """One line per phase change, and every 500 objects within a phase."""
    last: dict[str, int] = {}

    def show(phase: str, done: int, total: int | None) -> None:
        if phase in last and done - last[phase] < 500 and done != total:  # noqa: PLR2004
            return
        last[phase] = done
        of = f"/{total}" if total is not None else ""
        out.write(f"{phase}: {done}{of}\n")
        out.flush()

    return show


@contextmanager
def _rich_progress(out: TextIO) -> Iterator[ProgressCallback]:
    from rich.console import Console  # noqa: PLC0415 - optional (aioqiscus[cli])
    from rich.progress import Progress  # noqa: PLC0415

    tasks: dict[str, Any] = {}
    with Progress(console=Console(file=out), transient=False) as bar:

        def show(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield show


def _status(report: MigrationReport) -> int:
    return 0 if report.ok else 1


async def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run the copy the options describe; returns the exit status."""
    since, until = _window(args)
    source, target = _client(args, "source"), _client(args, "target")
    try:
        async with source, target:
            with _progress(args.progress, out) as show:
                report = await copy_app(
                    source,
                    target,
                    args.checkpoint,
                    dry_run=args.dry_run,
                    verify=not args.no_verify,
                    imports=not args.no_imports,
                    on_progress=show,
                    since=since,
                    until=until,
                    users=args.users,
                )
    except asyncio.CancelledError:
        # Ctrl-C: asyncio cancels the job between two writes or in one;
        # every confirmed write is in the checkpoint already.
        sys.stderr.write(
            f"aioqiscus: migrate interrupted; every confirmed write is recorded "
            f"in {args.checkpoint}: run the same command again to resume\n"
        )
        raise
    out.write(report.summary() + "\n")
    if args.report is not None:
        args.report.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        out.write(f"report written to {args.report}\n")
    return _status(report)
