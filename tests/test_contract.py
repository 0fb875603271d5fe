"""``aioqiscus contract``: the tour against the fake, cassettes, redaction, replay."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient
from aioqiscus._cli import main
from aioqiscus._contract._cassette import (
    LOOPBACK_ONLY_ENV,
    REDACTED,
    Cassette,
    Interaction,
    Recorder,
    Tag,
    redact,
    tagged,
)
from aioqiscus._contract._live import Settings, tour
from aioqiscus._contract._replay import IdMap
from aioqiscus._contract._shape import diff
from aioqiscus._contract._steps import Run, Status, Step, run_step
from aioqiscus._contract._tour import STEPS, V21_ONLY
from aioqiscus.testing import FakeQiscus, serve

MODES = {"v2": {"v2"}, "v2.1": {"v2.1"}, "both": {"v2", "v2.1"}}
PREFIX = "aioqiscus-contract-test01"
REAL_EMAIL = "dana.real@corp.example"
REAL_NAME = "Dana Real"
CLI_BUDGET = 90.0


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Every tour in these tests refuses any host that is not loopback."""
    monkeypatch.setenv(LOOPBACK_ONLY_ENV, "1")


def run_cli(*argv: str) -> tuple[int, str]:
    """``aioqiscus._cli.main`` in a worker thread, bounded in time."""
    out = io.StringIO()
    pool = ThreadPoolExecutor(1)
    try:
        status = pool.submit(main, list(argv), out).result(timeout=CLI_BUDGET)
    finally:
        pool.shutdown(wait=False)
    return status, out.getvalue()


def existing_data(fake: FakeQiscus) -> int:
    """An app's own users, room and comments, there before the tour."""
    fake.add_user(REAL_EMAIL, REAL_NAME)
    fake.add_user("eve.real@corp.example", "Eve Real")
    room = fake.store.create_room(
        "Private", "group", REAL_EMAIL, ["eve.real@corp.example"]
    )
    fake.add_comment(room.id, REAL_EMAIL, "private one")
    fake.add_comment(room.id, REAL_EMAIL, "private two")
    return room.id


def tour_args(fake: FakeQiscus, url: str, *extra: str) -> list[str]:
    return [
        "contract",
        "--base-url",
        url,
        "--app-id",
        fake.app_id,
        "--secret-key",
        fake.secret_key,
        "--prefix",
        PREFIX,
        "--timeout",
        "10",
        *extra,
    ]


def row(out: str, operation: str, dialect: str) -> list[str]:
    """The report row of *operation* in *dialect*, split into words."""
    for line in out.splitlines():
        words = line.split()
        if words[:2] == [operation, dialect]:
            return words
    raise AssertionError(f"no row {operation} {dialect} in:\n{out}")


def drifted(path: Path, out: Path, dialect: str) -> None:
    """Copy a cassette with one key removed and one type changed."""
    data = json.loads(path.read_text())
    for item in data["interactions"]:
        if item["dialect"] != dialect:
            continue
        if item["operation"] == "create_room":
            results = item["response"]["body"]["results"]
            room = results["room"] if dialect == "v2.1" else results
            del room["room_name"]
        if item["operation"] == "post_comment:text":
            comment = item["response"]["body"]["results"]["comment"]
            comment["id"] = str(comment["id"])
    out.write_text(json.dumps(data))


class TestTourAgainstTheFake:
    @pytest.mark.parametrize("mode", MODES)
    def test_record_compare_and_drift(self, mode, tmp_path):
        """The tour passes on the fake, its cassette is clean and replays; drift fails."""
        fake = FakeQiscus(dialects=MODES[mode])
        private = existing_data(fake)
        cassette = tmp_path / "cassette.json"
        with serve(fake) as url:
            status, out = run_cli(*tour_args(fake, url, "--record", str(cassette)))
        assert status == 0, out
        last = "v2.1" if "v2.1" in MODES[mode] else "v2"
        assert row(out, "create_room", last)[2] == "ok"
        assert row(out, "post_comment:card", last)[2] == "ok"
        assert "0 differs" not in out
        assert "differs" not in out.split("server facts")[0]

        data = json.loads(cassette.read_text())
        assert data["version"] == 1
        assert sorted(data["server"]["dialects_served"]) == sorted(MODES[mode])
        for dialect in MODES[mode]:
            facts = data["server"][dialect]
            assert facts["headers"] == {
                "dashes": "accepted",
                "underscores": "accepted",
                "none": "refused (401)",
            }
            assert facts["load_comments_order"] == "newest first"
            assert facts["paging"]["load_comments"] == "limit 3 honoured"
            assert facts["find_comment_finds_marker"] is True
            # As each dialect's document shows a text comment's payload.
            expected = "object" if dialect == "v2" else "null"
            assert facts["text_comment_payload"] == expected
        if "v2.1" in MODES[mode]:
            # The fake answers v2.1 comments as live servers do: no marker.
            assert data["server"]["v2.1"]["unique_temp_id_echoed"] == "absent"
            assert data["server"]["v2.1"]["room_options_answered_as"] == "string"
            # Like live servers (show_empty defaults to false): none listed.
            assert data["server"]["v2.1"]["rooms_without_messages_listed"] == "0 of 3"
        if "v2" in MODES[mode]:
            assert data["server"]["v2"]["unique_temp_id_stored"] == (
                "yes (as unique_temp_id)"
            )
        interactions = data["interactions"]
        assert len(interactions) >= 15
        assert len({i["operation"] for i in interactions}) >= 12
        assert all("headers" not in i["request"] for i in interactions)

        text = cassette.read_text()
        assert fake.secret_key not in text
        tokens = [u.token for u in fake.store.users.values()]
        # The journal masks passwords; the store has them.
        passwords = [u.password for u in fake.store.users.values() if u.password]
        assert passwords
        for leaked in (*tokens, *passwords, REAL_EMAIL, REAL_NAME):
            assert leaked not in text
        assert "private one" not in text

        # Nothing of the app's own data was changed or deleted.
        room = fake.room(private)
        assert room.participants == [REAL_EMAIL, "eve.real@corp.example"]
        assert [c.message for c in room.comments] == ["private one", "private two"]
        # Its one DELETE deactivates its own user (reactivated right after).
        deletes = [e for e in fake.journal if e.method == "DELETE"]
        assert {e.endpoint for e in deletes} <= {"deactivate_users"}
        assert all(u.startswith(PREFIX) for e in deletes for u in e.body["user_ids"])
        assert all(u.active for u in fake.store.users.values())

        status, out = run_cli("contract", "--compare", str(cassette))
        assert status == 0, out
        assert "every answer has the shape the fake answers" in out

        bad = tmp_path / "drifted.json"
        drifted(cassette, bad, last)
        status, out = run_cli("contract", "--compare", str(bad))
        assert status == 1
        name = "results.room.room_name" if last == "v2.1" else "results.room_name"
        assert f"create_room {last} {name}: missing" in out
        assert f"post_comment:text {last} results.comment.id: integer -> string" in out

    async def test_only_loopback_hosts_are_called(self):
        """The tour's every request goes to the loopback server it was given."""
        fake = FakeQiscus()
        with serve(fake) as url:
            settings = Settings(
                app_id=fake.app_id,
                secret_key=fake.secret_key,
                base_url=url,
                prefix=PREFIX,
                timeout=10,
                loopback_only=True,
            )
            with anyio.fail_after(CLI_BUDGET):
                report = await tour(settings)
        assert report.hosts == {"127.0.0.1"}
        assert not report.failed
        ops = {(r.operation, r.dialect) for r in report.rows if r.status is Status.OK}
        assert ("get_or_create_channel", "v2.1") in ops
        assert ("search_messages", "v2") in ops

    def test_subprocess_with_environment_credentials(self):
        """The installed command reads QISCUS_* variables and prints the table."""
        fake = FakeQiscus(dialects={"v2.1"})
        env = {
            **os.environ,
            "QISCUS_APP_ID": fake.app_id,
            "QISCUS_SECRET_KEY": fake.secret_key,
            LOOPBACK_ONLY_ENV: "1",
        }
        with serve(fake) as url:
            env["QISCUS_BASE_URL"] = url
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "aioqiscus._cli",
                    "contract",
                    "--dialects",
                    "v2.1",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=CLI_BUDGET,
                check=False,
            )
        assert done.returncode == 0, done.stdout + done.stderr
        assert row(done.stdout, "get_or_create_channel", "v2.1")[2] == "ok"
        assert "headers: dashes accepted; underscores accepted; none refused (401)" in (
            done.stdout
        )
        assert fake.secret_key not in done.stdout + done.stderr


class _Drift:
    """The fake, with answers changed the way a real server might differ."""

    def __init__(self, fake: FakeQiscus) -> None:
        self.fake = fake

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.fake(scope, receive, send)
        messages: list[dict[str, Any]] = []

        async def keep(message):
            messages.append(message)

        await self.fake(scope, receive, keep)
        start, *rest = messages
        body = b"".join(m.get("body", b"") for m in rest)
        status = start["status"]
        path = scope["path"]
        if path.endswith("/v2.1/rest/create_room"):
            data = json.loads(body)
            del data["results"]["room"]["room_options"]
            body = json.dumps(data).encode()
        elif path.endswith("/v2.1/rest/post_comment"):
            data = json.loads(body)
            data["results"]["comment"]["status"] = "sent"
            body = json.dumps(data).encode()
        elif path.endswith("/v2.1/rest/get_unread_count"):
            status = 500
            body = b'{"status": 500, "error": {"message": "Internal Server Error"}}'
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None


class TestTourFindsDifferences:
    def test_a_drifting_server_is_reported(self):
        """Missing keys differ, refusals are refused, extra keys are only news."""
        fake = FakeQiscus(dialects={"v2.1"})
        with serve(_Drift(fake)) as url:
            status, out = run_cli(*tour_args(fake, url))
        assert status == 1
        assert row(out, "create_room", "v2.1")[2] == "differs"
        assert "results.room.room_options: missing" in out
        assert row(out, "get_unread_counts", "v2.1")[2:4] == ["refused", "500"]
        assert "(status): server answered 500, the fake 200" in out
        assert row(out, "post_comment:text", "v2.1")[2] == "ok"
        assert "results.comment.status: extra (string)" in out

    def test_a_pinned_dialect_the_server_lacks_fails(self):
        """--dialects v2 against a v2.1-only server: the probe fails, exit 1."""
        fake = FakeQiscus(dialects={"v2.1"})
        with serve(fake) as url:
            status, out = run_cli(*tour_args(fake, url, "--dialects", "v2"))
        assert status == 1
        assert row(out, "probe", "v2")[2:] == [
            "failed",
            "not",
            "served",
            "(no",
            "Qiscus",
            "answer)",
        ]
        assert "create_room" not in out

    def test_refused_credentials(self, capsys):
        """A wrong secret stops the tour with the typed error, the secret unsaid."""
        fake = FakeQiscus()
        with serve(fake) as url:
            argv = tour_args(fake, url)
            argv[argv.index(fake.secret_key)] = "wrong-secret-value"
            status, _ = run_cli(*argv)
        assert status == 1
        err = capsys.readouterr().err
        assert "AuthenticationError" in err
        assert "wrong-secret-value" not in err

    @pytest.mark.parametrize("url", ["http://qiscus.example.com", "http://a\x00b"])
    def test_an_unsafe_base_url_is_refused_before_any_request(self, url, capsys):
        """Plain http to a real host (or a broken URL) exits 1 and sends nothing."""
        status, out = run_cli(
            "contract", "--base-url", url, "--app-id", "app", "--secret-key", "s3cret"
        )
        assert status == 1
        assert "InvalidArgumentError" in capsys.readouterr().err
        assert "operation" not in out

    def test_usage_errors(self, monkeypatch):
        """No credentials, or a short prefix, is a usage error (exit 2)."""
        monkeypatch.delenv("QISCUS_APP_ID", raising=False)
        monkeypatch.delenv("QISCUS_SECRET_KEY", raising=False)
        with pytest.raises(SystemExit) as exc:
            main(["contract"], out=io.StringIO())
        assert exc.value.code == 2
        with pytest.raises(SystemExit) as exc:
            main(
                ["contract", "--app-id", "a", "--secret-key", "s", "--prefix", "x"],
                out=io.StringIO(),
            )
        assert exc.value.code == 2
        with pytest.raises(SystemExit) as exc:
            main(
                [
                    *("contract", "--app-id", "a", "--secret-key", "s"),
                    *("--max-response-bytes", "0"),
                ],
                out=io.StringIO(),
            )
        assert exc.value.code == 2

    def test_a_file_that_is_not_a_cassette(self, tmp_path):
        """--compare on something else exits 1 with a reason."""
        path = tmp_path / "x.json"
        path.write_text('{"version": 7}')
        status, _ = run_cli("contract", "--compare", str(path))
        assert status == 1


class TestSteps:
    def test_every_step_calls_methods_the_client_has(self):
        """Every step of the tour names methods the client has."""
        for step in STEPS:
            assert all(hasattr(QiscusClient, n) for n in step.requires), step

    async def test_a_step_lights_up_when_its_method_appears(self):
        """Missing method: "not implemented"; once present, the step runs it."""
        called = []

        class Newer(QiscusClient):
            async def disable_users(self, user_ids):
                called.append(user_ids)

        async def action(run: Run) -> None:
            await run.client.disable_users([run.user("carol")])

        step = Step(
            "disable_users", action, ("disable_users",), dialects=frozenset({"v2.1"})
        )
        fake = FakeQiscus()
        recorder = Recorder(fake.transport())
        cases = (
            (QiscusClient, "v2.1", Status.SKIPPED, "not implemented by this client"),
            (Newer, "v2", Status.SKIPPED, "documented for v2.1 only"),
            (Newer, "v2.1", Status.OK, ""),
        )
        for cls, dialect, status, detail in cases:
            client = cls(fake.app_id, fake.secret_key, http_client=fake.http_client())
            async with client:
                with anyio.fail_after(10):
                    result = await run_step(
                        Run(client, dialect, PREFIX, recorder), step
                    )
            assert (result.status, result.detail) == (status, detail)
        assert called == [[f"{PREFIX}-v21-carol"]]

    async def test_v21_only_steps_run_against_the_fake(self):
        """The seven v2.1-only endpoints run in v2.1 and skip in v2."""
        fake = FakeQiscus()
        recorder = Recorder(fake.transport())
        by_name = {s.operation: s for s in V21_ONLY}
        assert set(by_name) == {
            "get_comments_range",
            "get_average_reply_time",
            "iter_webhook_logs",
            "iter_unread_users",
            "get_user_unread_counts",
            "deactivate_users",
            "reactivate_users",
        }
        client = QiscusClient(
            fake.app_id, fake.secret_key, http_client=fake.http_client()
        )
        async with client:
            run = Run(client, "v2.1", PREFIX, recorder)
            for name in ("alice", "bob", "carol"):
                fake.add_user(run.user(name))
            room = fake.store.create_room(
                "g", "group", run.user("alice"), [run.user("bob")]
            )
            run.rooms["group"] = str(room.id)
            run.comments["text"] = fake.add_comment(room.id, run.user("bob"), "a")
            run.comments["file_attachment"] = fake.add_comment(
                room.id, run.user("alice"), "b"
            )
            with anyio.fail_after(10):
                rows = {n: await run_step(run, s) for n, s in by_name.items()}
                v2 = await run_step(
                    Run(client, "v2", PREFIX, recorder), by_name["deactivate_users"]
                )
        details = {n: (r.status, r.detail) for n, r in rows.items()}
        assert details == {
            "get_comments_range": (Status.OK, "2 comments"),
            "get_average_reply_time": (Status.OK, "average 0 s"),
            "iter_webhook_logs": (Status.OK, "0 read"),
            "iter_unread_users": (Status.OK, "1 read"),
            "get_user_unread_counts": (Status.OK, "0, 1"),
            "deactivate_users": (Status.OK, "success"),
            "reactivate_users": (Status.OK, "success"),
        }
        assert (v2.status, v2.detail) == (Status.SKIPPED, "documented for v2.1 only")
        assert fake.store.users[run.user("carol")].active is True
        assert [e.endpoint for e in fake.journal[-2:]] == [
            "deactivate_users",
            "reactivate_users",
        ]


class TestShapes:
    def test_missing_keys_and_type_changes_differ(self):
        """A removed key and a changed type are named by their key path."""
        expected = {"results": {"room": {"room_id": "1", "room_options": "{}"}}}
        actual = {"results": {"room": {"room_id": 1}}}
        found = [str(f) for f in diff(actual, expected)]
        assert found == [
            "results.room.room_id: string -> integer",
            "results.room.room_options: missing",
        ]

    def test_extra_keys_are_informational(self):
        """Keys the server adds are reported, but do not count as differences."""
        [finding] = diff({"a": 1, "status": "sent"}, {"a": 2})
        assert str(finding) == "status: extra (string)"
        assert finding.informational

    def test_enum_values_are_compared(self):
        """room_type values matter; other values do not."""
        [finding] = diff(
            {"room_type": "channel", "name": "x"}, {"room_type": "group", "name": "y"}
        )
        assert str(finding) == "room_type: 'channel' not in ['group']"

    def test_null_and_object_payloads_differ(self):
        """``payload: {}`` where the fake answers ``null`` is a type change."""
        [finding] = diff({"payload": {}}, {"payload": None})
        assert str(finding) == "payload: null -> object"

    def test_lists_of_other_lengths_compare_merged(self):
        """An extra element (a server's own system comment) is no difference."""
        fake = [{"id": 2, "type": "text"}, {"id": 1, "type": "text"}]
        server = [{"id": 3, "type": "text"}, *fake]
        assert diff({"comments": server}, {"comments": fake}) == []
        server[0] = {"id": "3", "type": "text"}
        assert [str(f) for f in diff({"comments": server}, {"comments": fake})] == [
            "comments[].id: integer -> integer|string"
        ]

    def test_an_integer_where_a_number_is_expected(self):
        """A latitude of 0 sent as an integer is still a number."""
        assert diff({"lat": 0}, {"lat": 0.5}) == []
        assert [str(f) for f in diff({"lat": 0.5}, {"lat": 0})] == [
            "lat: integer -> number"
        ]


class TestRedaction:
    def test_secrets_tokens_passwords_and_foreign_emails(self):
        """Credentials go wherever they appear; the tour's own names stay."""
        own = f"{PREFIX}-v2-alice@example.com"
        secret = "s3cret-key-value"
        token = "tok-abcdefgh"
        cassette = Cassette(
            {"base_url": "https://my-app.qiscus.com"},
            [
                Interaction(
                    "login_or_register",
                    "v2",
                    "POST",
                    "/api/v2/rest/login_or_register",
                    [["device_token", "push-1234567"]],
                    {"email": own, "password": "pw-123456", "note": f"key {secret}"},
                    200,
                    {"results": {"user": {"email": own, "token": token}}},
                ),
                Interaction(
                    "iter_users",
                    "v2.1",
                    "GET",
                    "/api/v2.1/rest/get_user_list",
                    [],
                    None,
                    200,
                    {
                        "results": {
                            "users": [
                                {"email": REAL_EMAIL, "name": REAL_NAME, "id": 7},
                                {"email": own, "name": f"{PREFIX} Alice"},
                            ],
                            "echo": f"seen {token}",
                        }
                    },
                    app_data=True,
                ),
            ],
        )
        safe = redact(cassette, prefix=PREFIX, secret=secret, app_id="my-app")
        text = json.dumps(safe.to_json())
        for leaked in (
            secret,
            token,
            "pw-123456",
            "push-1234567",
            REAL_EMAIL,
            REAL_NAME,
        ):
            assert leaked not in text
        assert "my-app" not in text
        first, second = safe.interactions
        assert first.body["email"] == own
        assert first.body["password"] == REDACTED
        users = second.response["results"]["users"]
        assert users[0] == {"email": REDACTED, "name": REDACTED, "id": 7}
        assert users[1]["name"] == f"{PREFIX} Alice"

    def test_emails_in_ordinary_answers(self):
        """Outside app-wide reads only emails are scrubbed; the system user stays."""
        item = Interaction(
            "iter_comments",
            "v2",
            "GET",
            "/api/v2/rest/load_comments",
            [],
            None,
            200,
            {"comments": [{"email": "system@qiscus.com", "message": "to bob@corp.io"}]},
        )
        safe = redact(Cassette({}, [item]), prefix=PREFIX, secret="x" * 10, app_id="a")
        [comment] = safe.interactions[0].response["comments"]
        assert comment == {
            "email": "system@qiscus.com",
            "message": "to redacted@example.invalid",
        }

    def test_saving_is_atomic(self, tmp_path):
        """The file is replaced whole, and no temporary file is left behind."""
        path = tmp_path / "c.json"
        path.write_text("old")
        Cassette({"x": 1}, []).save(path)
        assert json.loads(path.read_text())["server"] == {"x": 1}
        assert [p.name for p in tmp_path.iterdir()] == ["c.json"]
        assert Cassette.load(path).server == {"x": 1}


class TestIdMap:
    def test_ids_learned_from_answers_rewrite_later_requests(self):
        """Room and comment ids map; user identifiers and counts do not."""
        ids = IdMap()
        ids.learn(
            {"results": {"room": {"room_id": "88", "participants": [{"id": 5}]}}},
            {"results": {"room": {"room_id": "1001", "participants": [{"id": 1}]}}},
        )
        ids.learn(
            {"results": {"comment": {"id": 9001}}},
            {"results": {"comment": {"id": 500001}}},
        )
        body = {
            "room_id": "88",
            "user_id": "88",
            "limit": 5,
            "payload": {"replied_comment_id": 9001},
        }
        assert ids.body(body) == {
            "room_id": "1001",
            "user_id": "88",
            "limit": 5,
            "payload": {"replied_comment_id": 500001},
        }
        assert ids.query([["room_ids[]", "88"], ["page", "5"]]) == (
            ("room_ids[]", "1001"),
            ("page", "5"),
        )
        assert ids.path("/api/v2/rest/exports/88") == "/api/v2/rest/exports/1001"


class TestRecorder:
    async def test_loopback_only_refuses_other_hosts_before_sending(self):
        """With the flag, a request to a real host never reaches the transport."""
        sent = []
        inner = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
        recorder = Recorder(inner, loopback_only=True)
        async with httpx.AsyncClient(transport=recorder) as http:
            with pytest.raises(httpx.ConnectError, match="loopback hosts only"):
                await http.get("https://api.qiscus.com/api/v2.1/rest/user_profile")
            await http.get("http://127.0.0.1:9/x")
        assert [r.url.host for r in sent] == ["127.0.0.1"]

    async def test_records_tagged_exchanges_without_headers(self):
        """Only tagged exchanges are kept; bodies are decoded, gzip included."""
        answer = gzip.compress(b'{"results": {"ok": true}, "status": 200}')

        def reply(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200, content=answer, headers={"content-encoding": "gzip"}
            )

        recorder = Recorder(httpx.MockTransport(reply), base_path="/base")
        async with httpx.AsyncClient(transport=recorder) as http:
            await http.get("http://127.0.0.1/base/untagged")
            with tagged(Tag("op", "v2.1")):
                response = await http.post(
                    "http://127.0.0.1/base/api/v2.1/rest/x?a=1",
                    json={"k": "v"},
                    headers={"QISCUS-SDK-SECRET": "hidden-secret"},
                )
        assert response.json() == {"results": {"ok": True}, "status": 200}
        [item] = recorder.interactions
        assert item.to_json() == {
            "operation": "op",
            "dialect": "v2.1",
            "request": {
                "method": "POST",
                "path": "/api/v2.1/rest/x",
                "query": [["a", "1"]],
                "body": {"k": "v"},
            },
            "response": {
                "status": 200,
                "body": {"results": {"ok": True}, "status": 200},
            },
        }


class TestOmnichannelTour:
    """``contract --omnichannel``: the read-only tour and its comparison."""

    @staticmethod
    def omni_fake() -> tuple[FakeQiscus, str]:
        fake = FakeQiscus()
        channel = fake.omnichannel.add_channel("wa", "Support WA")
        division = fake.omnichannel.add_division("Billing")
        fake.omnichannel.add_agent("Ana", "ana@example.com", divisions=[division])
        room = fake.omnichannel.customer_room("6281234567890", channel)
        return fake, str(room.room_id)

    def omni_args(self, fake: FakeQiscus, url: str, *extra: str) -> list[str]:
        return [
            "contract",
            "--omnichannel",
            "--omnichannel-url",
            url,
            "--app-id",
            fake.app_id,
            "--secret-key",
            fake.secret_key,
            "--timeout",
            "10",
            *extra,
        ]

    def test_tour_of_the_fake_is_ok(self):
        """Against the fake every read is ok; nothing is written."""
        fake, room_id = self.omni_fake()
        with serve(fake) as url:
            status, out = run_cli(
                *self.omni_args(fake, url, "--omnichannel-room", room_id)
            )
        assert status == 0, out
        for operation in (
            "list_channels",
            "iter_divisions",
            "iter_agents",
            "iter_agents_by_division",
            "get_customer_room",
            "get_room_tags",
            "get_customer_info",
            "iter_available_agents",
        ):
            assert row(out, operation, "omni")[2] == "ok", out
        assert {e.method for e in fake.journal} == {"GET"}

    def test_without_a_room_room_reads_are_skipped(self):
        """Room-scoped reads need --omnichannel-room."""
        fake, _ = self.omni_fake()
        with serve(fake) as url:
            status, out = run_cli(*self.omni_args(fake, url))
        assert status == 0, out
        assert row(out, "get_customer_room", "omni")[2] == "skipped"
        assert row(out, "list_channels", "omni")[2] == "ok"

    def test_a_drifting_answer_differs(self):
        """A server whose agents lack a documented key is reported."""
        fake, _ = self.omni_fake()

        async def drifting(scope, receive, send):
            """The fake, with current_customer_count dropped from agents."""

            async def edit(message):
                if message["type"] == "http.response.body" and scope["path"] == (
                    "/api/v2/admin/agents"
                ):
                    data = json.loads(message["body"])
                    for agent in data["data"]["agents"]:
                        del agent["current_customer_count"]
                    message = {**message, "body": json.dumps(data).encode()}
                elif message["type"] == "http.response.start":
                    message = {
                        **message,
                        "headers": [
                            (k, v)
                            for k, v in message["headers"]
                            if k.lower() != b"content-length"
                        ],
                    }
                await send(message)

            await fake(scope, receive, edit)

        with serve(drifting) as url:  # type: ignore[arg-type]
            status, out = run_cli(*self.omni_args(fake, url))
        assert status == 1
        assert row(out, "iter_agents", "omni")[2] == "differs"
        assert "current_customer_count: missing" in out

    def test_refused_credentials(self):
        """A wrong secret is refused, and the command fails."""
        fake, _ = self.omni_fake()
        with serve(fake) as url:
            args = self.omni_args(fake, url)
            args[args.index(fake.secret_key)] = "wrong-secret"
            status, out = run_cli(*args)
        assert status == 1
        assert row(out, "list_channels", "omni")[2] == "refused"

    def test_only_loopback_hosts(self):
        """Under the loopback-only setting, a real host is never called."""
        fake, _ = self.omni_fake()
        status, out = run_cli(*self.omni_args(fake, "https://multichannel.qiscus.com"))
        assert status == 1
        assert row(out, "list_channels", "omni")[2] == "failed"
