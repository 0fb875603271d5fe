"""``aioqiscus demo`` and ``aioqiscus doctor``: what they run.

Strictly private. Imported by :mod:`aioqiscus._cli` when one of them is
named, so ``aioqiscus --help`` loads neither httpx nor the client.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import httpx

from . import __version__
from ._cli_common import target as _target
from ._client import QiscusClient
from ._wire import Dialect
from .errors import NegotiationError, NotFoundError
from .models import Comment
from .payloads import Button, Card

__all__ = ["demo", "doctor"]

#: Demo users' password (on the fake, or on the app you point the demo at).
DEMO_PASSWORD = "aioqiscus-demo"  # noqa: S105 - a documented demo value


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


async def demo(args: argparse.Namespace, out: TextIO) -> int:
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


async def doctor(args: argparse.Namespace, out: TextIO) -> int:
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
