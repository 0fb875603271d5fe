"""``python -m aioqiscus.testing``: serve a fake Qiscus app on loopback.

``aioqiscus fake-server`` is the same command: both take the options of
:func:`add_arguments` and run :func:`run`, so they cannot drift apart.
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from collections.abc import Sequence
from typing import TextIO

from .._cli_common import HelpFormatter
from ._fake import DIALECTS, FakeQiscus


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fake server's options to *parser*."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on (0 picks a free one)"
    )
    parser.add_argument(
        "--dialects",
        default=",".join(DIALECTS),
        help="REST dialects served, comma-separated",
    )
    parser.add_argument(
        "--app-id", default="fake-app", help="the app id the fake accepts"
    )
    parser.add_argument(
        "--secret-key", default="fake-secret", help="the secret key the fake accepts"
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="ID",
        help="register a user up front (repeatable)",
    )
    parser.add_argument(
        "--webhook-url",
        metavar="URL",
        help="POST a signed webhook here for every comment posted",
    )
    parser.add_argument(
        "--webhook-token",
        metavar="TOKEN",
        help="the token webhooks are signed with (QISCUS-SDK-SIGNATURE)",
    )


def build(args: argparse.Namespace) -> FakeQiscus:
    """The fake the options describe.

    Raises:
        ValueError: Options that do not make a fake (unknown dialects, a
            webhook URL without its token, ...).
    """
    if bool(args.webhook_url) != bool(args.webhook_token):
        msg = "give both --webhook-url and --webhook-token"
        raise ValueError(msg)
    if args.webhook_url and not args.webhook_url.startswith(("http://", "https://")):
        msg = f"--webhook-url must be an http(s) URL, got {args.webhook_url!r}"
        raise ValueError(msg)
    fake = FakeQiscus(
        app_id=args.app_id,
        secret_key=args.secret_key,
        dialects=[d.strip() for d in args.dialects.split(",") if d.strip()],
    )
    for user in args.user:
        fake.add_user(user)
    if args.webhook_url:
        fake.deliver_webhooks(args.webhook_url, args.webhook_token)
    return fake


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on *host*:*port*, bound before we say "serving"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # What uvicorn sets too: a restart need not wait out TIME_WAIT, while
        # a port another process listens on still fails.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _banner(fake: FakeQiscus, url: str, args: argparse.Namespace) -> str:
    lines = [f"fake Qiscus app serving {', '.join(sorted(fake.dialects))} on {url}"]
    if args.user:
        lines.append(f"  users: {', '.join(args.user)}")
    if args.webhook_url:
        lines.append(f"  webhooks: signed with the given token, to {args.webhook_url}")
    variables = {
        "QISCUS_APP_ID": fake.app_id,
        "QISCUS_SECRET_KEY": fake.secret_key,
        "QISCUS_BASE_URL": url,
    }
    lines.append("credentials, for aioqiscus commands or your code:")
    lines.append(
        "  export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in variables.items())
    )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, out: TextIO, prog: str) -> int:
    """Serve the fake until interrupted; the exit status.

    Bad options are exit status 2; a port that cannot be bound (in use, not
    permitted) is one line naming it and exit status 1, before anything else
    is printed.
    """
    try:
        fake = build(args)
    except ValueError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        sys.stderr.write(
            f"{prog}: error: cannot serve on {args.host} port {args.port}: {reason}\n"
        )
        return 1
    import uvicorn  # noqa: PLC0415 - optional dependency

    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    out.write(_banner(fake, f"http://{shown}:{bound[1]}", args))
    out.flush()
    config = uvicorn.Config(fake, log_level="warning", access_log=False)
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a fake Qiscus app on loopback until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m aioqiscus.testing",
        description="Serve a fake Qiscus app (both REST dialects) on loopback.",
        formatter_class=HelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv), sys.stdout, parser.prog)


if __name__ == "__main__":
    raise SystemExit(main())
