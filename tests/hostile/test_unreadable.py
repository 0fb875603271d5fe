"""Issue 25 item 3: a send answered 200 whose body cannot be read is ambiguous.

The comment may well be stored: the same reconcile path as a timeout runs
(found: returned; absent: resent once), and an unsettled send raises
``AmbiguousSendError`` with the marker, on both backends alike.
"""

from __future__ import annotations

import collections

import anyio
import pytest

from aioqiscus import AmbiguousSendError, QiscusClient
from aioqiscus.testing import FakeQiscus

from ..conftest import ALICE, BOB
from ._servers import call, endpoint

BACKENDS = ["httpx", "aiohttp"]
LIMIT = 256 * 1024

#: What the gateway answers, with status 200, once the fake stored the send.
BODIES = {
    "unreadable-json": (
        b'{"status": 200, "results": {"comment": ',
        b"application/json",
    ),
    "html": (b"<html>upstream said OK</html>", b"text/html"),
    "wrong-shape": (b'{"status": 200, "results": {"comment": 7}}', b"application/json"),
    "over-limit": (b'{"pad": "' + b"x" * (2 * LIMIT) + b'"}', b"application/json"),
    "over-limit-declared": (b"x" * (2 * LIMIT), b"application/json"),
}


def stored_then(kind: str, holder: dict, times: int = 1):
    """A hook: the first *times* sends are stored, then answered 200 with *kind*."""

    async def hook(scope, body, send):
        if endpoint(scope) != "post_comment" or holder.get("sent", 0) >= times:
            return False
        holder["sent"] = holder.get("sent", 0) + 1
        await call(holder["fake"], scope, body)
        content, ctype = BODIES[kind]
        headers = [(b"content-type", ctype)]
        if kind != "over-limit":  # undeclared: the limit is passed while reading
            headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return True

    return hook


def texts(fake: FakeQiscus, room_id: str) -> collections.Counter[str]:
    return collections.Counter(c.message for c in fake.room(room_id).comments)


def start(gateway, kind: str, times: int = 1) -> tuple[FakeQiscus, str, str]:
    holder: dict = {}
    fake, url = gateway(stored_then(kind, holder, times))
    holder["fake"] = fake
    room_id = str(fake.store.create_room("R", "group", ALICE, [BOB]).id)
    return fake, url, room_id


def client_for(fake: FakeQiscus, url: str, backend: str, **kwargs) -> QiscusClient:
    return QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url=url,
        api_version="v2.1",
        backend=backend,
        max_response_bytes=LIMIT,
        reconcile_delay=0.01,
        **kwargs,
    )


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("backend", BACKENDS)
async def test_found_not_raised(gateway, backend, kind):
    """A stored send answered 200 with an unreadable body is found by the look-up and returned."""
    fake, url, room_id = start(gateway, kind)
    async with client_for(fake, url, backend) as client:
        with anyio.fail_after(10):
            comment = await client.post_text(room_id, ALICE, "stored")
    assert comment.message == "stored"
    assert texts(fake, room_id)["stored"] == 1
    assert len(fake.requests("post_comment")) == 1


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("backend", BACKENDS)
async def test_raise_carries_the_marker(gateway, backend, kind):
    """With on_ambiguous="raise", the error carries the marker that finds the comment."""
    fake, url, room_id = start(gateway, kind)
    async with client_for(fake, url, backend) as client:
        with anyio.fail_after(10):
            with pytest.raises(AmbiguousSendError) as info:
                await client.post_text(room_id, ALICE, "settle", on_ambiguous="raise")
            marker = info.value.marker
            assert marker is not None
            found = await client.find_comment(room_id, marker)
    assert found is not None
    assert found.message == "settle"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_resend_unreadable_too(gateway, backend):
    """Both the send and its resend answered unreadably, yet stored: found, one comment."""
    fake, url, room_id = start(gateway, "unreadable-json", times=2)
    async with client_for(fake, url, backend) as client:
        with anyio.fail_after(10):
            comment = await client.post_text(room_id, ALICE, "twice?")
    assert comment.message == "twice?"
    assert texts(fake, room_id)["twice?"] == 1
