"""Issue 25 items 2, 4 and 7: look-ups that hold when the server misbehaves.

The server's clock is 10 minutes off the client's; the server ignores
``page``; the server stores a send later than the grace. Each look-up is
bounded in requests and time and never answers "absent" for a stored
comment.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode

import anyio
import pytest

import aioqiscus._reconcile
from aioqiscus import AmbiguousSendError, ResponseShapeError
from aioqiscus._reconcile import ServerClock
from aioqiscus._wire import Page, RawResponse
from aioqiscus.models import Comment, User
from aioqiscus.testing import FakeQiscus, Fault

from ..conftest import ALICE, BOB
from ._burst import BURST, burst, client_for, texts
from ._servers import call, drop, endpoint

VERSIONS = ["v2", "v2.1"]
#: The server's clock, seconds off the client's: behind, then ahead.
SKEWS = [-600.0, 600.0]


def store_bury_drop(holder: dict, newer: int):
    """A hook: the first send is stored, buried under *newer* comments, dropped."""

    async def hook(scope, body, send):
        if endpoint(scope) != "post_comment" or holder.get("done"):
            return False
        holder["done"] = True
        await call(holder["fake"], scope, body)
        room_id = json.loads(body)["room_id"]
        for i in range(newer):
            holder["fake"].add_comment(room_id, BOB, f"newer {i}")
        await drop(send, scope["path"])
        return True

    return hook


def start(gateway, hook, skew: float, holder: dict) -> tuple[FakeQiscus, str, str]:
    fake, url = gateway(hook)
    holder["fake"] = fake
    fake.clock_skew = skew
    room_id = str(fake.store.create_room("Skewed", "group", ALICE, [BOB]).id)
    return fake, url, room_id


class TestClockSkew:
    @pytest.mark.parametrize("skew", SKEWS, ids=["behind", "ahead"])
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_no_duplicate(self, gateway, version, skew):
        """A dropped send stored under 150 newer comments is found, whichever way the clock is off."""
        holder: dict = {}
        fake, url, room_id = start(gateway, store_bury_drop(holder, 150), skew, holder)
        async with client_for(fake, url, version, reconcile_delay=0.05) as client:
            with anyio.fail_after(10):
                comment = await client.post_text(room_id, ALICE, "skewed")
        assert comment.message == "skewed"
        assert texts(fake, room_id)["skewed"] == 1
        assert len(fake.requests("post_comment")) == 1

    @pytest.mark.parametrize("skew", SKEWS, ids=["behind", "ahead"])
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_find_comment_since(self, gateway, version, skew):
        """find_comment(since=sent_at) from another client finds a stored send under newer comments."""
        holder: dict = {}
        fake, url, room_id = start(gateway, store_bury_drop(holder, 150), skew, holder)
        async with client_for(fake, url, version, reconcile_delay=0.05) as client:
            with anyio.fail_after(10):
                with pytest.raises(AmbiguousSendError) as info:
                    await client.post_text(
                        room_id,
                        ALICE,
                        "settle",
                        on_ambiguous="raise",
                        unique_temp_id="yours-1",
                    )
        async with client_for(fake, url, version) as other:
            with anyio.fail_after(10):
                found = await other.find_comment(
                    room_id, "yours-1", since=info.value.sent_at
                )
        assert found is not None
        assert found.message == "settle"

    @pytest.mark.parametrize("version", VERSIONS)
    async def test_absent_still_proven(self, gateway, version):
        """Behind by 10 minutes, an absent marker is proven absent in a few pages, not the whole history."""
        holder: dict = {"done": True}
        fake, url, room_id = start(gateway, store_bury_drop(holder, 0), -600.0, holder)
        for i in range(300):
            fake.add_comment(room_id, BOB, f"old {i}")
        # Those 300 are from "an hour ago" on the server's clock.
        for comment in fake.room(room_id).comments:
            comment.timestamp = "2000-01-01T00:00:00Z"
        for i in range(150):
            fake.add_comment(room_id, BOB, f"new {i}")
        async with client_for(fake, url, version) as client:
            with anyio.fail_after(10):
                since = aioqiscus._reconcile.marker_time(client._reconciler.marker())
                assert await client.find_comment(room_id, "gone", since=since) is None
        assert len(fake.requests("load_comments")) == 2


def ignore_paging(holder: dict):
    """A hook: load_comments always answers page 1, one new comment per read."""

    async def hook(scope, body, send):
        if endpoint(scope) != "load_comments":
            return False
        fake = holder["fake"]
        query = [(k, v) for k, v in _pairs(scope) if k != "page"]
        room = dict(query)["room_id"]
        fake.add_comment(room, BOB, f"live {len(fake.journal)}")
        scope = {**scope, "query_string": _encode([*query, ("page", "1")])}
        answered = await call(fake, scope, body)
        assert answered is not None
        status, headers, data = answered
        await send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": data})
        return True

    return hook


def _pairs(scope):
    return parse_qsl(scope["query_string"].decode())


def _encode(pairs) -> bytes:
    return urlencode(pairs).encode()


def live_room(gateway) -> tuple[FakeQiscus, str, str]:
    """A fake behind a gateway ignoring page, with a room of 150 comments."""
    holder: dict = {}
    fake, url = gateway(ignore_paging(holder))
    holder["fake"] = fake
    room_id = str(fake.store.create_room("Live", "group", ALICE, [BOB]).id)
    for i in range(150):
        fake.add_comment(room_id, BOB, f"old {i}")
    return fake, url, room_id


class TestServerIgnoringPage:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_post_comment_bounded(self, gateway, version):
        """An ambiguous send against a server that ignores page stops within a few reads, ambiguous."""
        fake, url, room_id = live_room(gateway)
        fake.inject(Fault.status(502, processed=False), endpoints="post_comment")
        async with client_for(fake, url, version, reconcile_delay=0.01) as client:
            with anyio.fail_after(10):
                with pytest.raises(AmbiguousSendError, match="ignores paging"):
                    await client.post_text(room_id, ALICE, "lost?")
        assert len(fake.requests("load_comments")) <= 3

    @pytest.mark.parametrize("version", VERSIONS)
    async def test_find_comment_bounded(self, gateway, version):
        """find_comment against a server that ignores page raises within a few reads."""
        fake, url, room_id = live_room(gateway)
        async with client_for(fake, url, version) as client:
            with anyio.fail_after(10):
                with pytest.raises(ResponseShapeError, match="ignores paging"):
                    await client.find_comment(room_id, "nowhere", since=_an_hour_ago())
        assert len(fake.requests("load_comments")) <= 3

    async def test_bounded_in_time(self, gateway, monkeypatch):
        """A look-up that reads slowly gives up after MAX_LOOKUP_SECONDS, ambiguous."""
        monkeypatch.setattr(aioqiscus._reconcile, "MAX_LOOKUP_SECONDS", 0.3)

        async def slow(scope, body, send):
            if endpoint(scope) == "load_comments":
                await anyio.sleep(0.2)
            return False

        fake, url = gateway(slow)
        room_id = str(fake.store.create_room("Slow", "group", ALICE, [BOB]).id)
        for i in range(500):
            fake.add_comment(room_id, BOB, f"old {i}")
        async with client_for(fake, url, "v2.1") as client:
            started = time.monotonic()
            with anyio.fail_after(10):
                with pytest.raises(AmbiguousSendError, match="within"):
                    await client.find_comment(room_id, "nowhere", since=_an_hour_ago())
            elapsed = time.monotonic() - started
        assert elapsed < 1.0


def _an_hour_ago():
    return datetime.now(UTC) - timedelta(hours=1)


class TestSecondLookUp:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_late_store_found_by_second_look(self, served, version):
        """A store 0.6 s after a 504, past a 0.1 s grace: reconcile_recheck=1 finds it instead of resending."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        fake.add_user(BOB)
        room_id = str(fake.store.create_room("Lag", "group", ALICE, [BOB]).id)
        fake.inject(Fault.lagging(0.6, status=504), endpoints="post_comment", times=1)
        async with client_for(
            fake, url, version, reconcile_delay=0.1, reconcile_recheck=1.0
        ) as client:
            assert client.reconcile_recheck == 1.0
            with anyio.fail_after(10):
                comment = await client.post_text(room_id, ALICE, "late")
        assert comment.message == "late"
        assert texts(fake, room_id)["late"] == 1
        assert len(fake.requests("post_comment")) == 1
        assert len(fake.requests("load_comments")) >= 2


@pytest.mark.parametrize(
    ("version", "skew"), [("v2.1", -600.0), ("v2", 600.0)], ids=["behind", "ahead"]
)
async def test_burst_with_a_skewed_clock(served, version, skew):
    """300 sends, 30% ambiguous, server clock 10 minutes off, stores within the grace: 0 lost, 0 duplicated."""
    fake, url = served
    fake.reset(seed=25)
    fake.clock_skew = skew
    fake.add_user(ALICE)
    fake.add_user(BOB)
    room_id = str(fake.store.create_room("Busy", "group", ALICE, [BOB]).id)
    for i in range(150):  # a page and a half of comments before the burst
        fake.add_comment(room_id, BOB, f"before {i}")
    outcome = await burst(fake, url, version, room_id, reconcile_delay=0.4)
    faulted = sum(1 for e in fake.requests("post_comment") if e.fault)
    sys.stdout.write(
        f"\n[skewed burst {version} {skew:+.0f}s] sends={BURST} faulted={faulted} "
        f"lookups={len(fake.requests('load_comments'))} "
        f"unsettled={len(outcome.unsettled)} lost={outcome.lost} "
        f"duplicated={outcome.duplicated} elapsed={outcome.elapsed:.1f}s\n"
    )
    assert outcome.unsettled == []
    assert (outcome.lost, outcome.duplicated) == (0, 0)
    assert faulted >= BURST * 0.2


class TestServerClock:
    """The measure itself, pure: Date first, stamps only without one."""

    @staticmethod
    def page(*stamps: datetime) -> Page[Comment]:
        someone = User(id=ALICE, name="Alice")
        comments = tuple(
            Comment(i, "1", someone, "m", timestamp=t) for i, t in enumerate(stamps)
        )
        return Page(comments, has_more=True)

    def test_date_behind(self):
        """A Date 10 minutes behind moves the send's start 10 minutes back."""
        clock = ServerClock()
        behind = time.time() - 600
        clock.observe(RawResponse(200, {"date": formatdate(behind, usegmt=True)}, b""))
        ours = datetime.now(UTC)
        start = clock.server_time(ours, self.page(ours + timedelta(hours=1)))
        assert timedelta(seconds=598) < ours - start < timedelta(seconds=603)

    def test_unreadable_date_is_ignored(self):
        """A Date that is not an HTTP date measures nothing."""
        clock = ServerClock()
        clock.observe(RawResponse(200, {"date": "yesterday-ish"}, b""))
        assert clock.offset is None

    def test_stamps_without_a_date(self):
        """Without a Date, a stamp ahead of our clock moves the start forward; old ones do not."""
        clock = ServerClock()
        ours = datetime.now(UTC)
        ahead = clock.server_time(ours, self.page(ours + timedelta(minutes=10)))
        old = clock.server_time(ours, self.page(ours - timedelta(hours=5)))
        assert ahead - ours > timedelta(seconds=590)
        assert old == ours
