"""The ``aioqiscus`` command: demo, doctor, fake-server, export and contract.

Errors print one line naming the typed error (``--debug`` shows the
traceback); exit status 0 on success, 1 on failure, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from . import __version__
from ._cli_common import (
    ENV_APP_ID,
    ENV_SECRET,
    HelpFormatter,
    StepError,
    UsageError,
    add_target_options,
    one_line,
)

#: ``typing.TYPE_CHECKING`` without importing typing (see ``__init__``).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Sequence
    from typing import Any, TextIO

__all__ = ["main"]

#: The exit status of a command whose output pipe closed (128 + SIGPIPE), as
#: for any Unix tool that a ``head`` stops reading.
EXIT_BROKEN_PIPE = 141


async def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from . import _cli_demo  # noqa: PLC0415 - only when run

    return await _cli_demo.demo(args, out)


async def _doctor(args: argparse.Namespace, out: TextIO) -> int:
    from . import _cli_demo  # noqa: PLC0415 - only when run

    return await _cli_demo.doctor(args, out)


def _fake_server(args: argparse.Namespace, out: TextIO) -> int:
    from .testing import __main__ as fake_server  # noqa: PLC0415 - optional

    return fake_server.run(args, out, "aioqiscus")


# Each command's options and runner are imported only when that command is
# named: ``aioqiscus --help`` loads neither the fake server, nor the contract
# tool, nor httpx and the client (the fake alone took longer than the 150 ms
# the help should answer in; httpx and the client about 100 ms).


def _add_target_arguments(
    default: str | None,
) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        add_target_options(parser, fake_dialects=default)

    return add


def _add_fake_server_arguments(parser: argparse.ArgumentParser) -> None:
    from .testing import __main__ as fake_server  # noqa: PLC0415 - optional

    fake_server.add_arguments(parser)


def _add_export_arguments(parser: argparse.ArgumentParser) -> None:
    from . import _cli_export  # noqa: PLC0415 - only when named

    _cli_export.add_arguments(parser)


def _add_contract_arguments(parser: argparse.ArgumentParser) -> None:
    from . import _contract  # noqa: PLC0415 - only when named

    _contract.add_arguments(parser)


async def _export(args: argparse.Namespace, out: TextIO) -> int:
    from . import _cli_export  # noqa: PLC0415 - only when run

    return await _cli_export.run(args, out)


async def _contract_run(args: argparse.Namespace, out: TextIO) -> int:
    from . import _contract  # noqa: PLC0415 - only when run

    return await _contract.run(args, out)


def _add_migrate_arguments(parser: argparse.ArgumentParser) -> None:
    from . import _cli_migrate  # noqa: PLC0415 - only when named

    _cli_migrate.add_arguments(parser)


async def _migrate(args: argparse.Namespace, out: TextIO) -> int:
    from . import _cli_migrate  # noqa: PLC0415 - only when run

    return await _cli_migrate.run(args, out)


#: Each command: its summary, its description and what adds its options.
COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "demo": (
        "a bot scenario, on a fake by default",
        (
            "Run a bot scenario (users, rooms, buttons, a card, history) against "
            "an in-process fake server, or against your app with credentials."
        ),
        _add_target_arguments("v2,v2.1"),
    ),
    "doctor": (
        "check credentials and dialect",
        (
            "Check the credentials, negotiate the dialect and print the verb and "
            "path every operation uses. Exit status 0 if the server accepts them."
        ),
        _add_target_arguments(None),
    ),
    "fake-server": (
        "serve a fake app on loopback",
        (
            "Serve a fake Qiscus app (both REST dialects by default) until "
            "interrupted; the same as 'python -m aioqiscus.testing'."
        ),
        _add_fake_server_arguments,
    ),
    "export": (
        "export users, rooms or comments",
        (
            "Start an export of the rows created between two dates, show its "
            "progress, and write its details (or, with --download, its data)."
        ),
        _add_export_arguments,
    ),
    "contract": (
        "check that a server answers what aioqiscus expects",
        (
            "Tour every harmless endpoint on disposable users and rooms, and "
            "compare the answers with the fake's (or --compare a cassette). The "
            "tour changes only what it creates (on v2.1 it deactivates and "
            "reactivates one of its own users) and deletes no user, room or "
            "comment. It posts about 24 comments (12 per dialect): each fires the "
            "app's webhook, so a bot listening there receives them."
        ),
        _add_contract_arguments,
    ),
    "migrate": (
        "copy an app to another, resumably, and verify it",
        (
            "Copy users, rooms and comments from a source app to a target app "
            "(any dialect each), checkpointing every write so an interrupted run "
            "resumes where it stopped, then read the target back and compare. "
            "Exit status 0 when everything was moved and verified, 1 when the "
            "report lists failures, conflicts or differences."
        ),
        _add_migrate_arguments,
    ),
}


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The command line's parser, with the options of the command *argv* names.

    Only global flags come before the command, so the first word of *argv*
    that names a command is the command; the others get their summary alone.
    """
    parser = argparse.ArgumentParser(
        prog="aioqiscus",
        description="Qiscus Chat SDK REST API from the shell.",
        epilog=(
            f"Credentials come from --app-id/--secret-key or {ENV_APP_ID} and "
            f"{ENV_SECRET}. Run 'aioqiscus COMMAND --help' for a command's options."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and timings"
    )
    # Global flags work after the command too; SUPPRESS keeps a command
    # parser from resetting a flag given before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and timings",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = next((word for word in argv if word in COMMANDS), None)
    for name, (summary, description, add_arguments) in COMMANDS.items():
        command = commands.add_parser(
            name,
            help=summary,
            description=description,
            parents=[common],
            formatter_class=HelpFormatter,
        )
        if name == named:
            add_arguments(command)
    return parser


_ASYNC: dict[str, Callable[[argparse.Namespace, TextIO], Coroutine[Any, Any, int]]] = {
    "demo": _demo,
    "doctor": _doctor,
    "export": _export,
    "contract": _contract_run,
    "migrate": _migrate,
}


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file
        pass


def _failures() -> tuple[type[BaseException], ...]:
    """What a command reports in one line (evaluated only when one failed).

    Imported here, not at the top: by the time a command has failed, httpx
    and the errors are loaded; ``aioqiscus --help`` never needs them.
    """
    import httpx  # noqa: PLC0415 - see above

    from .errors import QiscusError  # noqa: PLC0415 - see above

    return (QiscusError, StepError, httpx.HTTPError, OSError, ValueError)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    stream = out or sys.stdout
    words = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(words)
    args = parser.parse_args(words)
    started = time.perf_counter()
    try:
        command: str = args.command
        if command == "fake-server":
            status = _fake_server(args, stream)
        else:
            import asyncio  # noqa: PLC0415 - not for --help

            status = asyncio.run(_ASYNC[command](args, stream))
        stream.flush()
    except BrokenPipeError:
        # The reader went away (``aioqiscus doctor | head -1``): stop quietly.
        if stream is sys.stdout:
            _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except UsageError as exc:
        parser.exit(2, f"aioqiscus: error: {exc}\n")
    except _failures() as exc:
        if args.debug:
            traceback.print_exc()
        message = str(exc) if isinstance(exc, StepError) else one_line(exc)
        sys.stderr.write(f"aioqiscus: {message}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    if args.debug:
        sys.stderr.write(f"done in {time.perf_counter() - started:.2f} s\n")
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
