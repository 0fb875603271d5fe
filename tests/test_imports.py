"""What ``import aioqiscus`` loads: nothing until a name is used, then only its part."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import aioqiscus

#: Modules the client leaves unloaded: each costs import time that a
#: script sending messages would pay for nothing.
NOT_LOADED = (
    "aioqiscus.bot",
    "aioqiscus.migration",
    "aioqiscus.stores",
    "aioqiscus.testing",
    "aioqiscus._cli",
    "aioqiscus._contract",
    "aioqiscus.omnichannel",
    # Optional dependencies, and cattrs until the first parse.
    "aiohttp",
    "cattrs",
    "msgspec",
    "opentelemetry",
    "redis",
    # httpx imports httpcore when a client is made, not before (and httpcore
    # imports trio when trio is installed: 300M instructions): nor do we.
    "httpcore",
    "trio",
)

#: What ``import aioqiscus`` alone leaves unloaded as well: the client stack
#: and its dependencies load with the first name used.
NOT_LOADED_BY_IMPORT = (
    *NOT_LOADED,
    "aioqiscus._client",
    "aioqiscus.errors",
    "aioqiscus.models",
    "anyio",
    "attrs",
    "httpx",
    # httpx imports rich (for its own command line) when rich is installed.
    "rich",
    "typing",
)

#: Bounds each child interpreter: an import that hangs fails the test.
CHILD_TIMEOUT = 60


def _run(probe: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=CHILD_TIMEOUT,
    )
    return done.stdout


def _loaded_after(code: str) -> list[str]:
    """The modules loaded in a fresh interpreter after *code*."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    return json.loads(_run(probe))


def _under(modules: list[str], package: str) -> list[str]:
    return [m for m in modules if m == package or m.startswith(f"{package}.")]


class TestImportAioqiscus:
    def test_loads_nothing_but_the_package(self):
        """``import aioqiscus`` loads no module of ours, nor httpx, attrs or typing."""
        loaded = _loaded_after("import aioqiscus")
        assert _under(loaded, "aioqiscus") == ["aioqiscus"]
        for package in NOT_LOADED_BY_IMPORT:
            assert _under(loaded, package) == []

    def test_client_leaves_optional_parts_unloaded(self):
        """The async client loads neither the bot, migration, the fake nor the CLI."""
        loaded = _loaded_after("import aioqiscus\naioqiscus.QiscusClient")
        assert "aioqiscus._client" in loaded
        assert "httpx" in loaded
        for package in NOT_LOADED:
            assert _under(loaded, package) == []

    def test_clients_load_dialects_and_asyncio_when_used(self):
        """The dialects load with a client's first call, asyncio with its loop.

        Neither is needed to define the clients: ``import httpx`` does not
        load asyncio either.
        """
        loaded = _loaded_after(
            "import aioqiscus\naioqiscus.QiscusClient\naioqiscus.SyncQiscusClient"
        )
        assert "aioqiscus.sync" in loaded
        for package in (
            "aioqiscus.dialects",
            "aioqiscus.webhooks",
            "asyncio",
            "httpcore",
        ):
            assert _under(loaded, package) == []
        used = _loaded_after(
            "import aioqiscus\n"
            "with aioqiscus.SyncQiscusClient('app', 'key', api_version='v2') as c:\n"
            "    c.negotiation_report()"
        )
        assert "asyncio" in used

    def test_errors_load_without_the_client(self):
        """Catching ``aioqiscus.QiscusError`` loads neither httpx nor the client."""
        loaded = _loaded_after("import aioqiscus\naioqiscus.QiscusError")
        assert "aioqiscus.errors" in loaded
        for package in ("aioqiscus._client", "httpx", "anyio", "attrs"):
            assert _under(loaded, package) == []

    def test_names_are_the_modules_own(self):
        """Each lazy name is the very object its module defines, bound once used."""
        from aioqiscus import _client, errors, models, payloads, sync

        assert aioqiscus.QiscusClient is _client.QiscusClient
        assert aioqiscus.SyncQiscusClient is sync.SyncQiscusClient
        assert aioqiscus.QiscusError is errors.QiscusError
        assert aioqiscus.Comment is models.Comment
        assert aioqiscus.Card is payloads.Card
        assert aioqiscus.models is models
        assert vars(aioqiscus)["QiscusClient"] is _client.QiscusClient

    def test_lazy_table_matches_what_type_checkers_see(self):
        """``_FROM`` and ``_MODULES`` name the modules the typed imports name."""
        tree = ast.parse(Path(aioqiscus.__file__).read_text(encoding="utf-8"))
        typed = next(
            node
            for node in tree.body
            if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        )
        names, modules = {}, set()
        for node in typed.body:
            assert isinstance(node, ast.ImportFrom)
            for alias in node.names:
                if node.module is None:
                    modules.add(alias.name)
                else:
                    names[alias.name] = node.module
        assert names == aioqiscus._FROM
        assert modules == aioqiscus._MODULES
        assert {*names, *modules, "__version__"} == set(aioqiscus.__all__)

    def test_every_name_imports_first(self):
        """Each module behind a lazy name imports first in a fresh interpreter.

        Nothing relies on the package having loaded another part before: no
        import cycle hides behind the order ``import aioqiscus`` once imposed.
        """
        # One name per module behind the names, then the modules no name is in.
        names = {}
        for name, module in aioqiscus._FROM.items():
            names.setdefault(module, name)
        probes = [f"from aioqiscus import {name}" for name in names.values()]
        probes += [f"import aioqiscus.{m}" for m in aioqiscus._MODULES - names.keys()]
        children = [
            subprocess.Popen(  # noqa: S603 - our own interpreter, fixed code
                [sys.executable, "-c", probe], stderr=subprocess.PIPE, text=True
            )
            for probe in probes
        ]
        failed = []
        for probe, child in zip(probes, children, strict=True):
            _, err = child.communicate(timeout=CHILD_TIMEOUT)
            if child.returncode:
                failed.append((probe, err.splitlines()[-1:]))
        assert failed == []

    def test_first_use_from_threads_is_safe(self):
        """Threads touching lazy names at once all get the same objects."""
        probe = (
            "import threading, aioqiscus\n"
            "names = ['QiscusClient', 'SyncQiscusClient', 'Comment', 'bot', 'errors']\n"
            "start = threading.Barrier(8)\n"
            "seen = []\n"
            "def touch():\n"
            "    start.wait(timeout=30)\n"
            "    seen.append(tuple(id(getattr(aioqiscus, n)) for n in names))\n"
            "threads = [threading.Thread(target=touch) for _ in range(8)]\n"
            "for t in threads: t.start()\n"
            "for t in threads: t.join(timeout=30)\n"
            "print(len(seen), len(set(seen)))"
        )
        assert _run(probe).split() == ["8", "1"]

    def test_star_import_gives_every_name(self):
        """``from aioqiscus import *`` binds every name of ``__all__``."""
        namespace: dict[str, object] = {}
        exec("from aioqiscus import *", namespace)  # noqa: S102 - fixed code
        assert set(aioqiscus.__all__) <= namespace.keys()

    def test_converters_are_built_on_first_use(self):
        """cattrs loads with the first user or room parsed, not with the client."""
        probe = (
            "import sys, aioqiscus\n"
            "aioqiscus.QiscusClient\n"
            "before = 'cattrs' in sys.modules\n"
            "from aioqiscus.dialects import v21\n"
            "v21.parse_user({'user_id': 'a@example.com', 'username': 'A'})\n"
            "print(before, 'cattrs' in sys.modules)"
        )
        assert _run(probe).split() == ["False", "True"]

    def test_bot_loads_on_first_use(self):
        """``aioqiscus.bot`` and ``aioqiscus.migration`` load when first touched."""
        loaded = _loaded_after(
            "import aioqiscus\naioqiscus.bot.Bot\naioqiscus.migration.plan_import"
        )
        assert "aioqiscus.bot._bot" in loaded
        assert "aioqiscus.migration" in loaded
        assert _under(loaded, "aioqiscus.testing") == []
        assert _under(loaded, "aioqiscus._cli") == []

    def test_from_import_works(self):
        """``from aioqiscus import bot, migration`` gives the subpackages."""
        from aioqiscus import bot, migration

        assert aioqiscus.bot is bot
        assert aioqiscus.migration is migration
        assert bot.Bot.__module__ == "aioqiscus.bot._bot"

    def test_unknown_name_is_an_attribute_error(self):
        """A name the package does not have raises AttributeError, naming it."""
        with pytest.raises(AttributeError, match="no_such_name"):
            aioqiscus.no_such_name  # noqa: B018 - the access is the test

    def test_dir_lists_lazy_names(self):
        """``dir(aioqiscus)`` names the lazy names before they load."""
        listed = _run("import aioqiscus\nprint(*dir(aioqiscus))").split()
        assert set(aioqiscus.__all__) <= set(listed)


#: What ``aioqiscus --help`` must not import: the client stack, httpx and
#: what only a command needs.
NOT_LOADED_BY_HELP = (
    *(name for name in NOT_LOADED_BY_IMPORT if name != "aioqiscus._cli"),
    "aioqiscus._cli_demo",
    "aioqiscus._cli_export",
    "aioqiscus._cli_migrate",
    "aioqiscus._transport",
    "asyncio",
)


class TestCliImports:
    def test_help_imports_no_client(self):
        """``aioqiscus --help`` prints the help without httpx, attrs or the client."""
        probe = (
            "import contextlib, io, json, sys\n"
            "from aioqiscus._cli import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "print(json.dumps([out.getvalue(), sorted(sys.modules)]))"
        )
        shown, loaded = json.loads(_run(probe))
        assert "Qiscus Chat SDK REST API from the shell." in shown
        assert "migrate" in shown
        for package in NOT_LOADED_BY_HELP:
            assert _under(loaded, package) == []

    def test_command_help_loads_only_that_command(self):
        """``aioqiscus demo --help`` needs no client; only ``demo`` runs one."""
        loaded = _loaded_after(
            "import contextlib, io\n"
            "from aioqiscus._cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.suppress(SystemExit):\n"
            "    main(['demo', '--help'])"
        )
        assert _under(loaded, "aioqiscus._cli_demo") == []
        assert _under(loaded, "aioqiscus._client") == []

    def test_help_loads_no_command(self):
        """Building the parser for ``--help`` imports no command's module."""
        loaded = _loaded_after("from aioqiscus import _cli\n_cli._parser(['--help'])")
        for package in (
            "aioqiscus.testing",
            "aioqiscus._contract",
            "aioqiscus._cli_export",
            "aioqiscus.bot",
        ):
            assert _under(loaded, package) == []

    def test_named_command_gets_its_options(self):
        """The command named on the line, and only it, gets its options."""
        from aioqiscus import _cli

        parser = _cli._parser(["--debug", "export", "--help"])
        argv = "export --resource users --since 2024-01-01 --until 2024-01-02 --out x"
        args = parser.parse_args(argv.split())
        assert args.resource == "users"
        doctor = _cli._parser(["doctor"])
        with pytest.raises(SystemExit) as exited:
            doctor.parse_args(["doctor", "--resource", "users"])
        assert exited.value.code == 2
