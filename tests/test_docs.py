"""The README and docs say what the code does, in a form that works where read."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aioqiscus import QiscusClient, RoomType, webhooks
from aioqiscus.dialects import v2, v21
from aioqiscus.testing import FakeQiscus

from .conftest import sample
from .helpers import in_process

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def section(path: Path, heading: str) -> str:
    """The text of a markdown section, up to the next heading of its level."""
    text = path.read_text()
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    following = re.search(rf"^{level} ", rest, re.MULTILINE)
    return rest[: following.start()] if following else rest


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.+?)\n```", text, re.DOTALL)


class TestLinks:
    def test_readme_links_are_absolute(self):
        """Every README link works on the package index: absolute or an anchor."""
        links = re.findall(r"\]\(([^)]+)\)", README.read_text())
        assert links
        relative = [u for u in links if not u.startswith(("https://", "#"))]
        assert relative == []

    def test_links_to_the_repository_name_files_that_exist(self):
        """README links into the repository point at the project URL and real files."""
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())
        base = project["project"]["urls"]["Source"] + "/blob/main/"
        links = re.findall(r"\]\((https://github\.com/[^)#]+)", README.read_text())
        ours = [u for u in links if u.startswith(base)]
        assert ours
        assert [u for u in ours if not (ROOT / u.removeprefix(base)).exists()] == []

    def test_install_commands_quote_extras(self):
        """`pip install 'aioqiscus[x]'` is quoted (zsh globs brackets)."""
        sources = [
            README,
            *DOCS,
            *ROOT.glob("src/**/*.py"),
            *ROOT.glob("examples/*.py"),
        ]
        unquoted = [
            f"{path.name}: {m.group(0)}"
            for path in sources
            for m in re.finditer(
                r"pip install [^`\n]*?(?<=\s)aioqiscus\[", path.read_text()
            )
        ]
        assert unquoted == []


class TestWebhookReceiverDocs:
    def test_sample_delivery_is_a_documented_sample(self):
        """The delivery shown in docs/testing.md is the v2.1 sample, and parses."""
        text = section(ROOT / "docs" / "testing.md", "## Testing a webhook receiver")
        [shown] = blocks(text, "json")
        assert json.loads(shown) == sample("webhooks/post_comment_v21")
        event = webhooks.parse(shown.encode())
        assert event.comment.message == "ini pesan"
        assert event.room.type is RoomType.GROUP

    async def test_receiver_snippet_runs(self):
        """The documented test, run against a receiver that verifies signatures."""
        token = "dashboard-token"
        seen = []

        async def receive(request: Request) -> Response:
            body = await request.body()
            signature = request.headers.get(webhooks.SIGNATURE_HEADER)
            if not webhooks.verify_signature(body, signature, token):
                return Response(status_code=401)
            seen.append(webhooks.parse(body))
            return Response(status_code=200)

        app = Starlette(routes=[Route("/qiscus/webhook", receive, methods=["POST"])])
        text = section(ROOT / "docs" / "testing.md", "## Testing a webhook receiver")
        [snippet] = blocks(text, "python")
        code = compile(
            snippet, "testing.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        )
        namespace = {
            "app": app,
            "TOKEN": token,
            "delivery": sample("webhooks/post_comment_v21"),
        }
        await eval(code, namespace)  # noqa: S307 - our own documentation
        assert [e.comment.message for e in seen] == ["ini pesan"]

    def test_sign_is_documented(self):
        """webhooks.sign appears in the README and the testing guide."""
        assert "webhooks.sign(body, token)" in README.read_text()
        assert (
            "webhooks.sign(body, token)" in (ROOT / "docs" / "testing.md").read_text()
        )


class TestSingleRoomNames:
    def test_names_differ_by_dialect_as_documented(self):
        """v2 names a 1:1 room after its participants; v2.1 leaves it empty."""
        old = v2.get_or_create_room_with_target(["a", "b"], None).parse(
            sample("v2/get_or_create_room_with_target")["results"]
        )
        new = v21.get_or_create_room_with_target(["a", "b"], None).parse(
            sample("v21/get_or_create_room_with_target")["results"]
        )
        assert old.type is new.type is RoomType.SINGLE
        assert old.name == " ".join(p.id for p in old.participants)
        assert new.name == ""
        said = section(ROOT / "docs" / "migration.md", "## What still differs")
        assert "1:1 room's name" in said
        assert f'`"{old.name}"`' in said


@pytest.mark.parametrize("api_version", ["v2", "v2.1"])
async def test_add_participants_returns_those_added(api_version):
    """add_participants returns the users added, not the room's whole roster."""
    fake = FakeQiscus()
    for user in ("a@example.com", "b@example.com", "c@example.com"):
        fake.add_user(user)
    async with in_process(fake, api_version) as client:
        room = await client.create_room("R", ["b@example.com"], "a@example.com")
        added = await client.add_participants(room.id, ["c@example.com"])
    assert [u.id for u in added] == ["c@example.com"]
    assert "the users added, not the roster" in QiscusClient.add_participants.__doc__
