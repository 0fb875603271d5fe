"""Item 6: negotiation learns from lasting evidence only, and forgets.

One bare 404 on a borrowed route is not proof a dialect is gone; a server
whose negotiated dialect starts 404ing is probed again; a JSON 404 that is
not a Qiscus envelope proves nothing about v2.1.
"""

from __future__ import annotations

import anyio
import pytest

import aioqiscus._negotiate
from aioqiscus import (
    Dialect,
    NegotiationError,
    NotFoundError,
    QiscusClient,
    UnsupportedOperationError,
)

from ..conftest import ALICE, BOB
from ._servers import answer

PROBE_USER = dict(aioqiscus._negotiate.PROBE.query)["user_id"]


def auto_client(fake, url) -> QiscusClient:
    return QiscusClient(fake.app_id, fake.secret_key, base_url=url)


def probes(fake) -> int:
    """How many dialect probes the fake received."""
    return len([e for e in fake.journal if PROBE_USER in dict(e.query).values()])


@pytest.fixture(autouse=True)
def _both_dialects_after(served):
    """The tests switch the shared fake's dialects; give it back with both."""
    yield
    served[0].reset(dialects=("v2", "v2.1"))


def with_comment(fake):
    fake.reset(dialects=("v2", "v2.1"))
    fake.add_user(ALICE)
    fake.add_user(BOB)
    room = fake.store.create_room("R", "group", ALICE, [BOB])
    fake.add_comment(room.id, ALICE, "need support")


async def test_one_bare_404_is_not_proof(served):
    """A transient bare 404 on search_messages (a v2 route under auto) is not remembered."""
    fake, url = served
    with_comment(fake)
    async with auto_client(fake, url) as client:
        with anyio.fail_after(10):
            await client.negotiate()
            fake.dialects = frozenset({"v2.1"})  # v2 answers a bare 404, once
            with pytest.raises(NotFoundError):
                await client.search_messages("support", user_id=ALICE)
            fake.dialects = frozenset({"v2", "v2.1"})
            found = await client.search_messages("support", user_id=ALICE)
    assert [c.message for c in found] == ["need support"]


async def test_lasting_evidence_then_forgotten(served, monkeypatch):
    """Bare 404s that keep coming refuse the dialect; the lesson expires."""
    monkeypatch.setattr(aioqiscus._negotiate, "EVIDENCE_SECONDS", 0.2)
    monkeypatch.setattr(aioqiscus._negotiate, "FORGET_AFTER", 0.5)
    fake, url = served
    with_comment(fake)
    async with auto_client(fake, url) as client:
        with anyio.fail_after(10):
            await client.negotiate()
            fake.dialects = frozenset({"v2.1"})
            with pytest.raises(NotFoundError):
                await client.search_messages("support", user_id=ALICE)
            await anyio.sleep(0.25)
            with pytest.raises(UnsupportedOperationError, match="does not serve v2"):
                await client.search_messages("support", user_id=ALICE)
            before = len(fake.journal)
            with pytest.raises(UnsupportedOperationError):
                await client.search_messages("support", user_id=ALICE)
            assert len(fake.journal) == before  # refused without a request
            fake.dialects = frozenset({"v2", "v2.1"})
            await anyio.sleep(0.55)
            found = await client.search_messages("support", user_id=ALICE)
    assert len(found) == 1


async def test_dialect_that_starts_404ing_is_renegotiated(served):
    """A server that stops serving v2.1 after negotiation is probed again; the call succeeds on v2."""
    fake, url = served
    with_comment(fake)
    async with auto_client(fake, url) as client:
        with anyio.fail_after(10):
            assert await client.negotiate() is Dialect.V2_1
            # A Qiscus 404 (no such user) is the caller's: no new probe.
            with pytest.raises(NotFoundError):
                await client.get_user("nobody@example.com")
            assert probes(fake) == 1
            fake.dialects = frozenset({"v2"})
            user = await client.get_user(ALICE)
            assert client.dialect is Dialect.V2
            again = await client.get_user(BOB)
    assert (user.id, again.id) == (ALICE, BOB)
    assert probes(fake) == 4  # one, then v2.1 twice and v2 to confirm


async def test_json_404_is_not_a_qiscus_envelope(gateway):
    """A v2-only server whose v2.1 paths answer JSON {"error": "Not Found"} negotiates v2."""

    async def json_404(scope, body, send):
        if "/api/v2.1/" not in scope["path"]:
            return False
        await answer(send, 404, b'{"error": "Not Found"}', b"application/json")
        return True

    fake, url = gateway(json_404, dialects=("v2",))
    async with auto_client(fake, url) as client:
        with anyio.fail_after(10):
            assert await client.negotiate() is Dialect.V2
            assert (await client.get_user(ALICE)).id == ALICE


def bare_404s_on_probe(count: int):
    """A gateway hook: the first *count* dialect probes get a bare HTML 404."""
    left = [count]

    async def hook(scope, body, send):
        query = scope.get("query_string", b"")
        if left[0] <= 0 or PROBE_USER.encode() not in query:
            return False
        left[0] -= 1
        await answer(send, 404, b"<html>Not Found</html>", b"text/html")
        return True

    return hook


class TestBare404OnTheProbe:
    """Issue 25 item 1: a bare 404 on the probe is a hiccup until confirmed."""

    async def test_both_dialects_keep_v21(self, gateway):
        """One bare 404 on the probe of a both-dialect server: still v2.1, v2.1 operations work."""
        fake, url = gateway(bare_404s_on_probe(1))
        async with auto_client(fake, url) as client:
            with anyio.fail_after(10):
                assert await client.negotiate() is Dialect.V2_1
                token = await client.get_user_token(ALICE)
        assert token

    async def test_v21_only_never_flips(self, gateway):
        """A v2.1-only server whose first probe hiccups negotiates v2.1 and serves calls."""
        fake, url = gateway(bare_404s_on_probe(1), dialects=("v2.1",))
        async with auto_client(fake, url) as client:
            with anyio.fail_after(10):
                assert await client.negotiate() is Dialect.V2_1
                assert (await client.get_user(ALICE)).id == ALICE

    async def test_v21_only_neither_answers(self, gateway):
        """Two hiccups on a v2.1-only server: no dialect is cached, the next call probes again."""
        fake, url = gateway(bare_404s_on_probe(2), dialects=("v2.1",))
        async with auto_client(fake, url) as client:
            with anyio.fail_after(10):
                with pytest.raises(NegotiationError, match="neither"):
                    await client.negotiate()
                assert client.dialect is None
                assert (await client.get_user(ALICE)).id == ALICE
        assert client.dialect is Dialect.V2_1

    async def test_v2_only_still_v2(self, gateway):
        """A v2-only server (bare 404s on every v2.1 path) negotiates v2 with three probes."""
        fake, url = gateway(bare_404s_on_probe(0), dialects=("v2",))
        async with auto_client(fake, url) as client:
            with anyio.fail_after(10):
                assert await client.negotiate() is Dialect.V2
                assert (await client.get_user(ALICE)).id == ALICE
        assert probes(fake) == 3

    async def test_v2_by_hiccups_is_rechecked(self, gateway):
        """Two hiccups take a both-dialect server as v2; a v2.1-only operation probes again and works."""
        fake, url = gateway(bare_404s_on_probe(2))
        async with auto_client(fake, url) as client:
            with anyio.fail_after(10):
                assert await client.negotiate() is Dialect.V2
                token = await client.get_user_token(ALICE)
                assert client.dialect is Dialect.V2_1
        assert token

    async def test_v21_only_route_hiccup_never_flips(self, gateway):
        """A negotiated v2.1-only server: a bare 404 on a call and on the new probe leaves it v2.1."""
        left = {"route": 1, "probe": 1}

        async def hiccups(scope, body, send):
            probe = PROBE_USER.encode() in scope.get("query_string", b"")
            kind = "probe" if probe else "route"
            if not left[kind] or (
                kind == "route" and "user_profile" not in scope["path"]
            ):
                return False
            if probe and left["route"]:
                return False  # the first, negotiating probe passes
            left[kind] -= 1
            await answer(send, 404, b"<html>Not Found</html>", b"text/html")
            return True

        fake, url = gateway(hiccups, dialects=("v2.1",))
        async with auto_client(fake, url) as client:
            with anyio.fail_after(10):
                assert await client.negotiate() is Dialect.V2_1
                with pytest.raises(NotFoundError):
                    await client.get_user(ALICE)
                assert client.dialect is Dialect.V2_1
                assert (await client.get_user(BOB)).id == BOB
        assert left == {"route": 0, "probe": 0}


async def test_sends_follow_a_renegotiated_dialect(served):
    """A send's flat attempt goes to the dialect negotiated now, not the first one.

    The client keeps what a flat send needs for the dialect it was made for:
    once the server stops serving v2.1, the send that meets the bare 404 is
    renegotiated onto v2, and the next one goes straight to v2.
    """
    fake, url = served
    with_comment(fake)
    room = fake.store.create_room("S", "group", ALICE, [BOB])
    async with auto_client(fake, url) as client:
        with anyio.fail_after(10):
            await client.post_text(str(room.id), ALICE, "on v2.1")
            assert client.dialect is Dialect.V2_1
            fake.dialects = frozenset({"v2"})
            await client.post_text(str(room.id), ALICE, "renegotiated")
            assert client.dialect is Dialect.V2
            before = len(fake.journal)
            await client.post_text(str(room.id), ALICE, "on v2")
    sends = [
        (e.dialect, e.status) for e in fake.journal if e.endpoint == "post_comment"
    ]
    assert sends == [("v2.1", 200), ("v2.1", 404), ("v2", 200), ("v2", 200)]
    assert [(e.dialect, e.endpoint) for e in fake.journal[before:]] == [
        ("v2", "post_comment")
    ]
    assert [c.message for c in room.comments] == ["on v2.1", "renegotiated", "on v2"]
