"""Run the tour against a server, record it, and compare it with the fake.

:func:`tour` runs every step of :mod:`._tour` in each dialect the server
serves, through one ``httpx.AsyncClient`` whose :class:`~._cassette.Recorder`
transport records the raw exchanges, then replays them against the fake
(:func:`~._replay.replay`) so each row of the report says whether the
server's answers have the shapes the fake, written from the documents,
answers.

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Literal, cast

import attrs
import httpx

from .. import (
    InvalidArgumentError,
    NegotiationError,
    QiscusClient,
    ResponseTooLargeError,
    __version__,
)
from ..backends import DEFAULT_MAX_RESPONSE_BYTES
from ._cassette import Cassette, Recorder, Tag, decode, tagged
from ._replay import DIALECTS, Outcome, replay
from ._steps import FAILING, Row, Run, Status, run_step
from ._tour import PROBE, STEPS, USERS

#: The two header spellings in use: v2.1 pages document dashes, v2 and every
#: SDK underscores (shared/reference/README.md). The client sends both.
SPELLINGS: Mapping[str, tuple[str, str]] = {
    "dashes": ("QISCUS-SDK-APP-ID", "QISCUS-SDK-SECRET"),
    "underscores": ("QISCUS_SDK_APP_ID", "QISCUS_SDK_SECRET"),
}


@attrs.frozen
class Settings:
    """What the command was asked to do."""

    app_id: str
    secret_key: str = attrs.field(repr=False)
    base_url: str
    prefix: str
    dialects: tuple[str, ...] = DIALECTS
    #: Whether *dialects* was chosen by the user (then "not served" fails).
    pinned: bool = False
    timeout: float = 20.0
    loopback_only: bool = False
    #: The largest answer read, decoded, recorded or not.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


@attrs.define
class Report:
    """The outcome of a tour: rows, the recorded cassette, what was left behind."""

    rows: list[Row]
    cassette: Cassette
    runs: list[Run]
    hosts: set[str]

    @property
    def failed(self) -> bool:
        """Whether the command should exit 1."""
        return any(row.status in FAILING for row in self.rows)


def _verdict(response: httpx.Response) -> str:
    body, text = decode(response.content)
    status = response.status_code
    if status in (401, 403):
        return f"refused ({status})"
    if (
        text is None
        and isinstance(body, Mapping)
        and ("status" in body or "results" in body)
    ):
        return "accepted"
    return f"unclear ({status}, not a Qiscus answer)"


async def probe_headers(
    http: httpx.AsyncClient, settings: Settings, dialect: str, user: str
) -> dict[str, str]:
    """Which credential header spellings the server accepts in *dialect*.

    Reads a missing user's profile with each spelling alone, then with none
    (which a server must refuse). Not recorded: the headers carry the secret.
    """
    key = "user_email" if dialect == "v2" else "user_id"
    url = f"{settings.base_url}/api/{dialect}/rest/user_profile"
    variants: dict[str, dict[str, str]] = {
        name: {app: settings.app_id, secret: settings.secret_key}
        for name, (app, secret) in SPELLINGS.items()
    }
    variants["none"] = {}
    found = {}
    for name, headers in variants.items():
        try:
            response = await http.get(url, params={key: user}, headers=headers)
        except (httpx.HTTPError, ResponseTooLargeError) as exc:
            found[name] = f"no answer ({type(exc).__name__})"
        else:
            found[name] = _verdict(response)
    return found


def _attach(rows: list[Row], outcomes: list[Outcome]) -> None:
    """Put each replayed exchange's findings on its row; OK rows may now differ."""
    by_exchange = {id(o.interaction): o for o in outcomes}
    for row in rows:
        found = {
            f
            for item in row.exchanges
            if id(item) in by_exchange
            for f in by_exchange[id(item)].findings
        }
        row.findings = sorted(found)
        if row.status is Status.OK and any(not f.informational for f in found):
            row.status = Status.DIFFERS


async def tour(settings: Settings) -> Report:
    """Run the tour against the server in *settings*; compare with the fake.

    Raises:
        AuthenticationError: The credentials were refused.
        InvalidArgumentError: The base URL or credentials are malformed.
    """
    try:
        base_path = httpx.URL(settings.base_url).path
    except httpx.InvalidURL as exc:
        msg = f"--base-url is not a valid URL: {exc}"
        raise InvalidArgumentError(msg) from exc
    recorder = Recorder(
        httpx.AsyncHTTPTransport(),
        base_path=base_path,
        loopback_only=settings.loopback_only,
        max_response_bytes=settings.max_response_bytes,
    )
    facts: dict[str, Any] = {
        "aioqiscus": __version__,
        "base_url": settings.base_url,
        "prefix": settings.prefix,
    }
    rows: list[Row] = []
    runs: list[Run] = []
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=recorder, timeout=settings.timeout, follow_redirects=False
            )
        )

        async def client(version: str) -> QiscusClient:
            made = QiscusClient(
                settings.app_id,
                settings.secret_key,
                base_url=settings.base_url,
                api_version=cast("Literal['auto', 'v2', 'v2.1']", version),
                http_client=http,
                retry=None,
                ambiguous_sends="raise",
                max_response_bytes=settings.max_response_bytes,
            )
            return await stack.enter_async_context(made)

        auto = await client("auto")
        with tagged(Tag("negotiate", "auto")):
            try:
                facts["auto_negotiates"] = str(await auto.negotiate())
            except NegotiationError as exc:
                facts["auto_negotiates"] = f"failed: {exc}"
        served = []
        for dialect in settings.dialects:
            run = Run(await client(dialect), dialect, settings.prefix, recorder)
            facts[dialect] = run.facts
            probe = await run_step(run, PROBE)
            rows.append(probe)
            if not run.facts.get("served"):
                if probe.status is Status.OK:
                    # Asked for by name, a missing dialect fails the run.
                    probe.status = Status.FAILED if settings.pinned else Status.SKIPPED
                continue
            served.append(dialect)
            runs.append(run)
            run.facts["headers"] = await probe_headers(
                http, settings, dialect, run.user("nobody")
            )
            rows.extend([await run_step(run, step) for step in STEPS])
        facts["dialects_served"] = served
    cassette = Cassette(facts, recorder.interactions)
    _attach(rows, await replay(cassette))
    return Report(rows, cassette, runs, recorder.hosts)


def left_behind(report: Report) -> list[str]:
    """What the tour created and could not delete, per dialect."""
    lines = []
    for run in report.runs:
        users = ", ".join(run.user(name) for name in USERS)
        rooms = ", ".join(f"{role} {rid}" for role, rid in run.rooms.items())
        lines.append(f"{run.dialect}: users {users}; rooms {rooms or 'none'}")
    return lines
