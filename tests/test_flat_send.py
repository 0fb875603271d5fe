"""A comment send's first attempt made flat decides as the retry loop would.

With nothing observing, rate-limiting, timing or logging attempts and the
dialect known, ``post_comment`` makes its first attempt itself
(``Transport.attempt_json``) and reads a success at once; any other outcome
goes to the general path as attempt 1 of the same request. For every kind
of outcome, on both dialects, a plain client must end as a client whose
attempts an event hook observes (which always takes the general path): the
same requests on the wire, in the same order, and the same comment or the
same error.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient, RateLimitedError, TokenBucket, _json
from aioqiscus._negotiate import PROBE
from aioqiscus._wire import Operation
from aioqiscus.dialects._common import Shapes

from .conftest import sample

ANSWERS = {"v2": sample("v2/post_comment"), "v2.1": sample("v21/gosdk/post_comment")}
PATHS = {"v2": "/api/v2/rest/post_comment", "v2.1": "/api/v2.1/rest/post_comment"}


def _ok(dialect: str) -> httpx.Response:
    return httpx.Response(200, json=ANSWERS[dialect])


def _unusual(dialect: str) -> httpx.Response:
    """A success the quick read refuses but the usual way reads (a string id)."""
    answer = json.loads(json.dumps(ANSWERS[dialect]))
    answer["results"]["comment"]["id"] = "4242"
    return httpx.Response(200, json=answer)


def _raise(error: type[Exception]) -> Callable[[httpx.Request], httpx.Response]:
    def side_effect(request: httpx.Request) -> httpx.Response:
        raise error("injected", request=request)  # type: ignore[call-arg]

    return side_effect


#: Each scenario: the answers to successive attempts (a response, or a
#: function raising the transport's error), then what the room holds.
SCENARIOS: dict[str, Callable[[str], list[Any]]] = {
    "success": lambda d: [_ok(d)],
    "success read the usual way": lambda d: [_unusual(d)],
    "unreadable success": lambda _: [httpx.Response(200, text="<html>oops</html>")],
    "refused then success": lambda d: [httpx.Response(503), _ok(d)],
    "rate limited then success": lambda d: [
        httpx.Response(429, headers={"Retry-After": "0"}),
        _ok(d),
    ],
    "server error": lambda _: [httpx.Response(500)],
    "error envelope": lambda _: [
        httpx.Response(
            400,
            json={"status": 400, "error": {"message": "room not found"}},
        )
    ],
    "bare not found": lambda _: [httpx.Response(404, text="Not Found")],
    "never sent, then success": lambda d: [_raise(httpx.ConnectError), _ok(d)],
    "may have been sent": lambda _: [_raise(httpx.ReadTimeout)],
}


async def _run(
    mock: Any, dialect: str, scenario: str, *, observed: bool, limited: bool = False
) -> tuple[Any, list[Any]]:
    """The outcome of one post_text, and the bodies of the requests sent."""
    answers = SCENARIOS[scenario](dialect)
    route = mock.post(PATHS[dialect])
    route.side_effect = [*answers, *([_ok(dialect)] * 3)]
    hooks = {"request": [lambda _: None]} if observed else None
    # A bucket that never limits here: its token is taken on either path.
    bucket = TokenBucket(rate=1000, burst=100) if limited else None
    async with QiscusClient(
        "app",
        "secret",
        api_version=dialect,
        event_hooks=hooks,
        rate_limit=bucket,
        ambiguous_sends="raise",
    ) as client:
        try:
            found: Any = await client.post_text(
                "234", "bot@example.com", "hi", unique_temp_id="m-1"
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
            found = (type(exc), str(exc))
    bodies = [json.loads(call.request.content) for call in route.calls]
    route.reset()
    return found, bodies


@pytest.mark.parametrize("limited", [False, True], ids=["", "rate-limited"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("dialect", ["v2", "v2.1"])
async def test_every_outcome_ends_as_on_the_general_path(
    mock: Any, dialect: str, scenario: str, limited: bool
) -> None:
    flat = await _run(mock, dialect, scenario, observed=False, limited=limited)
    general = await _run(mock, dialect, scenario, observed=True, limited=limited)
    assert flat == general
    assert flat[1], "no request was sent"


@pytest.fixture
def general(monkeypatch: pytest.MonkeyPatch) -> list[Operation]:
    """The operations that went through the general path (``_call``)."""
    seen: list[Operation] = []
    call = QiscusClient._call

    async def spy(
        self: QiscusClient, operation: Operation, *args: Any, **kw: Any
    ) -> Any:
        seen.append(operation)
        return await call(self, operation, *args, **kw)

    monkeypatch.setattr(QiscusClient, "_call", spy)
    return seen


@pytest.mark.parametrize("dialect", ["v2", "v2.1"])
async def test_a_plain_send_takes_the_flat_path(
    mock: Any, general: list[Operation], dialect: str
) -> None:
    """A usual success never reaches the general path; an observed send does."""
    route = mock.post(PATHS[dialect]).mock(side_effect=lambda _: _ok(dialect))
    async with QiscusClient("app", "secret", api_version=dialect) as client:
        comment = await client.post_text("234", "bot@example.com", "hi")
    assert general == []
    assert comment.message
    # A rate limit does not take a send off the flat path: the token is
    # taken before the attempt, as the retry loop takes it.
    bucket = TokenBucket(rate=1, burst=1, max_wait=0)
    async with QiscusClient(
        "app", "secret", api_version=dialect, rate_limit=bucket
    ) as client:
        await client.post_text("234", "bot@example.com", "hi")
        assert general == []
        with pytest.raises(RateLimitedError):
            # The bucket is empty and waits for nothing: refused, not sent.
            await client.post_text("234", "bot@example.com", "again")
    assert route.call_count == 2
    hooks = {"request": [lambda _: None]}
    async with QiscusClient(
        "app", "secret", api_version=dialect, event_hooks=hooks
    ) as client:
        await client.post_text("234", "bot@example.com", "hi")
    assert general == [Operation.POST_COMMENT]


async def test_auto_negotiates_first_then_sends_flat(
    mock: Any, general: list[Operation]
) -> None:
    """Before the dialect is known the general path negotiates; then sends go flat."""
    mock.post(PATHS["v2.1"]).mock(side_effect=lambda _: _ok("v2.1"))
    # The probe's user is unknown: an enveloped 404 means v2.1.
    not_found = {"status": 404, "error": {"message": "user not found"}}
    mock.get(PROBE.path).respond(404, json=not_found)
    async with QiscusClient("app", "secret") as client:
        first = await client.post_text("234", "bot@example.com", "one")
        second = await client.post_text("234", "bot@example.com", "two")
    assert general == [Operation.POST_COMMENT]
    assert first == second


@pytest.mark.skipif(importlib.util.find_spec("msgspec") is None, reason="needs msgspec")
async def test_the_flat_read_follows_the_json_library(
    mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client keeps the send's reader while the JSON library stays the same."""
    mock.post(PATHS["v2.1"]).mock(side_effect=lambda _: _ok("v2.1"))
    by_dicts: list[str | None] = []
    read = Shapes._read_dict_sent  # the reader without msgspec

    def spy(self: Shapes, answer: bytes, room_id: str | None) -> Any:
        by_dicts.append(room_id)
        return read(self, answer, room_id)

    monkeypatch.setattr(Shapes, "_read_dict_sent", spy)
    before = _json.BACKEND
    found = []
    try:
        async with QiscusClient("app", "secret", api_version="v2.1") as client:
            # The dict reader reads the second send only.
            for backend, dict_reads in (("msgspec", 0), ("json", 1), ("msgspec", 1)):
                _json.use(backend)
                found.append(await client.post_text("234", "bot@example.com", "hi"))
                assert by_dicts == ["234"] * dict_reads
    finally:
        _json.use(before)
    assert found[0] == found[1] == found[2]


async def test_a_burst_beyond_max_in_flight_waits_its_turn(mock: Any) -> None:
    """Sends beyond the bound wait for a slot; every slot is given back, failed or not."""
    in_flight = most = calls = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most, calls
        calls += 1
        number = calls
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.01)
            if number % 4 == 0:  # a quarter time out: their fate is unknown
                raise httpx.ReadTimeout("injected", request=request)
            return _ok("v2.1")
        finally:
            in_flight -= 1

    mock.post(PATHS["v2.1"]).mock(side_effect=slow)
    async with QiscusClient(
        "app", "secret", api_version="v2.1", max_in_flight=2, ambiguous_sends="raise"
    ) as client:
        with anyio.fail_after(10):
            found = await asyncio.gather(
                *(
                    client.post_text("234", "bot@example.com", f"m{i}")
                    for i in range(12)
                ),
                return_exceptions=True,
            )
        limiter = client._transport.loops.here().limiter
        assert (limiter.value, most) == (2, 2)  # bounded, and every slot given back
    kinds = sorted(type(f).__name__ for f in found)
    assert kinds == ["AmbiguousSendError"] * 3 + ["Comment"] * 9
