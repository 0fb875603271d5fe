"""``aioqiscus migrate``: credentials, exit codes, report file, Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from aioqiscus._cli import main
from aioqiscus.testing import Fault, serve

from ._migration_app import ALICE, app_pair, seed, snapshot
from .test_migration_resume import _lines

CLI = "from aioqiscus._cli import main; raise SystemExit(main())"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["migrate", *argv], out=out)
    return status, out.getvalue()


@pytest.fixture(name="apps")
def _apps(monkeypatch, tmp_path):
    """A seeded source and an empty target on loopback, named by variables."""
    source, target = app_pair()
    asyncio.run(seed(source))
    with serve(source) as src_url, serve(target) as dst_url:
        for side, fake, url in (
            ("SOURCE", source, src_url),
            ("TARGET", target, dst_url),
        ):
            monkeypatch.setenv(f"QISCUS_{side}_APP_ID", fake.app_id)
            monkeypatch.setenv(f"QISCUS_{side}_SECRET_KEY", fake.secret_key)
            monkeypatch.setenv(f"QISCUS_{side}_BASE_URL", url)
        monkeypatch.chdir(tmp_path)
        yield source, target


class TestMigrate:
    def test_rich_progress_and_window(self, apps):
        """--progress rich draws bars; --since tomorrow copies no comment."""
        _, target = apps
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        status, out = run("--progress", "rich", "--since", tomorrow)
        assert status == 0, out
        assert "users" in out
        assert "comments: 0 read" in out
        assert len(snapshot(target)["users"]) == 3
        assert snapshot(target)["comments"] == []

    def test_wrong_target_secret_fails_before_writing(self, apps, monkeypatch, capsys):
        """A refused credential: exit 1, the error named, nothing written."""
        _, target = apps
        monkeypatch.setenv("QISCUS_TARGET_SECRET_KEY", "wrong")
        status, _ = run("--progress", "none")
        assert status == 1
        assert "AuthenticationError" in capsys.readouterr().err
        assert target.store.users == {}

    @pytest.mark.usefixtures("apps")
    def test_since_after_until_is_a_usage_error(self, capsys):
        """--since after --until: exit 2."""
        with pytest.raises(SystemExit) as exc:
            run("--since", "2024-02-01", "--until", "2024-01-01")
        assert exc.value.code == 2
        assert "--since must not be after --until" in capsys.readouterr().err

    def test_moves_verifies_and_writes_the_report(self, apps, tmp_path):
        """Exit 0, a summary, and the report as JSON."""
        _, target = apps
        status, out = run(
            "--source-api-version",
            "v2",
            "--target-api-version",
            "v2.1",
            "--user",
            ALICE,
            "--report",
            "r.json",
        )
        assert status == 0, out
        assert "comments: 10 read, 10 written" in out
        assert "verified: the target matches" in out
        assert "users: 3/3" in out  # plain progress lines
        data = json.loads((tmp_path / "r.json").read_text())
        assert data["ok"] is True
        assert data["counts"]["room"]["written"] == 2
        assert len(snapshot(target)["comments"]) == 10
        assert (tmp_path / "move.sqlite").exists()

    @pytest.mark.usefixtures("apps")
    def test_rerun_resumes_and_writes_nothing(self):
        """A second run with the default checkpoint finds everything there."""
        run("--progress", "none")
        status, out = run("--progress", "none")
        assert status == 0
        assert "comments: 10 read, 0 written, 10 already there" in out

    def test_dry_run_writes_nothing(self, apps, tmp_path):
        """--dry-run plans and reports; the target and the disk stay empty."""
        _, target = apps
        status, out = run("--dry-run", "--progress", "none")
        assert status == 0, out
        assert out.startswith("dry run from app-source")
        assert "comments: 10 read, 10 to write" in out
        assert target.store.users == {}
        assert not (tmp_path / "move.sqlite").exists()

    def test_failures_exit_one_and_are_listed(self, apps):
        """A refused comment: exit 1, the failure named."""
        _, target = apps
        target.inject(Fault.status(400), endpoints="post_comment", times=1)
        status, out = run("--progress", "none")
        assert status == 1
        assert "failures:\n  - comment 1001/" in out

    @pytest.mark.usefixtures("apps")
    def test_missing_credentials_are_a_usage_error(self, monkeypatch, capsys):
        """No target secret: exit 2, saying how to give it."""
        monkeypatch.delenv("QISCUS_TARGET_SECRET_KEY")
        with pytest.raises(SystemExit) as exc:
            run()
        assert exc.value.code == 2
        assert "QISCUS_TARGET_SECRET_KEY" in capsys.readouterr().err

    @pytest.mark.usefixtures("apps")
    def test_no_source_credentials_names_the_source_options(self, monkeypatch, capsys):
        """Neither source id nor secret: exit 2, naming the source's options."""
        monkeypatch.delenv("QISCUS_SOURCE_APP_ID")
        monkeypatch.delenv("QISCUS_SOURCE_SECRET_KEY")
        with pytest.raises(SystemExit) as exc:
            run()
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "no source credentials: pass --source-app-id" in err
        assert "QISCUS_SOURCE_SECRET_KEY" in err

    @pytest.mark.usefixtures("apps")
    def test_other_checkpoint_is_refused(self, monkeypatch, capsys):
        """A checkpoint of another pair: exit 1 and the reason."""
        run("--progress", "none", "--checkpoint", "a.sqlite")
        for key in ("APP_ID", "SECRET_KEY", "BASE_URL"):
            src, dst = f"QISCUS_SOURCE_{key}", f"QISCUS_TARGET_{key}"
            a, b = os.environ[src], os.environ[dst]
            monkeypatch.setenv(src, b)
            monkeypatch.setenv(dst, a)
        status, _ = run("--checkpoint", "a.sqlite")
        assert status == 1
        assert "belongs to a copy from app-source" in capsys.readouterr().err


def test_ctrl_c_says_how_to_resume(apps, tmp_path):
    """SIGINT mid-copy: a non-zero exit and a message naming the checkpoint."""
    _, target = apps
    target.inject(Fault.delay(0.05), endpoints="post_comment")
    child = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", CLI, "migrate", "--progress", "plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        seen = _lines(child, 7, timeout=60)
        assert seen[-1] == "comments: 1", seen
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 130
    assert "run the same command again to resume" in err
    assert "move.sqlite" in err
