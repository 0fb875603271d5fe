"""``aioqiscus contract``: is this server what aioqiscus and its fake assume?

The only code that may talk to a real Qiscus host, and only when a user runs
it with their credentials. It tours every endpoint the client implements
that cannot harm the app (:mod:`._tour`), on disposable users and rooms
named with a per-run prefix; records the raw exchanges (:mod:`._cassette`);
replays them against the fake and compares every answer's shape
(:mod:`._replay`, :mod:`._shape`); and prints, per operation and dialect,
``ok``, ``differs``, ``refused``, ``failed`` or ``skipped``, then the server
facts that change the client's behaviour. ``--record FILE`` writes the
redacted cassette; ``--compare FILE`` replays one against the fake.

Layout (strictly private): ``_shape`` (pure shape comparison),
``_cassette`` (recording transport, cassette file, redaction), ``_replay``
(id mapping, replay against the fake), ``_steps`` (what a step is and how
one runs), ``_tour`` (the table of steps), ``_live`` (running the tour and
collecting facts), this module (the command line and the report).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from pathlib import Path
from typing import Any, TextIO

from .._cli_common import ENV_BASE_URL, UsageError, require_credentials
from ..backends import DEFAULT_MAX_RESPONSE_BYTES
from ..errors import QiscusError
from ._cassette import Cassette, loopback_only_from_env, redact
from ._live import Report, Settings, left_behind, tour
from ._omnichannel import OmniSettings, omnichannel_tour
from ._replay import DIALECTS, replay, served_dialects
from ._steps import FAILING, Row, Status

__all__ = ["add_arguments", "run"]

#: The server when neither --base-url nor QISCUS_BASE_URL says (DESIGN.md).
DEFAULT_BASE_URL = "https://api.qiscus.com"
#: The Omnichannel host when neither --omnichannel-url nor the variable says
#: (the Go SDK's default, omnichannel.md section 1).
OMNICHANNEL_URL = "https://multichannel.qiscus.com"
ENV_OMNICHANNEL_URL = "QISCUS_OMNICHANNEL_URL"
#: A prefix must be long and distinctive: redaction keeps every string that
#: holds it, and v2.1 user ids allow only letters, digits and ``.-_@``.
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,47}$")
_RANK = {
    Status.SKIPPED: 0,
    Status.OK: 1,
    Status.DIFFERS: 2,
    Status.REFUSED: 3,
    Status.FAILED: 4,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``contract`` command's options to *parser*."""
    parser.add_argument("--app-id", help="or set QISCUS_APP_ID")
    parser.add_argument("--secret-key", help="or set QISCUS_SECRET_KEY")
    parser.add_argument(
        "--base-url", help=f"or set {ENV_BASE_URL}; default {DEFAULT_BASE_URL}"
    )
    parser.add_argument(
        "--dialects",
        choices=["auto", "v2", "v2.1"],
        default="auto",
        help="tour every dialect the server serves (auto), or one",
    )
    files = parser.add_mutually_exclusive_group()
    files.add_argument(
        "--record", type=Path, metavar="FILE", help="write the redacted cassette"
    )
    files.add_argument(
        "--compare",
        type=Path,
        metavar="FILE",
        help="replay a cassette against the fake instead of touring a server",
    )
    parser.add_argument(
        "--prefix", help="name prefix of the disposable users and rooms (random)"
    )
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per request"
    )
    parser.add_argument(
        "--max-response-bytes",
        type=int,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        metavar="N",
        help="the largest answer read, decoded (32 MiB)",
    )
    omni = parser.add_argument_group(
        "Omnichannel", "tour the app's Omnichannel reads instead (nothing written)"
    )
    omni.add_argument(
        "--omnichannel",
        action="store_true",
        help="tour the Omnichannel API (the same app code and secret key)",
    )
    omni.add_argument(
        "--omnichannel-url",
        metavar="URL",
        help=f"or set {ENV_OMNICHANNEL_URL}; default {OMNICHANNEL_URL}",
    )
    omni.add_argument(
        "--omnichannel-room",
        metavar="ROOM_ID",
        help="a customer room to read (its tags, customer info, agents)",
    )


def _settings(args: argparse.Namespace) -> Settings:
    found = require_credentials(args)
    prefix = args.prefix or f"aioqiscus-contract-{secrets.token_hex(3)}"
    if not _PREFIX.match(prefix):
        msg = "--prefix must be 8 to 48 letters, digits, '.', '-' or '_'"
        raise UsageError(msg)
    if args.timeout <= 0:
        msg = "--timeout must be > 0"
        raise UsageError(msg)
    if args.max_response_bytes <= 0:
        msg = "--max-response-bytes must be > 0"
        raise UsageError(msg)
    base = args.base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    pinned = args.dialects != "auto"
    return Settings(
        app_id=found[0],
        secret_key=found[1],
        base_url=base.rstrip("/"),
        prefix=prefix,
        dialects=(args.dialects,) if pinned else DIALECTS,
        pinned=pinned,
        timeout=args.timeout,
        max_response_bytes=args.max_response_bytes,
        loopback_only=loopback_only_from_env(),
    )


async def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``aioqiscus contract``; returns the exit status."""
    if args.omnichannel:
        return await run_omnichannel(args, out)
    if args.compare is not None:
        return await compare(args.compare, out)
    settings = _settings(args)
    out.write(
        f"aioqiscus contract: app {settings.app_id!r} at {settings.base_url} "
        f"(disposable names start with {settings.prefix})\n"
        "each comment the tour posts fires the app's webhook (a bot there "
        "receives it)\n\n"
    )
    report = await tour(settings)
    _print_report(report, out)
    if args.record is not None:
        safe = redact(
            report.cassette,
            prefix=settings.prefix,
            secret=settings.secret_key,
            app_id=settings.app_id,
        )
        safe.save(args.record)
        out.write(f"wrote the redacted cassette to {args.record}\n")
    return 1 if report.failed else 0


async def run_omnichannel(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``aioqiscus contract --omnichannel``: the read-only Omnichannel tour."""
    if args.record is not None or args.compare is not None:
        msg = "--omnichannel records no cassette: drop --record/--compare"
        raise UsageError(msg)
    app_code, secret = require_credentials(args)
    base = (
        args.omnichannel_url or os.environ.get(ENV_OMNICHANNEL_URL) or OMNICHANNEL_URL
    )
    settings = OmniSettings(
        app_code,
        secret,
        base.rstrip("/"),
        room_id=args.omnichannel_room,
        timeout=args.timeout,
        loopback_only=loopback_only_from_env(),
    )
    out.write(
        f"aioqiscus contract --omnichannel: app {app_code!r} at {settings.base_url} "
        "(reads only)\n\n"
    )
    try:
        rows = await omnichannel_tour(settings)
    except QiscusError as exc:  # a refused base URL or app code
        raise UsageError(str(exc)) from exc
    out.write(render_rows(rows) + "\n")
    return 1 if any(row.status in FAILING for row in rows) else 0


# ---------------------------------------------------------------- report


def merge_rows(rows: list[Row]) -> list[Row]:
    """One row per operation and dialect: the worst status, every detail."""
    merged: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row.operation, row.dialect)
        seen = merged.get(key)
        if seen is None:
            merged[key] = Row(
                row.operation,
                row.dialect,
                row.status,
                row.detail,
                list(row.exchanges),
                list(row.findings),
            )
            continue
        if _RANK[row.status] > _RANK[seen.status]:
            seen.status = row.status
        seen.detail = "; ".join(d for d in (seen.detail, row.detail) if d)
        seen.exchanges += row.exchanges
        seen.findings = sorted(set(seen.findings) | set(row.findings))
    return list(merged.values())


def render_rows(rows: list[Row]) -> str:
    """The table: operation, dialect, result, detail; findings indented below."""
    table = merge_rows(rows)
    width = max([len("operation"), *(len(r.operation) for r in table)])
    lines = [f"{'operation':<{width}}  dialect  result   detail"]
    for row in table:
        lines.append(
            f"{row.operation:<{width}}  {row.dialect:<7}  "
            f"{row.status.value:<7}  {row.detail}".rstrip()
        )
        # Findings go under the result column, one per line.
        indent = " " * (width + 11)
        lines.extend(f"{indent}{finding}" for finding in row.findings)
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [
            f"{k} ({_fmt(v)})" if isinstance(v, dict) else f"{k} {_fmt(v)}"
            for k, v in value.items()
        ]
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def render_facts(facts: dict[str, Any]) -> str:
    """The server facts, one dialect block after the general ones."""
    lines = ["server facts"]
    served = facts.get("dialects_served", [])
    lines.append(
        f"  dialects served: {_fmt(served)}; "
        f"auto negotiates: {facts.get('auto_negotiates', '?')}"
    )
    for dialect in DIALECTS:
        details = facts.get(dialect)
        if not isinstance(details, dict):
            continue
        lines.append(f"  {dialect}:")
        lines.extend(f"    {key}: {_fmt(value)}" for key, value in details.items())
    return "\n".join(lines)


def _print_report(report: Report, out: TextIO) -> None:
    out.write(render_rows(report.rows) + "\n\n")
    out.write(render_facts(report.cassette.server) + "\n\n")
    behind = left_behind(report)
    if behind:
        out.write("left on the server (the API cannot delete users or rooms):\n")
        out.writelines(f"  {line}\n" for line in behind)
    interactions = report.cassette.interactions
    operations = {i.operation for i in interactions}
    counts = {s: sum(r.status is s for r in merge_rows(report.rows)) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    out.write(
        f"{len(interactions)} exchanges over {len(operations)} operations; {summary}\n"
    )


# ---------------------------------------------------------------- compare


async def compare(path: Path, out: TextIO) -> int:
    """Replay the cassette at *path* against the fake; 1 if any shape differs."""
    cassette = Cassette.load(path)
    outcomes = await replay(cassette)
    dialects = ", ".join(served_dialects(cassette))
    out.write(
        f"replayed {len(outcomes)} exchanges recorded {cassette.recorded_at or '?'} "
        f"against the fake serving {dialects}\n"
    )
    differing: dict[str, None] = {}
    extra: dict[str, None] = {}
    for outcome in outcomes:
        item = outcome.interaction
        for finding in outcome.findings:
            line = f"{item.operation} {item.dialect} {finding}"
            (extra if finding.informational else differing)[line] = None
    if extra:
        out.write("keys the server adds (informational):\n")
        out.writelines(f"  {line}\n" for line in extra)
    if differing:
        out.write("differences from the fake:\n")
        out.writelines(f"  {line}\n" for line in differing)
        bad = sum(o.differs for o in outcomes)
        out.write(
            f"{len(differing)} differences in {bad} of {len(outcomes)} exchanges\n"
        )
        return 1
    out.write("every answer has the shape the fake answers\n")
    return 0
