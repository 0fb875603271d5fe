"""Item 1: no duplicate under ordinary conditions.

A send whose fate is unknown is found however many comments landed after it,
after a grace that follows every ambiguous outcome (a gateway's 504 or dropped
connection while its upstream stores a moment later), by the settle step
``find_comment`` as well as by ``post_comment`` itself, and whatever
``unique_id`` the server answers of its own. Ends with a 300-send burst to
one room under 30% dropped-after-store and gateway-lag faults.
"""

from __future__ import annotations

import collections
import json
import sys
import time
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from aioqiscus import AmbiguousSendError
from aioqiscus.dialects._common import MARKER_KEY
from aioqiscus.testing import FakeQiscus, Fault

from ..conftest import ALICE, BOB
from ._burst import BURST, burst, client_for, texts
from ._servers import answer, call, drop, endpoint, rewrite_comments

VERSIONS = ["v2", "v2.1"]


def room_of(fake: FakeQiscus) -> str:
    return str(fake.store.create_room("Busy", "group", ALICE, [BOB]).id)


def fresh(served) -> tuple[FakeQiscus, str, str]:
    fake, url = served
    fake.reset()
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob")
    return fake, url, room_of(fake)


class TestLookUpBoundedByTime:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_found_under_150_newer_comments(self, gateway, version):
        """A send stored, then buried under 150 newer comments before the look-up, is found, not resent."""
        holder = {}

        async def busy_room(scope, body, send):
            if endpoint(scope) != "post_comment" or holder.get("done"):
                return False
            holder["done"] = True
            await call(holder["fake"], scope, body)  # stored
            room_id = json.loads(body)["room_id"]
            for i in range(150):
                holder["fake"].add_comment(room_id, BOB, f"other {i}")
            await drop(send, scope["path"])
            return True

        fake, url = gateway(busy_room)
        holder["fake"] = fake
        room_id = room_of(fake)
        async with client_for(fake, url, version) as client:
            with anyio.fail_after(10):
                comment = await client.post_text(room_id, ALICE, "the one")
        assert comment.message == "the one"
        assert texts(fake, room_id)["the one"] == 1
        assert len(fake.room(room_id).comments) == 151
        assert len(fake.requests("post_comment")) == 1

    async def test_absent_proven_by_time(self, served):
        """The look-up stops at comments older than the send, or at the history's start."""
        fake, url, room_id = fresh(served)
        for i in range(250):
            fake.add_comment(room_id, BOB, f"old {i}")
        now = datetime.now(UTC)
        async with client_for(fake, url, "v2.1") as client:
            with anyio.fail_after(10):
                # A send that began in an hour: the first page is older.
                later = now + timedelta(hours=1)
                assert await client.find_comment(room_id, "absent", since=later) is None
                assert len(fake.requests("load_comments")) == 1
                # One that began an hour ago: the whole history, to its start.
                earlier = now - timedelta(hours=1)
                assert await client.find_comment(room_id, "gone", since=earlier) is None
        pages = [dict(e.query)["page"] for e in fake.requests("load_comments")[1:]]
        assert pages == ["1", "2", "3", "4"]


class TestGraceAfterEveryAmbiguousOutcome:
    @pytest.mark.parametrize("status", [504, None], ids=["504", "dropped"])
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_gateway_lag(self, served, version, status):
        """A gateway answers 504 (or drops) and its upstream stores 0.1 s later: one comment."""
        fake, url, room_id = fresh(served)
        fake.inject(
            Fault.lagging(0.1, status=status), endpoints="post_comment", times=1
        )
        async with client_for(fake, url, version, reconcile_delay=0.5) as client:
            started = time.monotonic()
            with anyio.fail_after(10):
                comment = await client.post_text(room_id, ALICE, "lagged")
            elapsed = time.monotonic() - started
        assert comment.message == "lagged"
        assert texts(fake, room_id)["lagged"] == 1
        assert len(fake.requests("post_comment")) == 1
        assert elapsed >= 0.5  # the look-up waited for the grace


class TestSettleStep:
    @pytest.mark.parametrize("mine", [False, True], ids=["our-marker", "your-marker"])
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_find_comment_after_room_moved_on(self, served, version, mine):
        """find_comment finds an ambiguous send after 150 newer comments, in this process and another."""
        fake, url, room_id = fresh(served)
        fake.inject(Fault.drop(), endpoints="post_comment", times=1)
        kwargs = {"unique_temp_id": "mine-1"} if mine else {}
        async with client_for(fake, url, version) as client:
            with anyio.fail_after(10):
                with pytest.raises(AmbiguousSendError) as info:
                    await client.post_text(
                        room_id, ALICE, "settle me", on_ambiguous="raise", **kwargs
                    )
                marker = info.value.marker
                for i in range(150):
                    fake.add_comment(room_id, BOB, f"later {i}")
                found = await client.find_comment(room_id, marker)
        assert found is not None
        assert found.message == "settle me"
        sent_at = info.value.sent_at
        assert sent_at is not None
        # Another process knows only what the error carried.
        async with client_for(fake, url, version) as other:
            with anyio.fail_after(10):
                again = await other.find_comment(room_id, marker, since=sent_at)
                blind = await other.find_comment(room_id, marker)
        assert again is not None
        assert again.message == "settle me"
        # Our markers carry their mint time; yours need since= elsewhere.
        assert (blind is not None) is (not mine)
        assert texts(fake, room_id)["settle me"] == 1

    @pytest.mark.parametrize("version", VERSIONS)
    async def test_find_comment_waits_the_grace(self, served, version):
        """Settling right after a gateway's 504 waits the grace, as post_comment does."""
        fake, url, room_id = fresh(served)
        fault = Fault.lagging(0.2, status=504)
        fake.inject(fault, endpoints="post_comment", times=1)
        async with client_for(fake, url, version, reconcile_delay=0.5) as client:
            with anyio.fail_after(10):
                with pytest.raises(AmbiguousSendError) as info:
                    await client.post_text(room_id, ALICE, "late", on_ambiguous="raise")
                started = time.monotonic()
                found = await client.find_comment(room_id, info.value.marker)
                waited = time.monotonic() - started
        assert found is not None
        assert found.message == "late"
        assert 0.3 < waited < 5


class TestServerUniqueId:
    async def test_own_marker_preferred_over_server_unique_id(self, gateway):
        """A server answering its own unique_id on every comment does not hide the marker."""

        async def own_ids(scope, body, send):
            if endpoint(scope) != "load_comments":
                return False
            status, _, data = await call(holder["fake"], scope, body)

            def stamp(comment):
                comment["unique_id"] = f"srv-{comment['id']}"

            await answer(
                send, status, rewrite_comments(data, stamp), b"application/json"
            )
            return True

        holder = {}
        fake, url = gateway(own_ids, dialects=("v2.1",))
        holder["fake"] = fake
        room_id = room_of(fake)
        fake.inject(Fault.drop(), endpoints="post_comment", times=1)
        async with client_for(fake, url, "v2.1") as client:
            with anyio.fail_after(10):
                comment = await client.post_text(room_id, ALICE, "shadowed?")
                [read] = [c async for c in client.iter_comments(room_id)]
        assert texts(fake, room_id)["shadowed?"] == 1
        assert comment.unique_temp_id == read.unique_temp_id
        assert comment.unique_temp_id.startswith("aioqiscus-")


class TestMarkerPlacement:
    async def test_where_the_v21_marker_goes(self, gateway):
        """By default in unique_temp_id and extras; marker_in_extras=False keeps extras yours."""
        bodies = []

        async def record(scope, body, send):
            if endpoint(scope) == "post_comment":
                bodies.append(json.loads(body))
            return False

        fake, url = gateway(record, dialects=("v2.1",))
        room_id = room_of(fake)
        async with client_for(fake, url, "v2.1") as client:
            comment = await client.post_text(room_id, ALICE, "a", extras={"k": 1})
        async with client_for(fake, url, "v2.1", marker_in_extras=False) as client:
            await client.post_text(room_id, ALICE, "b", extras={"k": 1})
            await client.post_text(room_id, ALICE, "c")
        first, second, third = bodies
        assert first["extras"] == {"k": 1, MARKER_KEY: first["unique_temp_id"]}
        assert comment.extras == {"k": 1}
        assert comment.unique_temp_id == first["unique_temp_id"]
        assert second["extras"] == {"k": 1}
        assert "extras" not in third
        assert second["unique_temp_id"].startswith("aioqiscus-")

    async def test_top_level_marker_only_with_an_echoing_server(self, gateway):
        """Without the extras copy, a server that echoes the marker as unique_id still settles sends."""
        holder = {}

        async def echo_ids(scope, body, send):
            if endpoint(scope) != "load_comments":
                return False
            fake = holder["fake"]
            status, _, data = await call(fake, scope, body)
            stored = {
                c.id: c.unique_temp_id
                for r in fake.store.rooms.values()
                for c in r.comments
            }

            def stamp(comment):
                comment["unique_id"] = stored[comment["id"]]

            await answer(
                send, status, rewrite_comments(data, stamp), b"application/json"
            )
            return True

        fake, url = gateway(echo_ids, dialects=("v2.1",))
        holder["fake"] = fake
        room_id = room_of(fake)
        fake.inject(Fault.drop(), endpoints="post_comment", times=1)
        async with client_for(fake, url, "v2.1", marker_in_extras=False) as client:
            with anyio.fail_after(10):
                await client.post_text(room_id, ALICE, "echoed")
        assert texts(fake, room_id)["echoed"] == 1
        assert MARKER_KEY not in fake.room(room_id).comments[0].extras


@pytest.mark.parametrize("version", VERSIONS)
async def test_burst_to_one_room(served, version):
    """300 concurrent sends to one room under 30% dropped-after-store and gateway-lag faults: 0 lost, 0 duplicated."""
    fake, url = served
    fake.reset(seed=300)
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob")
    room_id = room_of(fake)
    outcome = await burst(fake, url, version, room_id, reconcile_delay=0.5)
    posts = fake.requests("post_comment")
    faults = collections.Counter(
        "drop" if e.fault.kind == "drop" else f"lag-{e.fault.status_code or 'drop'}"
        for e in posts
        if e.fault
    )
    sys.stdout.write(
        f"\n[burst {version}] sends={BURST} requests={len(posts)} "
        f"faults={dict(sorted(faults.items()))} "
        f"lookups={len(fake.requests('load_comments'))} "
        f"unsettled={len(outcome.unsettled)} lost={outcome.lost} "
        f"duplicated={outcome.duplicated} elapsed={outcome.elapsed:.1f}s\n"
    )
    assert outcome.unsettled == []
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert sum(faults.values()) >= BURST * 0.2
