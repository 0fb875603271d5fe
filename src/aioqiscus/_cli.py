"""The ``aioqiscus`` command: demo, doctor, fake-server, export and contract.

Errors print one line naming the typed error (``--debug`` shows the
traceback); exit status 0 on success, 1 on failure, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TextIO

import httpx

from . import (
    Button,
    Card,
    Dialect,
    NegotiationError,
    NotFoundError,
    QiscusClient,
    QiscusError,
    __version__,
)
from ._cli_common import (
    ENV_APP_ID,
    ENV_SECRET,
    HelpFormatter,
    StepError,
    UsageError,
    add_target_options,
    one_line,
)
from ._cli_common import target as _target
from .models import Comment

__all__ = ["main"]

#: Demo users' password (on the fake, or on the app you point the demo at).
DEMO_PASSWORD = "aioqiscus-demo"  # noqa: S105 - a documented demo value
#: The exit status of a command whose output pipe closed (128 + SIGPIPE), as
#: for any Unix tool that a ``head`` stops reading.
EXIT_BROKEN_PIPE = 141


def _describe(comment: Comment) -> str:
    sender = comment.sender.name or comment.sender.id
    payload = comment.payload
    if payload is None:
        detail = repr(comment.message)
    elif isinstance(payload, Card):
        detail = f"card {payload.title!r} with {len(payload.buttons)} button(s)"
    else:
        detail = f"{type(payload).__name__}: {comment.message or ''!r}"
    return f"  #{comment.id} {comment.type:<8} from {sender}: {detail}"


async def _demo(args: argparse.Namespace, out: TextIO) -> int:
    target = _target(args, allow_fake=True)
    bot, alice, bob = "demo-bot@example.com", "alice@example.com", "bob@example.com"
    async with target.client as client:
        out.write(f"aioqiscus {__version__} demo against {target.label}\n\n")
        dialect = await client.negotiate()
        out.write(f"1. negotiated the {dialect} dialect with one probe\n")
        for user, name in ((bot, "Demo Bot"), (alice, "Alice"), (bob, "Bob")):
            await client.login_or_register(user, name, password=DEMO_PASSWORD)
        out.write("2. registered Demo Bot, Alice and Bob\n")
        group = await client.create_room(
            "Support", [alice, bob], bot, options={"topic": "orders"}
        )
        direct = await client.get_or_create_room_with_target([bot, alice])
        out.write(
            f"3. created group {group.name!r} (id {group.id}, options "
            f"{dict(group.options)}) and 1:1 room {direct.id}\n"
        )
        await client.post_text(direct.id, bot, "Hi Alice! How can I help?")
        await client.post_buttons(
            direct.id,
            bot,
            "Pick one:",
            [
                Button.postback("Track my order", "https://bot.example.com/track"),
                Button.link("Help centre", "https://help.example.com"),
            ],
        )
        await client.post_card(
            direct.id,
            bot,
            Card(
                title="Blouse, 49.000",
                text="Today's deal",
                image_url="https://img.example.com/blouse.jpg",
                url="https://shop.example.com/blouse",
                buttons=[Button.link("Buy", "https://shop.example.com/buy")],
            ),
        )
        out.write("4. posted a text, a buttons message and a card\n")
        out.write("5. read the history back, newest first, as typed payloads:\n")
        async for comment in client.iter_comments(direct.id):
            out.write(_describe(comment) + "\n")
        if target.fake is None:
            out.write(
                "\n6. (the bot conversation needs the fake: run without an app)\n"
            )
        else:
            out.write(
                "\n6. a bot conversation, Alice typing and tapping in the fake:\n"
            )
            await _converse(target.fake, client, direct.id, bot, alice, out)
        out.write("\n7. negotiation report (which verb and path each call uses):\n")
        out.write(_indent(str(client.negotiation_report())) + "\n")
    return 0


async def _converse(
    fake: Any, client: QiscusClient, room_id: str, bot_id: str, user: str, out: TextIO
) -> None:
    """An aioqiscus.bot bot answers *user*'s "help" and a tap on its menu."""
    from .bot import Bot, Context  # noqa: PLC0415 - only for the fake's demo

    token = "demo-signature-token"  # noqa: S105 - the fake's, not a secret
    bot = Bot(client, user_id=bot_id, signature_token=token)

    @bot.on_text("help")
    async def menu(ctx: Context) -> None:
        await ctx.reply_buttons(
            "What do you need?",
            [
                Button.postback(
                    "Where is my order?",
                    "https://bot.example.com/postback",
                    payload={"topic": "order"},
                )
            ],
        )

    @bot.on_postback(topic="order")
    async def order(ctx: Context) -> None:
        await ctx.reply(f"{ctx.sender.name}, your order ships tomorrow.")

    fake.deliver_webhooks(
        "http://demo-bot/qiscus/webhook",
        token,
        transport=httpx.ASGITransport(app=bot.asgi),
    )
    said = await fake.say(room_id, user, "help")
    await bot.join()
    reply = fake.room(room_id).comments[-1]
    await fake.tap(reply.id, "Where is my order?", by=user)
    await bot.join()
    for comment in fake.room(room_id).comments:
        if comment.id >= said.id:
            name = fake.store.users[comment.sender].name
            out.write(f"   {name} ({comment.type}): {comment.message}\n")


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


async def _doctor(args: argparse.Namespace, out: TextIO) -> int:
    target = _target(
        args,
        allow_fake=args.fake_dialects is not None,
        hint=" (or --fake-dialects v2,v2.1 to check an in-process fake)",
    )
    async with target.client as client:
        out.write(f"probing {target.label}\n")
        dialect = await client.negotiate()
        if client.negotiation_report().pinned:
            # A pinned client's negotiate() sends nothing: ask the server.
            await _check_pinned(client, dialect)
        out.write("credentials: accepted\n")
        out.write(str(client.negotiation_report()) + "\n")
    return 0


#: Who doctor asks about: any Qiscus answer, even "no such user", will do.
_NOBODY = "aioqiscus-doctor-check"


async def _check_pinned(client: QiscusClient, dialect: Dialect) -> None:
    """One authenticated read on the pinned *dialect*, or the reason it fails.

    A Qiscus envelope, even "user not found", proves the credentials and the
    dialect; 401/403 raise ``AuthenticationError``; a refused connection
    a ``TransportError``; a 404 without an envelope means the server does
    not serve *dialect*.

    Raises:
        NegotiationError: the server does not serve *dialect*.
    """
    key = "user_email" if dialect is Dialect.V2 else "user_id"
    try:
        await client.request("GET", "user_profile", params={key: _NOBODY})
    except NotFoundError as exc:
        if exc.from_envelope:
            return
        msg = (
            f"the server does not serve the pinned {dialect} dialect: GET "
            f"{dialect.prefix}/user_profile answered a 404 without a Qiscus "
            "envelope; try --api-version auto (or check --base-url)"
        )
        raise NegotiationError(msg) from exc


def _fake_server(args: argparse.Namespace, out: TextIO) -> int:
    from .testing import __main__ as fake_server  # noqa: PLC0415 - optional

    return fake_server.run(args, out, "aioqiscus")


# Each command's options and runner are imported only when that command is
# named: ``aioqiscus --help`` loads neither the fake server nor the contract
# tool (the fake alone took longer than the 150 ms the help should answer in).


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
            status = asyncio.run(_ASYNC[command](args, stream))
        stream.flush()
    except BrokenPipeError:
        # The reader went away (``aioqiscus doctor | head -1``): stop quietly.
        if stream is sys.stdout:
            _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except UsageError as exc:
        parser.exit(2, f"aioqiscus: error: {exc}\n")
    except (QiscusError, StepError, httpx.HTTPError, OSError, ValueError) as exc:
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
