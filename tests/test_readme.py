"""The README's commands are the ones CI runs, letter for letter."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test command verbatim."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    test_command = next(c for c in readme_commands() if "pytest" in c)
    marker = ci.index("# README-TEST-COMMAND")
    assert ci[marker + 1] == test_command


def test_ci_runs_the_readme_demo_command():
    """.ci/run runs the README's demo command verbatim."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    demo_command = next(c for c in readme_commands() if "demo" in c)
    marker = ci.index("# README-DEMO-COMMAND")
    assert ci[marker + 1] == demo_command


def test_readme_leads_with_the_two_commands():
    """The first two commands in the README are the demo, then the tests."""
    first, second = readme_commands()[:2]
    assert first.endswith("aioqiscus demo")
    assert second.endswith("pytest")


def test_python_snippets_compile():
    """Every Python snippet in the README and docs is valid syntax."""
    import ast

    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for snippet in re.findall(
            r"```python\n(.+?)\n```", path.read_text(), re.DOTALL
        ):
            # Snippets show bodies of coroutines: allow top-level await.
            compile(snippet, str(path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


# ------------------------------------------------- snippets under mypy --strict
#
# Each Python snippet of the README and docs/ is written into a module of its
# own and every module, with the examples/ apps, is type-checked in one mypy
# run with the project's settings (strict, and more). A snippet is the code a
# reader copies, so it may lean on what the prose around it introduced: the
# harness below declares those names, and nothing else. A snippet that uses
# a name it neither binds nor finds here fails: bind it in the snippet, or
# declare it here if the prose introduces it. Snippets with top-level await
# run inside ``async def _snippet() -> None``.

#: Declarations of the names snippets use without binding them.
HARNESS: dict[str, str] = {
    # Objects the prose introduces before the snippet.
    "client": "client: _aioqiscus.QiscusClient",
    "room": "room: _aioqiscus.Room",
    "room_id": "room_id: str",
    "bot_id": "bot_id: str",
    "bot": "bot: _bot.Bot",
    "qiscus": "def qiscus() -> _aioqiscus.SyncQiscusClient: raise NotImplementedError",
    "app": "app: _fastapi.FastAPI",
    "fake": "fake: _testing.FakeQiscus",
    "qiscus_fake": "qiscus_fake: _testing.FakeQiscus",
    "app_id": "app_id: str",
    "secret": "secret: str",
    "TOKEN": "TOKEN: str",
    "WEBHOOK_TOKEN": "WEBHOOK_TOKEN: str",
    "SIGNATURE_TOKEN": "SIGNATURE_TOKEN: str",
    "first_id": "first_id: int",
    "last_id": "last_id: int",
    "raw_body": "raw_body: bytes",
    "delivery": "delivery: dict[str, object]",
    "signature_header_or_none": "signature_header_or_none: str | None",
    "records": "records: list[_migration.ImportRecord]",
    "emails_already_there": "emails_already_there: set[str]",
    "emails_already_on_the_server": "emails_already_on_the_server: set[str]",
    "CLIENT": "CLIENT = _web.AppKey('qiscus', _aioqiscus.QiscusClient)",
    "handle": (
        "async def handle(sender: _aioqiscus.User, room: _aioqiscus.Room,"
        " comment: _aioqiscus.Comment) -> None: ..."
    ),
    # Imports a fragment takes from the page's first snippet or its prose.
    "aioqiscus": "import aioqiscus",
    "aiohttp": "import aiohttp",
    "httpx": "import httpx",
    "AiohttpBackend": "from aioqiscus.backends import AiohttpBackend",
    "AsyncIterator": "from collections.abc import AsyncIterator",
    "web": "from aiohttp import web",
    "QiscusClient": "from aioqiscus import QiscusClient",
    "plan_import": "from aioqiscus.migration import plan_import",
    "Request": "from fastapi import Request",
    "HTTPException": "from fastapi import HTTPException",
    "UTC": "from datetime import UTC",
    "date": "from datetime import date",
    "datetime": "from datetime import datetime",
}

#: The reader's own modules and packages aioqiscus does not depend on, stubbed
#: with the signatures the snippets use.
STUBS: dict[str, str] = {
    "my_app.pyi": (
        "from aioqiscus import QiscusClient\n"
        "from aioqiscus.bot import Bot\n"
        "def build_bot(client: QiscusClient, token: str) -> Bot: ...\n"
    ),
    "my_bot.pyi": (
        "from aioqiscus import QiscusClient\n"
        "async def greet(client: QiscusClient, room_id: str) -> None: ...\n"
    ),
    # docs/sync.md's web views and task, with what they use of each.
    "flask/__init__.pyi": (
        "from collections.abc import Callable\n"
        "from typing import TypeVar\n"
        "_F = TypeVar('_F', bound=Callable[..., object])\n"
        "class Flask:\n"
        "    def __init__(self, import_name: str) -> None: ...\n"
        "    def get(self, rule: str) -> Callable[[_F], _F]: ...\n"
    ),
    "django/__init__.pyi": "",
    "django/http.pyi": (
        "class HttpRequest: ...\n"
        "class JsonResponse:\n"
        "    def __init__(self, data: object) -> None: ...\n"
    ),
    "celery/__init__.pyi": (
        "from collections.abc import Callable\n"
        "from typing import TypeVar\n"
        "_F = TypeVar('_F', bound=Callable[..., object])\n"
        "class Celery:\n"
        "    def __init__(self, main: str) -> None: ...\n"
        "    def task(self, fn: _F) -> _F: ...\n"
    ),
    "redis/__init__.pyi": "",
    "redis/asyncio.pyi": (
        "class Redis:\n"
        "    async def set(self, name: str, value: bytes, *, nx: bool = ...,"
        " ex: int | None = ...) -> bool | None: ...\n"
    ),
}

_HEADER = (
    "import aiohttp.web as _web\n"
    "import fastapi as _fastapi\n"
    "import aioqiscus as _aioqiscus\n"
    "import aioqiscus.bot as _bot\n"
    "import aioqiscus.migration as _migration\n"
    "import aioqiscus.testing as _testing\n"
)


def python_snippets() -> list[tuple[str, int, str]]:
    """Every Python snippet of the README and docs: (file, line, code)."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in re.finditer(r"```python\n(.+?)\n```", text, re.DOTALL):
            line = text.count("\n", 0, match.start(1)) + 1
            found.append((str(path.relative_to(ROOT)), line, match.group(1)))
    return found


def free_names(code: str) -> set[str]:
    """Names *code* reads but binds nowhere (builtins excepted)."""
    import ast
    import builtins

    loaded, bound = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - set(dir(builtins))


def snippet_module(code: str) -> tuple[str, int]:
    """The module that type-checks *code*, and the line *code* starts on."""
    import ast
    import inspect
    import textwrap

    preamble = _HEADER + "".join(
        HARNESS[name] + "\n" for name in sorted(free_names(code))
    )
    flags = compile(code, "<snippet>", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT).co_flags
    if flags & inspect.CO_COROUTINE:
        preamble += "async def _snippet() -> None:\n"
        code = textwrap.indent(code, "    ")
    return preamble + code + "\n", preamble.count("\n") + 1


def mypy_settings() -> str:
    """The project's ``[tool.mypy]`` settings, as an ini section (no ``files``)."""
    import tomllib

    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    lines = ["[mypy]"]
    for key, value in settings.items():
        if key == "files":
            continue
        text = ", ".join(value) if isinstance(value, list) else str(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


#: What the public types promise, checked in the same run: the lines marked
#: ``# E: <code>`` must fail with that error code, every other line pass.
TYPE_CONTRACT = """\
import aioqiscus
from aioqiscus.migration import ImportRoom


async def contract(
    client: aioqiscus.QiscusClient, comment: aioqiscus.Comment, card: aioqiscus.Card
) -> None:
    ImportRoom("r1", "", "single", "a@x.io", participants=["a@x.io", "b@x.io"])
    sender: str = comment.sender.id
    number: int | None = comment.id
    options: aioqiscus.SendOptions = {"unique_temp_id": "m", "on_ambiguous": "raise"}
    await client.post_text("1", sender, "hi", **options)
    await client.post_text("1", sender, "hi", extras={"k": 1}, unique_temp_id="m")
    await client.post_text("1", sender, "hi", uniqe_temp_id="m")  # E: call-arg
    await client.post_buttons("1", sender, "hi", [], disable_link_preview="no")  # E: arg-type
    await client.post_card("1", sender, card, on_ambiguous="retry")  # E: arg-type
    print(number)


def blocking(client: aioqiscus.SyncQiscusClient, card: aioqiscus.Card) -> None:
    user: aioqiscus.User = client.get_user("u")
    rooms: aioqiscus.SyncListing[aioqiscus.Room] = client.iter_user_rooms("u")
    total: int | None = rooms.total
    names: list[str] = [room.name for room in rooms]
    found: aioqiscus.Comment | None = client.find_comment("1", "m")
    client.post_card("1", user.id, card, on_ambiguous="raise")
    client.post_card("1", user.id, card, on_ambiguous="retry")  # E: arg-type
    client.get_user(1)  # E: arg-type
    wrong: str = client.get_user("u")  # E: assignment
    with aioqiscus.SyncQiscusClient("app", "secret", api_version="v2") as other:
        other.with_options(max_retries=0).get_user_token("u").upper()
    print(total, names, found, wrong)


async def not_awaitable(client: aioqiscus.SyncQiscusClient) -> None:
    await client.get_user("u")  # E: misc
"""


def test_python_snippets_and_examples_pass_mypy_strict(tmp_path):
    """Every README/docs snippet and the examples/ apps pass mypy --strict.

    In the same run, the public types keep their promises (TYPE_CONTRACT).
    """
    from mypy import api

    stubs, modules = tmp_path / "stubs", tmp_path / "snippets"
    for name, text in STUBS.items():
        (stubs / name).parent.mkdir(parents=True, exist_ok=True)
        (stubs / name).write_text(text)
    modules.mkdir()
    origin = {}
    undeclared = [
        f"{doc}:{line}: {sorted(free_names(code) - HARNESS.keys())}"
        for doc, line, code in python_snippets()
        if free_names(code) - HARNESS.keys()
    ]
    assert not undeclared, f"bind these names or declare them in HARNESS: {undeclared}"
    for doc, line, code in python_snippets():
        name = f"{doc.replace('/', '_').replace('.', '_')}_L{line}"
        text, first = snippet_module(code)
        (modules / f"{name}.py").write_text(text)
        origin[name] = (doc, line - first)
    (modules / "type_contract.py").write_text(TYPE_CONTRACT)
    config = tmp_path / "mypy.ini"
    config.write_text(
        mypy_settings()
        + f"mypy_path = {stubs}:{modules}:{ROOT}\nexplicit_package_bases = True\n"
    )
    examples = sorted(str(p) for p in (ROOT / "examples").glob("*.py"))
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "snippets"),
            *sorted(str(p) for p in modules.glob("*.py")),
            *examples,
        ]
    )

    assert status in (0, 1), stderr
    expected = {
        (number, code)
        for number, line in enumerate(TYPE_CONTRACT.splitlines(), 1)
        for code in re.findall(r"# E: ([\w-]+)", line)
    }
    contract = re.compile(r"\S*type_contract\.py:(\d+): error: .*\[([\w-]+)\]$")
    found = {
        (int(m.group(1)), m.group(2))
        for m in map(contract.match, stdout.splitlines())
        if m is not None
    }
    assert found == expected, stdout

    def where(match: re.Match[str]) -> str:
        doc, shift = origin[match.group(1)]
        return f"{doc}:{int(match.group(2)) + shift}:"

    others = [
        line
        for line in stdout.splitlines()
        if ": error:" in line and "type_contract.py" not in line
    ]
    report = re.sub(r"\S*snippets/(\w+)\.py:(\d+):", where, "\n".join(others))
    assert not others, report
    assert len(origin) == len(python_snippets()) >= 20
