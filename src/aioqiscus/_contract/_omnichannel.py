"""The Omnichannel tour of ``aioqiscus contract --omnichannel`` (read-only).

Runs each Omnichannel read through :class:`~aioqiscus.omnichannel.OmnichannelClient`
on the user's app, keeps the raw answer, runs the same read on a fake set up
with one record of each kind, and compares the two answers' shapes
(:func:`~._shape.diff`): ``ok`` when the client read the answer and its shape
is the fake's, ``differs`` when the shapes differ, ``refused`` on 401/403,
``failed`` when the client could not read it, ``skipped`` when the step needs
a room (``--omnichannel-room``) or a division the app lacks. Nothing is
written: the Omnichannel writes (tags, assignment, resolve, bot switch, bot
messages) act on real customers' rooms, so the tour leaves them out.

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx

from ..errors import AuthenticationError, QiscusError
from ._cassette import decode, is_loopback
from ._shape import Finding, diff
from ._steps import Row, Status

__all__ = ["OMNI_STEPS", "OmniSettings", "omnichannel_tour"]

#: The dialect column of the report's Omnichannel rows.
DIALECT = "omni"
#: What the fake's customer is called.
_CUSTOMER = "6281234567890"


@attrs.frozen
class OmniSettings:
    """What ``--omnichannel`` was asked to do."""

    app_code: str
    secret_key: str = attrs.field(repr=False)
    base_url: str
    room_id: str | None = None
    timeout: float = 20.0
    loopback_only: bool = False


class _Capture(httpx.AsyncBaseTransport):
    """Keep each answer's body; refuse non-loopback hosts when asked to."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, loopback_only: bool) -> None:
        self.inner = inner
        self.loopback_only = loopback_only
        self.bodies: list[tuple[int, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.loopback_only and not is_loopback(request.url.host):
            msg = f"refused: {request.url.host} is not a loopback host"
            raise httpx.ConnectError(msg, request=request)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.bodies.append((response.status_code, content))
        return httpx.Response(
            response.status_code, headers=response.headers, content=content
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


#: The ids a step needs: the room (``--omnichannel-room``) and a division.
Ids = dict[str, str]
Step = tuple[str, Callable[[Any, Ids], Awaitable[Any]], tuple[str, ...]]


async def _first(listing: Any) -> Any:
    async for item in listing:
        await listing.aclose()
        return item
    return None


async def _divisions(omni: Any, ids: Ids) -> Any:
    division = await _first(omni.iter_divisions())
    if division is not None:
        ids["division"] = division.id
    return division


#: (operation, call, the ids it needs), in order.
OMNI_STEPS: tuple[Step, ...] = (
    ("list_channels", lambda o, _i: o.list_channels(), ()),
    ("iter_divisions", _divisions, ()),
    ("iter_agents", lambda o, _i: _first(o.iter_agents()), ()),
    (
        "iter_agents_by_division",
        lambda o, i: _first(o.iter_agents_by_division([i["division"]])),
        ("division",),
    ),
    ("get_customer_room", lambda o, i: o.get_customer_room(i["room"]), ("room",)),
    ("get_room_tags", lambda o, i: o.get_room_tags(i["room"]), ("room",)),
    ("get_customer_info", lambda o, i: o.get_customer_info(i["room"]), ("room",)),
    (
        "iter_available_agents",
        lambda o, i: _first(o.iter_available_agents(i["room"])),
        ("room",),
    ),
)


@attrs.define
class _Answer:
    status: Status
    detail: str = ""
    body: Any = None


async def _run(
    settings: OmniSettings, transport: httpx.AsyncBaseTransport
) -> dict[str, _Answer]:
    """Every step through one client; each step's status and raw answer."""
    from ..omnichannel import OmnichannelClient  # noqa: PLC0415 - its own package

    capture = _Capture(transport, loopback_only=settings.loopback_only)
    ids: Ids = {} if settings.room_id is None else {"room": settings.room_id}
    answers: dict[str, _Answer] = {}
    async with (
        httpx.AsyncClient(transport=capture, timeout=settings.timeout) as http,
        OmnichannelClient(
            settings.app_code,
            settings.secret_key,
            base_url=settings.base_url,
            http_client=http,
        ) as omni,
    ):
        for name, call, needs in OMNI_STEPS:
            missing = [n for n in needs if n not in ids]
            if missing:
                answers[name] = _Answer(Status.SKIPPED, f"needs a {missing[0]}")
                continue
            before = len(capture.bodies)
            try:
                await call(omni, ids)
            except AuthenticationError as exc:
                answers[name] = _Answer(Status.REFUSED, str(exc))
                continue
            except QiscusError as exc:
                answer = _Answer(Status.FAILED, f"{type(exc).__name__}: {exc}")
            else:
                answer = _Answer(Status.OK)
            if len(capture.bodies) > before:
                answer.body = decode(capture.bodies[before][1])[0]
            answers[name] = answer
    return answers


async def _fake_settings() -> tuple[OmniSettings, httpx.AsyncBaseTransport]:
    """A fake app with one record of each kind, and settings to tour it."""
    from ..testing import FakeQiscus  # noqa: PLC0415 - only for the comparison

    fake = FakeQiscus()
    omni = fake.omnichannel
    for kind in ("custom", "fb", "ig", "line", "qiscus", "telegram", "wa"):
        channel = omni.add_channel(kind, f"{kind} channel")
    division = omni.add_division("Support", is_default=True)
    omni.add_agent("Agent", "agent@example.com", divisions=[division])
    await omni.customer_says(_CUSTOMER, "hello", channel=channel)
    room = omni.customer_room(_CUSTOMER, channel)
    settings = OmniSettings(
        fake.app_id,
        fake.secret_key,
        "http://127.0.0.1",
        room_id=str(room.room_id),
    )
    return settings, fake.transport()


def _nullable(finding: Finding) -> bool:
    """Whether *finding* only says a value is ``null`` on one side.

    No source tells which Omnichannel fields may be null (omnichannel.md
    5.2), and a field the fake fills (a customer's last message) is null on
    an app where it never happened: not a difference.
    """
    if finding.kind != "type":
        return False
    expected, _, actual = finding.detail.partition(" -> ")
    return expected == "null" or "null" in actual.split("|")


async def omnichannel_tour(settings: OmniSettings) -> list[Row]:
    """Tour the app's Omnichannel reads; one report row per operation."""
    server = await _run(settings, httpx.AsyncHTTPTransport())
    expected = await _run(*await _fake_settings())
    rows = []
    for name, _call, _needs in OMNI_STEPS:
        answer = server[name]
        row = Row(name, DIALECT, answer.status, answer.detail)
        if answer.status is Status.OK and answer.body is not None:
            row.findings = [
                f for f in diff(answer.body, expected[name].body) if not _nullable(f)
            ]
            if any(not f.informational for f in row.findings):
                row.status = Status.DIFFERS
        rows.append(row)
    return rows
