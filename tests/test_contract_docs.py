"""What the contract command says about itself matches what its tour does.

The tour deactivates and reactivates one of its own users, and each of its
comments fires the app's webhooks: the README, docs/testing.md and
``aioqiscus contract --help`` say so, with the tour's real comment count,
and the README's sample report shows rows the tour really prints.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aioqiscus import QiscusClient
from aioqiscus._cli import main
from aioqiscus._contract._cassette import LOOPBACK_ONLY_ENV
from aioqiscus._contract._tour import STEPS
from aioqiscus.testing import FakeQiscus, serve

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
TESTING = (ROOT / "docs" / "testing.md").read_text()

#: The tour's steps that post a comment or a system event (each one comment).
POSTS = [s for s in STEPS if s.operation.startswith(("post_comment", "post_system"))]


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end != -1 else None]


CONTRACT_DOCS = {
    "README": _section(README, "## Is my server what aioqiscus expects?"),
    "docs/testing.md": _section(TESTING, "## Is my server what aioqiscus expects?"),
}


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main(["contract", "--help"])
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("name", sorted(CONTRACT_DOCS))
def test_docs_do_not_claim_nothing_changes(name):
    """No 'deletes nothing': the tour deactivates and reactivates a user."""
    text = " ".join(CONTRACT_DOCS[name].split())
    assert "deletes nothing" not in text
    assert "deactivates" in text
    assert "reactivates" in text


@pytest.mark.parametrize("name", sorted(CONTRACT_DOCS))
def test_docs_warn_about_webhooks(name):
    """Each document warns that the tour's comments reach the app's webhook."""
    text = " ".join(CONTRACT_DOCS[name].split())
    assert f"about {2 * len(POSTS)} comments" in text
    assert "webhook" in text


def test_help_warns(capsys):
    """``aioqiscus contract --help`` says what the tour changes and fires."""
    text = _help(capsys)
    assert "deactivates and reactivates" in text
    assert f"about {2 * len(POSTS)} comments" in text
    assert "webhook" in text


def test_readme_sample_rows_are_real():
    """Every row of the README's sample report names a step the tour runs.

    None says "not implemented by this client" of a step whose methods the
    client has.
    """
    block = CONTRACT_DOCS["README"].split("```text\n", 1)[1].split("```", 1)[0]
    steps = {s.operation: s for s in STEPS}
    rows = [line for line in block.splitlines()[1:] if not line.startswith(" ")]
    assert rows
    for line in rows:
        operation = line.split()[0]
        assert operation in steps, line
        if "not implemented" in line:
            assert not all(hasattr(QiscusClient, m) for m in steps[operation].requires)
    assert re.search(r"^get_comments_range\s+v2\.1\s+ok", block, re.MULTILINE)


def test_tour_posts_what_the_docs_say(monkeypatch):
    """A v2.1 tour posts 12 comments, deactivates and reactivates carol, and says so."""
    monkeypatch.setenv(LOOPBACK_ONLY_ENV, "1")
    fake = FakeQiscus(dialects={"v2.1"})
    out = io.StringIO()
    argv = ["contract", "--dialects", "v2.1", "--prefix", "aioqiscus-contract-docs"]
    argv += ["--app-id", fake.app_id, "--secret-key", fake.secret_key]
    pool = ThreadPoolExecutor(1)
    with serve(fake) as url:
        try:
            done = pool.submit(main, [*argv, "--base-url", url], out)
            assert done.result(timeout=60) == 0, out.getvalue()
        finally:
            pool.shutdown(wait=False)
    posted = [
        r
        for r in fake.journal
        if r.endpoint in ("post_comment", "post_system_event_message")
    ]
    assert len(posted) == len(POSTS) == 12
    assert [r.endpoint for r in fake.journal if "activate" in r.endpoint] == [
        "deactivate_users",
        "reactivate_users",
    ]
    assert "fires the app's webhook" in out.getvalue().splitlines()[1]
    carol = fake.store.users["aioqiscus-contract-docs-v21-carol"]
    assert carol.active is True
