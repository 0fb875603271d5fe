"""The v2.1-only endpoints of v2.1/users.md and v2.1/more-endpoints.md.

Tier 1 against the samples, tier 2 requests and refusals with respx, tier 3
through the fake in every dialect mode.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import anyio
import httpx
import pytest

from aioqiscus import (
    Dialect,
    InvalidArgumentError,
    NotFoundError,
    QiscusClient,
    ReplyTime,
    ResponseShapeError,
    UnsupportedOperationError,
    WebhookLog,
)
from aioqiscus.dialects import v21
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BASE, BOB, CAROL, sample

P = f"{BASE}/api/v2.1/rest"
#: 2021-09-01 17:00 in Jakarta is 10:00 UTC.
JAKARTA = timezone(timedelta(hours=7))
SINCE = datetime(2021, 9, 1, 17, 0, tzinfo=JAKARTA)
UNTIL = datetime(2021, 9, 30, 23, 59, 59, tzinfo=UTC)
#: A time naming no instant: refused.
NAIVE = datetime(2021, 9, 1)  # noqa: DTZ001 - the value under test


def results(name: str):
    return sample(name)["results"]


class TestSamples:
    def test_unread_users(self):
        """get_unread_users: ids; the period in the documented format, in UTC."""
        call = v21.list_unread_users(2, 50, SINCE, UNTIL)
        assert (call.request.method, call.request.path) == (
            "GET",
            "/api/v2.1/rest/get_unread_users",
        )
        assert call.request.query == (
            ("page", "2"),
            ("limit", "50"),
            ("start_time", "2021-09-01 10:00:00"),
            ("end_time", "2021-09-30 23:59:59"),
        )
        page = call.parse(results("v21/get_unread_users"))
        assert page.items == ("userid_1", "userid_2")
        assert page.has_more is False

    def test_user_unread_count(self):
        """get_user_unread_count: user_ids[] in, a count per user out."""
        call = v21.get_user_unread_counts(["a", "b"], None, None)
        assert call.request.query == (("user_ids[]", "a"), ("user_ids[]", "b"))
        assert call.parse(results("v21/get_user_unread_count")) == {
            "user1@qiscus.com": 14,
            "user2@qiscus.com": 71,
        }

    @pytest.mark.parametrize(
        "name", ["v21/load_comments_with_range", "v21/gosdk/load_comments_with_range"]
    )
    def test_comments_range(self, name):
        """unique_id is the comment's unique_temp_id; the room comes from the call."""
        call = v21.load_comments_with_range("2110", 1204, 1205)
        assert call.request.query == (
            ("room_id", "2110"),
            ("first_comment_id", "1204"),
            ("last_comment_id", "1205"),
        )
        first, *_ = call.parse(results(name))
        assert (first.id, first.room_id, first.message) == (1204, "2110", "hi")
        assert first.unique_temp_id == "bq1630490400"
        assert first.timestamp == datetime(2021, 9, 1, 10, 0, tzinfo=UTC)
        assert (first.sender.id, first.sender.active) == ("alice", True)

    def test_reply_time(self):
        """Seconds become timedeltas; the echoed period reads as UTC."""
        call = v21.get_average_reply_time("alice", SINCE, None)
        assert call.request.query == (
            ("user_id", "alice"),
            ("start_time", "2021-09-01 10:00:00"),
        )
        assert call.parse(results("v21/get_average_reply_time_user")) == ReplyTime(
            user_id="alice",
            average=timedelta(seconds=95),
            longest=timedelta(minutes=10),
            shortest=timedelta(seconds=4),
            since=datetime(2021, 9, 1, tzinfo=UTC),
            until=datetime(2021, 9, 30, 23, 59, 59, tzinfo=UTC),
        )

    def test_webhook_logs(self):
        """Each log is typed; request_body stays the delivered JSON text."""
        call = v21.list_webhook_logs(1, 20, "rest")
        assert call.request.query == (("page", "1"), ("limit", "20"), ("type", "rest"))
        page = call.parse(results("v21/webhook_logs"))
        ok, failed = page.items
        assert ok.id == 5531
        assert ok.succeeded is True
        assert ok.attempted_at == datetime(2021, 9, 1, 10, 0, 1, tzinfo=UTC)
        assert json.loads(ok.request_body)["type"] == "post_comment_rest"
        assert failed == WebhookLog(
            id=5532,
            attempted_at=datetime(2021, 9, 1, 10, 0, 2, tzinfo=UTC),
            endpoint="https://bot.example.com/qiscus",
            succeeded=False,
            response_code=502,
            request_body=failed.request_body,
            response_body="Bad Gateway",
            error_message="unexpected status code 502",
        )

    def test_webhook_log_body_as_json(self):
        """A request_body sent as JSON itself is kept as compact JSON text."""
        log = dict(results("v21/webhook_logs")["webhook_logs"][0])
        log["request_body"] = {"type": "post_comment_rest"}
        [found] = (
            v21.list_webhook_logs(1, 20, "all").parse({"webhook_logs": [log]}).items
        )
        assert found.request_body == '{"type":"post_comment_rest"}'

    def test_deactivate_and_reactivate(self):
        """DELETE with a JSON body, and POST; both answer a message."""
        off = v21.deactivate_users(["alice", "bob"])
        on = v21.reactivate_users(["alice"])
        assert (off.request.method, off.request.json) == (
            "DELETE",
            {"user_ids": ["alice", "bob"]},
        )
        assert (on.request.method, on.request.path) == (
            "POST",
            "/api/v2.1/rest/reactivate_users",
        )
        assert off.parse(results("v21/deactivate_users")) == "success"
        assert on.parse(results("v21/reactivate_users")) == "success"


#: Each new coroutine, called with valid arguments.
CALLS = {
    "iter_unread_users": lambda c: anext(c.iter_unread_users()),
    "get_user_unread_counts": lambda c: c.get_user_unread_counts(["a"]),
    "get_comments_range": lambda c: c.get_comments_range("1", 1, 2),
    "get_average_reply_time": lambda c: c.get_average_reply_time("a"),
    "iter_webhook_logs": lambda c: anext(c.iter_webhook_logs()),
    "deactivate_users": lambda c: c.deactivate_users(["a"]),
    "reactivate_users": lambda c: c.reactivate_users(["a"]),
}


class TestRequests:
    @pytest.mark.parametrize("name", sorted(CALLS))
    async def test_v2_refuses_before_any_request(self, mock, name):
        """Pinned to v2, each refuses at once, naming v2.1."""
        async with QiscusClient("my-app", "s", api_version="v2") as client:
            with pytest.raises(UnsupportedOperationError, match=r"v2\.1"):
                await CALLS[name](client)
        assert len(mock.calls) == 0

    async def test_documented_requests(self, mock):
        """Verbs, paths and parameters as the documents and the Go SDK send."""
        routes = {
            "unread": mock.get(f"{P}/get_unread_users").respond(
                json=sample("v21/get_unread_users")
            ),
            "counts": mock.get(f"{P}/get_user_unread_count").respond(
                json=sample("v21/get_user_unread_count")
            ),
            "range": mock.get(f"{P}/load_comments_with_range").respond(
                json=sample("v21/load_comments_with_range")
            ),
            "reply": mock.get(f"{P}/get_average_reply_time_user").respond(
                json=sample("v21/get_average_reply_time_user")
            ),
            "logs": mock.get(f"{P}/webhook_logs").respond(
                json=sample("v21/webhook_logs")
            ),
            "off": mock.delete(f"{P}/deactivate_users").respond(
                json=sample("v21/deactivate_users")
            ),
            "on": mock.post(f"{P}/reactivate_users").respond(
                json=sample("v21/reactivate_users")
            ),
        }
        async with QiscusClient("my-app", "s", api_version="v2.1") as client:
            users = [u async for u in client.iter_unread_users(since=SINCE)]
            counts = await client.get_user_unread_counts(["u1", "u2"], until=UNTIL)
            comments = await client.get_comments_range("2110", 1204, 1205)
            reply = await client.get_average_reply_time("alice")
            logs = [log async for log in client.iter_webhook_logs(kind="mobile")]
            off = await client.deactivate_users(["alice"])
            on = await client.reactivate_users(["alice"])
        assert users == ["userid_1", "userid_2"]
        assert counts == {"user1@qiscus.com": 14, "user2@qiscus.com": 71}
        assert [c.id for c in comments] == [1204]
        assert reply.average == timedelta(seconds=95)
        assert [log.id for log in logs] == [5531, 5532]
        assert (off, on) == ("success", "success")

        def params(name):
            return list(routes[name].calls.last.request.url.params.multi_items())

        assert params("unread") == [
            ("page", "1"),
            ("limit", "100"),
            ("start_time", "2021-09-01 10:00:00"),
        ]
        assert params("counts") == [
            ("user_ids[]", "u1"),
            ("user_ids[]", "u2"),
            ("end_time", "2021-09-30 23:59:59"),
        ]
        assert params("reply") == [("user_id", "alice")]
        assert params("logs") == [("page", "1"), ("limit", "100"), ("type", "mobile")]
        request = routes["off"].calls.last.request
        assert json.loads(request.content) == {"user_ids": ["alice"]}
        assert request.headers["content-type"] == "application/json"

    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (
                lambda c: c.get_average_reply_time("a", since=NAIVE),
                InvalidArgumentError,
            ),
            (
                lambda c: c.get_user_unread_counts(["a"], until=date(2021, 9, 1)),
                TypeError,
            ),
            (
                lambda c: c.get_user_unread_counts(["a"], since=UNTIL, until=SINCE),
                InvalidArgumentError,
            ),
            (lambda c: c.get_user_unread_counts([]), InvalidArgumentError),
            (lambda c: c.get_user_unread_counts("a"), TypeError),
            (lambda c: c.get_comments_range("1", "1", 2), TypeError),
            (lambda c: c.get_comments_range("1", 0, 2), InvalidArgumentError),
            (lambda c: c.get_comments_range("", 1, 2), InvalidArgumentError),
            (lambda c: c.deactivate_users(["a", "a"]), InvalidArgumentError),
            (lambda c: c.reactivate_users([]), InvalidArgumentError),
            (lambda c: c.get_average_reply_time(""), InvalidArgumentError),
        ],
    )
    async def test_refused_before_request(self, mock, call, error):
        """Invalid arguments raise before anything is sent."""
        async with QiscusClient("my-app", "s", api_version="v2.1") as client:
            with pytest.raises(error):
                await call(client)
        assert len(mock.calls) == 0

    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (lambda c: c.iter_unread_users(page_size=101), InvalidArgumentError),
            (lambda c: c.iter_unread_users(page_size=0), InvalidArgumentError),
            (
                lambda c: c.iter_unread_users(since=NAIVE),
                InvalidArgumentError,
            ),
            (lambda c: c.iter_webhook_logs(kind="web"), InvalidArgumentError),
            (lambda c: c.iter_webhook_logs(page_size=500), InvalidArgumentError),
        ],
    )
    def test_iterators_check_at_call_time(self, call, error):
        """The new iterators validate when called, not at the first await."""
        client = QiscusClient("my-app", "s", api_version="v2.1")
        with pytest.raises(error):
            call(client)

    @pytest.mark.parametrize(
        ("path", "results", "call"),
        [
            (
                "get_average_reply_time_user",
                {"data": {"user_id": "a", "duration": {"average": None}}},
                lambda c: c.get_average_reply_time("a"),
            ),
            (
                "get_average_reply_time_user",
                {"data": "nope"},
                lambda c: c.get_average_reply_time("a"),
            ),
            ("get_unread_users", {"user_ids": "a"}, CALLS["iter_unread_users"]),
            (
                "get_user_unread_count",
                {"user_unread_count": [{"user_id": "a"}]},
                CALLS["get_user_unread_counts"],
            ),
            (
                "webhook_logs",
                {"webhook_logs": [{"id": "x"}]},
                CALLS["iter_webhook_logs"],
            ),
            ("reactivate_users", {"message": 5}, CALLS["reactivate_users"]),
        ],
    )
    async def test_malformed_answers(self, mock, path, results, call):
        """Answers of the wrong shape are a ResponseShapeError, never a crash."""
        mock.route(url=f"{P}/{path}").respond(json={"results": results, "status": 200})
        async with QiscusClient("my-app", "s", api_version="v2.1") as client:
            with pytest.raises(ResponseShapeError):
                await call(client)


class TestAgainstFake:
    async def test_v2_servers_refuse_without_sending(self, env):
        """On a v2-only server each call is refused; nothing reaches the fake."""
        fake, client, dialect = env
        if dialect is not Dialect.V2:
            pytest.skip("v2.1 is served")
        for name, call in CALLS.items():
            with pytest.raises(UnsupportedOperationError):
                await call(client)
            assert name not in {e.endpoint for e in fake.journal}
        assert {e.endpoint for e in fake.journal} <= {"user_profile"}

    async def test_unread_users_and_counts(self, env):
        """Unread comments by user, all rooms together, within a period."""
        fake, client, dialect = env
        if dialect is Dialect.V2:
            pytest.skip("v2.1 only")
        room = fake.store.create_room("G", "group", ALICE, [BOB, CAROL])
        for sender, day in ((ALICE, 2), (ALICE, 20), (BOB, 25)):
            fake.add_comment(room.id, sender, "hi")
            fake.room(room.id).comments[-1].timestamp = f"2021-09-{day:02}T10:00:00Z"
        # A sender has read everything up to their own comment.
        everyone = [u async for u in client.iter_unread_users()]
        assert everyone == [ALICE, CAROL]
        early = datetime(2021, 9, 10, tzinfo=UTC)
        assert [u async for u in client.iter_unread_users(until=early)] == [CAROL]
        late = client.iter_unread_users(since=datetime(2021, 9, 21, tzinfo=UTC))
        assert [u async for u in late] == [ALICE, CAROL]
        counts = await client.get_user_unread_counts([ALICE, BOB, CAROL])
        assert counts == {ALICE: 1, BOB: 0, CAROL: 3}
        window = await client.get_user_unread_counts([CAROL], since=early, until=UNTIL)
        assert window == {CAROL: 2}
        with pytest.raises(NotFoundError):
            await client.get_user_unread_counts(["nobody"])

    async def test_unread_users_page(self, env):
        """page_size pages the ids."""
        fake, client, dialect = env
        if dialect is Dialect.V2:
            pytest.skip("v2.1 only")
        room = fake.store.create_room("G", "group", ALICE, [BOB, CAROL])
        fake.add_comment(room.id, ALICE, "hi")
        assert [u async for u in client.iter_unread_users(page_size=1)] == [BOB, CAROL]
        pages = [dict(e.query) for e in fake.requests("get_unread_users")]
        assert [p["page"] for p in pages] == ["1", "2", "3"]

    async def test_comments_range(self, env):
        """The comments between two ids, oldest first, with their markers."""
        _, client, dialect = env
        if dialect is Dialect.V2:
            pytest.skip("v2.1 only")
        room = await client.create_room("Range", [BOB], ALICE)
        sent = [
            await client.post_text(room.id, ALICE, f"m{i}", unique_temp_id=f"t{i}")
            for i in range(4)
        ]
        found = await client.get_comments_range(room.id, sent[1].id, sent[2].id)
        assert [c.message for c in found] == ["m1", "m2"]
        assert [c.unique_temp_id for c in found] == ["t1", "t2"]
        assert {c.room_id for c in found} == {room.id}
        assert [c.id for c in await client.get_comments_range(room.id, 1, 2)] == []

    async def test_average_reply_time(self, env):
        """Counted from the first unanswered comment to the user's answer."""
        fake, client, dialect = env
        if dialect is Dialect.V2:
            pytest.skip("v2.1 only")
        room = fake.store.create_room("G", "group", ALICE, [BOB])
        script = (
            (BOB, "10:00:00"),
            (BOB, "10:00:30"),
            (ALICE, "10:01:40"),  # 100 s after the first
            (BOB, "11:00:00"),
            (ALICE, "11:00:10"),  # 10 s
        )
        for sender, clock in script:
            fake.add_comment(room.id, sender, "x")
            fake.room(room.id).comments[-1].timestamp = f"2021-09-01T{clock}Z"
        found = await client.get_average_reply_time(ALICE, since=SINCE)
        assert (found.average, found.longest, found.shortest) == (
            timedelta(seconds=55),
            timedelta(seconds=100),
            timedelta(seconds=10),
        )
        assert (found.user_id, found.since) == (
            ALICE,
            datetime(2021, 9, 1, 10, tzinfo=UTC),
        )
        after = await client.get_average_reply_time(
            ALICE, since=datetime(2021, 9, 1, 10, 30, tzinfo=UTC)
        )
        assert after.longest == timedelta(seconds=10)
        none = await client.get_average_reply_time(CAROL)
        assert none.average == timedelta(0)

    async def test_deactivate_and_reactivate(self, env):
        """User.active follows deactivate_users and reactivate_users."""
        fake, client, dialect = env
        if dialect is Dialect.V2:
            pytest.skip("v2.1 only")
        assert await client.deactivate_users([BOB, CAROL]) == "success"
        assert (await client.get_user(BOB)).active is False
        listed = {u.id: u.active async for u in client.iter_users()}
        assert listed == {
            ALICE: True,
            BOB: False,
            CAROL: False,
            "dave@example.com": True,
        }
        await client.reactivate_users([BOB])
        assert (await client.get_user(BOB)).active is True
        assert (await client.get_user(CAROL)).active is False
        with pytest.raises(NotFoundError):
            await client.deactivate_users(["nobody"])
        [request] = fake.requests("deactivate_users")[:1]
        assert request.method == "DELETE"


class TestWebhookLogs:
    async def test_deliveries_are_logged(self):
        """Each delivery the fake attempts is a webhook log, newest first."""
        fake = FakeQiscus(dialects={"v2.1"})
        fake.add_user(ALICE)
        room = fake.store.create_room("G", "group", ALICE, [])
        answers = iter([httpx.Response(200, text="ok"), httpx.Response(502)])
        fake.deliver_webhooks(
            "http://127.0.0.1:9/hook",
            "token",
            transport=httpx.MockTransport(lambda _: next(answers)),
        )
        async with QiscusClient(
            fake.app_id, fake.secret_key, http_client=fake.http_client()
        ) as client:
            with anyio.fail_after(10):
                await client.post_text(str(room.id), ALICE, "one")
                await client.post_text(str(room.id), ALICE, "two")
                logs = [log async for log in client.iter_webhook_logs(page_size=1)]
                mobile = [log async for log in client.iter_webhook_logs(kind="mobile")]
        failed, ok = logs
        assert (failed.succeeded, failed.response_code) == (False, 502)
        assert failed.error_message == "unexpected status code 502"
        assert (ok.succeeded, ok.response_body, ok.error_message) == (True, "ok", "")
        assert ok.endpoint == "http://127.0.0.1:9/hook"
        assert json.loads(ok.request_body)["payload"]["message"]["text"] == "one"
        assert failed.id > ok.id
        assert mobile == []
        assert len(fake.requests("webhook_logs")) == 4
