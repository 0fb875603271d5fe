"""The command line's finish: help, global flags, fake-server, doctor, export, pipes."""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from aioqiscus import webhooks
from aioqiscus._cli import COMMANDS, _parser, main
from aioqiscus.testing import FakeQiscus, Fault, serve
from aioqiscus.testing import __main__ as fake_server_main

from .helpers import until_serving

TODAY = datetime.now(UTC).date()
SINCE, UNTIL = str(TODAY - timedelta(days=1)), str(TODAY + timedelta(days=1))


def run(*argv: str, out: io.StringIO | None = None) -> tuple[int, str]:
    stream = out or io.StringIO()
    status = main(list(argv), out=stream)
    return status, stream.getvalue()


def commands() -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, with the options it gets when named."""

    def named(name: str) -> argparse.ArgumentParser:
        parser = _parser([name])
        [sub] = [
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        ]
        return sub.choices[name]

    return {name: named(name) for name in COMMANDS}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(name="no_env")
def _no_env(monkeypatch):
    for name in ("QISCUS_APP_ID", "QISCUS_SECRET_KEY", "QISCUS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="fake_in_env")
def _fake_in_env(no_env, monkeypatch):
    """A fake on loopback, named by the QISCUS_* variables."""
    fake = FakeQiscus()
    with serve(fake) as url:
        monkeypatch.setenv("QISCUS_APP_ID", fake.app_id)
        monkeypatch.setenv("QISCUS_SECRET_KEY", fake.secret_key)
        monkeypatch.setenv("QISCUS_BASE_URL", url)
        yield fake


class TestHelp:
    @pytest.mark.parametrize("name", list(commands()))
    def test_every_option_is_described(self, name):
        """Every option of every command has a description."""
        parser = commands()[name]
        assert parser.description
        undescribed = [
            a.option_strings for a in parser._actions if a.option_strings and not a.help
        ]
        assert undescribed == []

    def test_defaults_are_shown(self, capsys):
        """--help shows each option's default, and no 'default: None'."""
        with pytest.raises(SystemExit):
            main(["fake-server", "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for shown in ("(default: 127.0.0.1)", "(default: 8080)", "(default: fake-app)"):
            assert shown in text
        assert "default: None" not in text
        with pytest.raises(SystemExit):
            main(["export", "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "seconds between polls (default: 2.0)" in text

    def test_fake_server_has_the_options_of_the_module(self):
        """aioqiscus fake-server and python -m aioqiscus.testing take the same options."""
        module = argparse.ArgumentParser()
        fake_server_main.add_arguments(module)

        def options(parser):
            return {o for a in parser._actions for o in a.option_strings} - {
                "-h",
                "--help",
                "--debug",
            }

        assert options(commands()["fake-server"]) == options(module)
        assert {"--app-id", "--secret-key", "--webhook-url", "--webhook-token"} <= (
            options(module)
        )


class TestGlobalFlags:
    @pytest.mark.parametrize("where", ["before", "after"])
    @pytest.mark.usefixtures("fake_in_env")
    def test_debug_before_or_after_the_command(self, where, capsys):
        """--debug works before and after the command name."""
        argv = ["doctor", "--secret-key", "wrong", "--app-id", "fake-app"]
        argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
        status, _ = run(*argv)
        assert status == 1
        assert "Traceback" in capsys.readouterr().err

    @pytest.mark.usefixtures("fake_in_env")
    def test_no_debug_no_traceback(self, capsys):
        """Without --debug anywhere, one line."""
        status, _ = run("doctor", "--secret-key", "wrong", "--app-id", "fake-app")
        assert status == 1
        assert len(capsys.readouterr().err.splitlines()) == 1


class TestDoctor:
    def test_reads_the_base_url_variable(self, fake_in_env):
        """doctor finds the server from QISCUS_BASE_URL, like contract."""
        status, out = run("doctor")
        assert status == 0
        assert "credentials: accepted" in out
        assert fake_in_env.requests()  # it asked the served fake, not api.qiscus.com

    @pytest.mark.usefixtures("fake_in_env")
    def test_dialect_printed_once(self):
        """The dialect line appears once, from the report."""
        _, out = run("doctor")
        assert [line for line in out.splitlines() if "dialect" in line] == [
            "dialect: v2.1 (negotiated)"
        ]

    @pytest.mark.usefixtures("no_env")
    def test_fake_dialects_need_no_credentials(self):
        """doctor --fake-dialects checks an in-process fake, no account."""
        status, out = run("doctor", "--fake-dialects", "v2")
        assert status == 0
        assert "in-process fake" in out
        assert "dialect: v2 (negotiated)" in out

    @pytest.mark.usefixtures("no_env")
    def test_missing_credentials_name_both_variables(self, capsys):
        """Without credentials the usage error names both variables."""
        with pytest.raises(SystemExit) as info:
            run("doctor")
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "QISCUS_APP_ID and QISCUS_SECRET_KEY" in err
        assert "--fake-dialects" in err
        with pytest.raises(SystemExit):
            run("contract")
        assert "QISCUS_APP_ID and QISCUS_SECRET_KEY" in capsys.readouterr().err


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str | None]]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((body, self.headers.get(webhooks.SIGNATURE_HEADER)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class TestFakeServer:
    def test_busy_port_is_one_line(self, capsys):
        """A port in use: one line naming it, exit 1, nothing claims to serve."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            status, out = run("fake-server", "--port", str(port))
        err = capsys.readouterr().err
        assert status == 1
        assert out == ""
        assert err.startswith(
            f"aioqiscus: error: cannot serve on 127.0.0.1 port {port}:"
        )
        assert len(err.splitlines()) == 1

    def test_webhook_url_needs_its_token(self, capsys):
        """A webhook URL without a token is bad usage (exit 2)."""
        status, _ = run("fake-server", "--webhook-url", "http://127.0.0.1:9/hook")
        assert status == 2
        assert "--webhook-token" in capsys.readouterr().err

    def test_serves_credentials_users_and_webhooks(self):
        """fake-server takes credentials, users and a webhook, and prints them."""
        _Hook.received = []
        hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        hook_url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
        port = free_port()
        proc = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [
                sys.executable,
                "-m",
                "aioqiscus._cli",
                "fake-server",
                "--port",
                str(port),
                "--app-id",
                "my-app",
                "--secret-key",
                "my-secret",
                "--user",
                "a@example.com",
                "--user",
                "b@example.com",
                "--webhook-url",
                hook_url,
                "--webhook-token",
                "tok",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}/api/v2.1/rest"
        headers = {"QISCUS-SDK-SECRET": "my-secret", "QISCUS-SDK-APP-ID": "my-app"}
        try:
            room = until_serving(
                lambda: httpx.post(
                    f"{base}/create_room",
                    json={
                        "room_name": "R",
                        "creator": "a@example.com",
                        "participants": ["b@example.com"],
                    },
                    headers=headers,
                )
            )
            assert room.status_code == 200
            room_id = room.json()["results"]["room"]["room_id"]
            posted = httpx.post(
                f"{base}/post_comment",
                json={"user_id": "b@example.com", "room_id": room_id, "message": "hi"},
                headers=headers,
            )
            assert posted.status_code == 200
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=15)
            hook.shutdown()
            hook.server_close()
        [(body, signature)] = _Hook.received
        assert signature == webhooks.sign(body, "tok")
        assert webhooks.parse(body).comment.message == "hi"
        assert f"on http://127.0.0.1:{port}" in out
        assert "users: a@example.com, b@example.com" in out
        assert (
            "export QISCUS_APP_ID=my-app QISCUS_SECRET_KEY=my-secret "
            f"QISCUS_BASE_URL=http://127.0.0.1:{port}"
        ) in out


def export_args(out: Path, *extra: str) -> list[str]:
    return [
        "export",
        "--resource",
        "users",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--out",
        str(out),
        "--poll-interval",
        "0.001",
        *extra,
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestExport:
    @pytest.mark.usefixtures("no_env")
    def test_download_from_the_in_process_fake(self, tmp_path):
        """--download works without an account: the fake serves the file."""
        target = tmp_path / "users.json"
        status, out = run(*export_args(target, "--download"))
        assert status == 0
        assert json.loads(target.read_text()) == []
        assert "downloaded http://127.0.0.1/download/" in out
        assert list(tmp_path.iterdir()) == [target]

    def test_download_from_a_server(self, fake_in_env, tmp_path):
        """--download fetches the rows from the served fake's download URL."""
        fake_in_env.add_user("alice@example.com", "Alice")
        target = tmp_path / "users.json"
        status, _ = run(*export_args(target, "--download"))
        assert status == 0
        assert [r["Email"] for r in json.loads(target.read_text())] == [
            "alice@example.com"
        ]

    @pytest.mark.usefixtures("no_env")
    def test_progress_bar_on_a_terminal(self, tmp_path):
        """On a terminal the bar is redrawn in place."""
        terminal = _Terminal()
        status, out = run(*export_args(tmp_path / "e.json"), out=terminal)
        assert status == 0
        assert "\r[" + "#" * 30 + "] 100% finished" in out

    @pytest.mark.usefixtures("no_env")
    def test_plain_progress_lines_elsewhere(self, tmp_path):
        """Elsewhere, one plain line per change of state."""
        _, out = run(*export_args(tmp_path / "e.json"))
        progress = [line for line in out.splitlines() if line.endswith("%")]
        assert progress == ["started 0%", "started 25%", "started 60%", "finished 100%"]

    @pytest.mark.parametrize(
        ("setup", "step", "error"),
        [
            (
                lambda fake: fake.inject(Fault.status(400), endpoints="exports"),
                "create",
                "BadRequestError",
            ),
            (
                lambda fake: setattr(fake, "export_steps", [("failed", 0)]),
                "wait",
                "BackupFailedError",
            ),
            (
                lambda fake: fake.inject(Fault.status(503), endpoints="download"),
                "download",
                "ServerError",
            ),
        ],
    )
    def test_errors_name_the_step(
        self, fake_in_env, tmp_path, capsys, setup, step, error
    ):
        """A failed export says which step failed, and leaves no file behind."""
        setup(fake_in_env)
        status, _ = run(*export_args(tmp_path / "users.json", "--download"))
        err = capsys.readouterr().err
        assert status == 1
        assert err.startswith(f"aioqiscus: export failed at the {step} step: {error}")
        assert len(err.splitlines()) == 1
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.usefixtures("no_env")
    @pytest.mark.parametrize("download", [False, True])
    def test_write_errors_name_the_step(self, tmp_path, capsys, monkeypatch, download):
        """A disk that refuses the file is the write step's failure."""

        def refuse(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(Path, "write_text", refuse)
        monkeypatch.setattr(Path, "open", refuse)
        extra = ["--download"] if download else []
        status, _ = run(*export_args(tmp_path / "users.json", *extra))
        assert status == 1
        assert capsys.readouterr().err.startswith(
            "aioqiscus: export failed at the write step: OSError: [Errno 28]"
        )

    @pytest.mark.parametrize("where", ["missing/users.json", "."])
    def test_out_checked_before_exporting(self, fake_in_env, tmp_path, capsys, where):
        """A missing directory or a directory as --out: exit 2, nothing asked."""
        target = tmp_path / where
        with pytest.raises(SystemExit) as info:
            run(*export_args(target))
        assert info.value.code == 2
        assert "--out" in capsys.readouterr().err
        assert fake_in_env.journal == []

    @pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
    def test_out_not_writable(self, fake_in_env, tmp_path, capsys):
        """A directory we may not write to: exit 2 before the export."""
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(SystemExit) as info:
            run(*export_args(locked / "users.json"))
        assert info.value.code == 2
        assert "not writable" in capsys.readouterr().err
        assert fake_in_env.journal == []


def test_closed_pipe_is_quiet():
    """Output to a reader that went away ends quietly with status 141."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioqiscus._cli", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # like `| head` exiting before the demo writes
    _, err = proc.communicate(timeout=60)
    assert err == b""
    assert proc.returncode == 141
