"""The ``aioqiscus`` command: demo, doctor, fake-server, export and contract.

Errors print one line naming the typed error (``--debug`` shows the
traceback); exit status 0 on success, 1 on failure, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Coroutine, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import attrs
import httpx

from . import Button, Card, QiscusClient, QiscusError, __version__, _contract
from .models import Backup, Comment

__all__ = ["main"]

ENV_APP_ID = "QISCUS_APP_ID"
ENV_SECRET = "QISCUS_SECRET_KEY"  # noqa: S105 - the name of a variable, not a secret


#: Demo users' password (on the fake, or on the app you point the demo at).
DEMO_PASSWORD = "aioqiscus-demo"  # noqa: S105 - a documented demo value


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


@attrs.define
class Target:
    """Where commands talk to: a real app, or an in-process fake."""

    client: QiscusClient
    fake: Any = None

    @property
    def label(self) -> str:
        """How to describe the target to a person."""
        if self.fake is not None:
            return "an in-process fake Qiscus server (no account needed)"
        return f"app {self.client.app_id!r}"


def _credentials(args: argparse.Namespace) -> tuple[str, str] | None:
    app_id = args.app_id or os.environ.get(ENV_APP_ID)
    secret = args.secret_key or os.environ.get(ENV_SECRET)
    if bool(app_id) != bool(secret):
        msg = f"give both --app-id and --secret-key (or {ENV_APP_ID} and {ENV_SECRET})"
        raise UsageError(msg)
    return (app_id, secret) if app_id and secret else None


def _target(args: argparse.Namespace, *, allow_fake: bool) -> Target:
    found = _credentials(args)
    version = args.api_version
    if found is None:
        if not allow_fake:
            msg = f"no credentials: pass --app-id and --secret-key or set {ENV_APP_ID}"
            raise UsageError(msg)
        from .testing import FakeQiscus  # noqa: PLC0415 - only without credentials

        fake = FakeQiscus(dialects=args.fake_dialects.split(","))
        client = QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            api_version=version,
            http_client=fake.http_client(),
        )
        return Target(client, fake)
    app_id, secret = found
    return Target(
        QiscusClient(app_id, secret, base_url=args.base_url, api_version=version)
    )


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
    target = _target(args, allow_fake=False)
    async with target.client as client:
        out.write(f"probing {client!r}\n")
        dialect = await client.negotiate()
        out.write(f"credentials: accepted\ndialect: {dialect}\n")
        out.write(str(client.negotiation_report()) + "\n")
    return 0


def _fake_server(args: argparse.Namespace, _: TextIO) -> int:
    from .testing.__main__ import main as serve_main  # noqa: PLC0415 - optional

    argv = ["--host", args.host, "--port", str(args.port), "--dialects", args.dialects]
    for user in args.user:
        argv += ["--user", user]
    return serve_main(argv)


async def _export(args: argparse.Namespace, out: TextIO) -> int:
    target = _target(args, allow_fake=True)
    if target.fake is not None:
        target.fake.export_steps = [("started", p) for p in (0, 25, 60)] + [
            ("finished", 100)
        ]
    async with target.client as client:
        backup = await client.create_export(args.resource, args.since, args.until)
        out.write(f"export {backup.id} of {args.resource} started on {target.label}\n")
        done = await client.wait_for_export(
            backup.id,
            poll_interval=args.poll_interval,
            timeout=args.timeout,
            on_progress=lambda b: _progress(b, out),
        )
        out.write("\n")
        if args.download:
            if not done.download_url:
                msg = "the finished export has no download URL"
                raise QiscusError(msg)
            await _download(done.download_url, args.out)
            out.write(f"downloaded {done.download_url} to {args.out}\n")
        else:
            args.out.write_text(json.dumps(_backup_json(done), indent=2) + "\n")
            out.write(
                f"wrote the export's details to {args.out}; the data is at "
                f"{done.download_url} (add --download to fetch it)\n"
            )
        out.write(f"{done.total_rows} rows, {done.size} bytes\n")
    return 0


def _progress(backup: Backup, out: TextIO) -> None:
    width = 30
    filled = width * backup.percentage // 100
    bar = "#" * filled + "-" * (width - filled)
    out.write(f"\r[{bar}] {backup.percentage:3d}% {backup.status:<10}")
    out.flush()


def _backup_json(backup: Backup) -> dict[str, Any]:
    data = attrs.asdict(backup)
    if backup.created_at is not None:
        data["created_at"] = backup.created_at.isoformat()
    return data


async def _download(url: str, path: Path) -> None:
    async with (
        httpx.AsyncClient(follow_redirects=True, timeout=60) as http,
        http.stream("GET", url) as response,
    ):
        response.raise_for_status()
        with path.open("wb") as handle:
            async for chunk in response.aiter_bytes():
                handle.write(chunk)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aioqiscus", description="Qiscus Chat SDK REST API from the shell."
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    def target_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--app-id", help=f"or set {ENV_APP_ID}")
        sub.add_argument("--secret-key", help=f"or set {ENV_SECRET}")
        sub.add_argument("--base-url", default=None)
        sub.add_argument(
            "--api-version", choices=["auto", "v2", "v2.1"], default="auto"
        )
        sub.add_argument(
            "--fake-dialects",
            default="v2,v2.1",
            help="dialects of the in-process fake used without credentials",
        )

    demo = commands.add_parser("demo", help="a bot scenario, on a fake by default")
    target_options(demo)
    doctor = commands.add_parser("doctor", help="check credentials and dialect")
    target_options(doctor)
    fake = commands.add_parser("fake-server", help="serve a fake app on loopback")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8080)
    fake.add_argument("--dialects", default="v2,v2.1")
    fake.add_argument("--user", action="append", default=[])
    export = commands.add_parser("export", help="export users, rooms or comments")
    target_options(export)
    export.add_argument(
        "--resource", choices=["users", "rooms", "comments"], required=True
    )
    export.add_argument("--since", type=date.fromisoformat, required=True)
    export.add_argument("--until", type=date.fromisoformat, required=True)
    export.add_argument("--out", type=Path, required=True)
    export.add_argument(
        "--download", action="store_true", help="fetch the data, not just its URL"
    )
    export.add_argument("--poll-interval", type=float, default=2.0)
    export.add_argument("--timeout", type=float, default=1800.0)
    contract = commands.add_parser(
        "contract", help="check that a server answers what aioqiscus expects"
    )
    _contract.add_arguments(contract)
    return parser


_ASYNC: dict[str, Callable[[argparse.Namespace, TextIO], Coroutine[Any, Any, int]]] = {
    "demo": _demo,
    "doctor": _doctor,
    "export": _export,
    "contract": _contract.run,
}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    stream = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        command: str = args.command
        if command == "fake-server":
            return _fake_server(args, stream)
        status = asyncio.run(_ASYNC[command](args, stream))
    except UsageError as exc:
        parser.exit(2, f"aioqiscus: error: {exc}\n")
    except (QiscusError, httpx.HTTPError, OSError, ValueError) as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"aioqiscus: {type(exc).__name__}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    if args.debug:
        sys.stderr.write(f"done in {time.perf_counter() - started:.2f} s\n")
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
