"""What the ``aioqiscus`` commands share: credentials, targets, errors, help.

Strictly private. Holds where a command talks to (:class:`Target`, a real app
from options or ``QISCUS_*`` variables, or an in-process fake), the errors
the command line reports (:class:`UsageError`, :class:`StepError` naming the
step of a command that failed), and the help formatter every parser uses.

Light on purpose: ``aioqiscus --help`` imports it, so httpx and the client
are imported only by the functions that need them, when a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os

#: ``typing.TYPE_CHECKING`` without importing typing (see ``__init__``).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ._client import QiscusClient

ENV_APP_ID = "QISCUS_APP_ID"
ENV_SECRET = "QISCUS_SECRET_KEY"  # noqa: S105 - the name of a variable, not a secret
ENV_BASE_URL = "QISCUS_BASE_URL"


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class StepError(Exception):
    """A step of a command failed; names the step and the error (exit 1)."""

    def __init__(self, command: str, step: str, error: BaseException) -> None:
        self.command = command
        self.step = step
        self.error = error
        super().__init__(f"{command} failed at the {step} step: {one_line(error)}")


def one_line(error: BaseException) -> str:
    """The error's type and message on one line (httpx's span two)."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def step_failures() -> tuple[type[BaseException], ...]:
    """What a step may fail with; anything else is a bug and keeps its traceback."""
    import httpx  # noqa: PLC0415 - loaded by the time a step fails

    from .errors import QiscusError  # noqa: PLC0415 - likewise

    return (QiscusError, httpx.HTTPError, OSError)


@contextlib.contextmanager
def step(command: str, name: str) -> Iterator[None]:
    """Report a failure inside the block as :class:`StepError` (*name*)."""
    try:
        yield
    except BrokenPipeError:
        # Our own output went away: not the step's fault (see _cli.main).
        raise
    except step_failures() as exc:
        raise StepError(command, name, exc) from exc


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show each option's default, unless it has none worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, []) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action) or ""


class Target:
    """Where commands talk to: a real app, or an in-process fake."""

    def __init__(self, client: QiscusClient, fake: Any = None, url: str = "") -> None:
        self.client = client
        self.fake = fake
        self.url = url

    @property
    def label(self) -> str:
        """How to describe the target to a person."""
        if self.fake is not None:
            return "an in-process fake Qiscus server (no account needed)"
        return f"app {self.client.app_id!r} at {self.url}"


def _names(side: str) -> tuple[str, str]:
    """The option prefix and variable prefix of *side* (``""``: the one app).

    ``"source"`` gives ``--source-app-id`` and ``QISCUS_SOURCE_APP_ID``;
    ``""`` gives ``--app-id`` and ``QISCUS_APP_ID``.
    """
    if not side:
        return "", "QISCUS"
    return f"{side}-", f"QISCUS_{side.upper()}"


def _option(args: argparse.Namespace, side: str, name: str) -> str | None:
    """Option *name* of *side* (``app_id``...), else its ``QISCUS_*`` variable."""
    prefix, env = _names(side)
    value = getattr(args, (prefix + name).replace("-", "_"))
    return value or os.environ.get(f"{env}_{name.upper()}") or None


def credentials(args: argparse.Namespace, side: str = "") -> tuple[str, str] | None:
    """The app id and secret from the options or the environment, if given.

    *side* names one of several apps (``"source"``: ``--source-app-id``,
    ``QISCUS_SOURCE_APP_ID``...); ``""`` the only one.

    Raises:
        UsageError: Only one of the two was given.
    """
    app_id = _option(args, side, "app_id")
    secret = _option(args, side, "secret_key")
    if bool(app_id) != bool(secret):
        prefix, env = _names(side)
        msg = (
            f"give both --{prefix}app-id and --{prefix}secret-key "
            f"(or {env}_APP_ID and {env}_SECRET_KEY)"
        )
        raise UsageError(msg)
    return (app_id, secret) if app_id and secret else None


def require_credentials(
    args: argparse.Namespace, hint: str = "", side: str = ""
) -> tuple[str, str]:
    """The credentials, or a usage error saying how to give them (and *hint*)."""
    found = credentials(args, side)
    if found is None:
        prefix, env = _names(side)
        how = (
            f"pass --{prefix}app-id and --{prefix}secret-key, "
            f"or set {env}_APP_ID and {env}_SECRET_KEY"
        )
        whose = f"{side} " if side else ""
        raise UsageError(f"no {whose}credentials: {how}{hint}")
    return found


def base_url(args: argparse.Namespace, side: str = "") -> str | None:
    """``--base-url``, else ``QISCUS_BASE_URL``, else None (the default host).

    *side* as for :func:`credentials`.
    """
    return _option(args, side, "base_url")


def target(args: argparse.Namespace, *, allow_fake: bool, hint: str = "") -> Target:
    """The app the options name, or without credentials an in-process fake.

    Raises:
        UsageError: No credentials and *allow_fake* is false.
    """
    from ._client import QiscusClient  # noqa: PLC0415 - when a command runs
    from ._transport import DEFAULT_BASE_URL  # noqa: PLC0415 - likewise

    version = args.api_version
    found = credentials(args)
    if found is None:
        if not allow_fake:
            require_credentials(args, hint)
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
    url = base_url(args) or DEFAULT_BASE_URL
    return Target(
        QiscusClient(app_id, secret, base_url=url, api_version=version), url=url
    )


def add_target_options(
    parser: argparse.ArgumentParser, *, fake_dialects: str | None
) -> None:
    """Options saying which app to talk to (credentials, URL, dialect)."""
    from ._transport import DEFAULT_BASE_URL  # noqa: PLC0415 - a command is named

    parser.add_argument("--app-id", help=f"the app id (or set {ENV_APP_ID})")
    parser.add_argument(
        "--secret-key", help=f"the secret key (or set {ENV_SECRET}; safer)"
    )
    parser.add_argument(
        "--base-url",
        help=f"the server (or set {ENV_BASE_URL}); {DEFAULT_BASE_URL} if unset",
    )
    parser.add_argument(
        "--api-version",
        choices=["auto", "v2", "v2.1"],
        default="auto",
        help="the dialect: negotiated (auto) or pinned",
    )
    parser.add_argument(
        "--fake-dialects",
        default=fake_dialects,
        help="without credentials, use an in-process fake serving these dialects",
    )
