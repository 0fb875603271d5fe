"""The ``aioqiscus`` command line."""

from __future__ import annotations

import io
import json
import socket

import pytest

from aioqiscus._cli import main
from aioqiscus.testing import FakeQiscus, serve


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


class TestDemo:
    def test_demo_on_the_fake(self):
        """The demo runs the whole bot scenario on an in-process fake."""
        status, out = run("demo")
        assert status == 0
        assert "in-process fake Qiscus server" in out
        assert "negotiated the v2.1 dialect" in out
        assert "registered Demo Bot, Alice and Bob" in out
        assert "card 'Blouse, 49.000' with 1 button(s)" in out
        assert "Buttons: 'Pick one:'" in out
        assert "search_messages" in out
        lines = out.splitlines()
        history = [line for line in lines if line.startswith("  #")]
        assert [line.split()[1] for line in history] == ["card", "buttons", "text"]
        conversation = lines[
            lines.index("6. a bot conversation, Alice typing and tapping in the fake:")
            + 1 :
        ][:4]
        assert conversation == [
            "   Alice (text): help",
            "   Demo Bot (buttons): What do you need?",
            "   Alice (button_postback_response): Where is my order?",
            "   Demo Bot (text): Alice, your order ships tomorrow.",
        ]

    def test_demo_on_a_v2_fake(self):
        """The same scenario works when the server speaks only v2."""
        status, out = run("demo", "--fake-dialects", "v2")
        assert status == 0
        assert "negotiated the v2 dialect" in out

    def test_demo_against_a_server(self, monkeypatch):
        """With credentials in the environment the demo uses the given app."""
        fake = FakeQiscus()
        with serve(fake) as url:
            monkeypatch.setenv("QISCUS_APP_ID", fake.app_id)
            monkeypatch.setenv("QISCUS_SECRET_KEY", fake.secret_key)
            status, out = run("demo", "--base-url", url)
        assert status == 0
        assert "app 'fake-app'" in out
        assert "the bot conversation needs the fake" in out
        assert len(fake.store.rooms) == 2


class TestDoctor:
    def test_good_credentials(self):
        """doctor prints the dialect and the route table; exit 0."""
        fake = FakeQiscus(dialects={"v2"})
        with serve(fake) as url:
            status, out = run(
                "doctor",
                "--app-id",
                "fake-app",
                "--secret-key",
                "fake-secret",
                "--base-url",
                url,
            )
        assert status == 0
        assert "credentials: accepted" in out
        assert "dialect: v2 (negotiated)\n" in out
        assert out.count("dialect:") == 1
        assert "get_or_create_channel" in out

    def test_bad_credentials_one_line(self, capsys):
        """A refused secret is one line naming the typed error; exit 1."""
        fake = FakeQiscus()
        with serve(fake) as url:
            status, _ = run(
                "doctor",
                "--app-id",
                "fake-app",
                "--secret-key",
                "wrong",
                "--base-url",
                url,
            )
        err = capsys.readouterr().err
        assert status == 1
        assert err.startswith("aioqiscus: AuthenticationError: 401")
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
        assert "wrong" not in err

    def test_debug_shows_traceback(self, capsys):
        """--debug prints the traceback too."""
        fake = FakeQiscus()
        with serve(fake) as url:
            status, _ = run(
                "--debug",
                "doctor",
                "--app-id",
                "fake-app",
                "--secret-key",
                "wrong",
                "--base-url",
                url,
            )
        assert status == 1
        assert "Traceback" in capsys.readouterr().err

    def test_needs_credentials(self, monkeypatch, capsys):
        """doctor without credentials is a usage error (exit 2)."""
        monkeypatch.delenv("QISCUS_APP_ID", raising=False)
        monkeypatch.delenv("QISCUS_SECRET_KEY", raising=False)
        with pytest.raises(SystemExit) as info:
            run("doctor")
        assert info.value.code == 2
        assert "no credentials" in capsys.readouterr().err

    def test_half_credentials(self):
        """An app id without a secret is a usage error."""
        with pytest.raises(SystemExit) as info:
            run("demo", "--app-id", "x")
        assert info.value.code == 2


class TestExport:
    def test_export_writes_details(self, tmp_path):
        """export waits with a progress bar and writes the export's details."""
        target = tmp_path / "export.json"
        status, out = run(
            "export",
            "--resource",
            "comments",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-31",
            "--out",
            str(target),
            "--poll-interval",
            "0.001",
        )
        assert status == 0
        assert "\nfinished 100%\n" in out
        assert "\r" not in out  # not a terminal: plain lines, no bar
        data = json.loads(target.read_text())
        assert data["status"] == "finished"
        assert data["resource"] == "comments"
        assert data["download_url"].endswith("_exported_comments.json")
        assert "add --download to fetch it" in out

    def test_bad_dates(self, tmp_path):
        """Dates must be YYYY-MM-DD."""
        with pytest.raises(SystemExit) as info:
            run(
                "export",
                "--resource",
                "users",
                "--since",
                "yesterday",
                "--until",
                "2024-01-02",
                "--out",
                str(tmp_path / "x"),
            )
        assert info.value.code == 2


@pytest.fixture(name="closed_port")
def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def doctor(url: str, version: str, secret: str | None = None) -> tuple[int, str]:
    """Run doctor on *url* pinned to *version* (the fake's secret by default)."""
    return run(
        "doctor",
        "--app-id",
        "fake-app",
        "--secret-key",
        secret or FakeQiscus().secret_key,
        "--base-url",
        url,
        "--api-version",
        version,
    )


class TestDoctorPinned:
    """With a pinned dialect, doctor sends a real authenticated request."""

    @pytest.mark.parametrize("version", ["v2", "v2.1"])
    def test_accepted(self, version):
        """A served dialect and a good secret: exit 0, after one real request."""
        fake = FakeQiscus(dialects={version})
        with serve(fake) as url:
            status, out = doctor(url, version)
        assert status == 0
        assert "credentials: accepted" in out
        assert f"dialect: {version} (pinned)\n" in out
        [entry] = fake.requests("user_profile")
        assert entry.dialect == version

    def test_wrong_secret(self, capsys):
        """A wrong secret fails (exit 1) with the typed error, not 'accepted'."""
        with serve(FakeQiscus()) as url:
            status, out = doctor(url, "v2.1", secret="wrong")
        err = capsys.readouterr().err
        assert status == 1
        assert "credentials: accepted" not in out
        assert err.startswith("aioqiscus: AuthenticationError: 401")
        assert "wrong" not in err

    def test_dialect_not_served(self, capsys):
        """v2.1 pinned on a v2-only server fails, naming v2.1 and suggesting auto."""
        with serve(FakeQiscus(dialects={"v2"})) as url:
            status, out = doctor(url, "v2.1")
        err = capsys.readouterr().err
        assert status == 1
        assert "credentials: accepted" not in out
        assert "v2.1" in err
        assert "--api-version auto" in err

    @pytest.mark.parametrize("version", ["v2", "v2.1", "auto"])
    def test_refused_connection(self, closed_port, version, capsys):
        """Nothing listening: exit 1, naming the host and port tried."""
        status, out = doctor(f"http://127.0.0.1:{closed_port}", version)
        err = capsys.readouterr().err
        assert status == 1
        assert "credentials: accepted" not in out
        assert f"127.0.0.1:{closed_port}" in err
        assert len(err.strip().splitlines()) == 1
