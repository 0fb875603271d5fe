"""What ``import aioqiscus`` loads: the client, not the parts a script may never use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import aioqiscus

#: Modules a plain ``import aioqiscus`` must leave unloaded: each costs
#: import time that a script sending messages would pay for nothing.
NOT_LOADED = (
    "aioqiscus.bot",
    "aioqiscus.migration",
    "aioqiscus.testing",
    "aioqiscus._cli",
)


def _loaded_after(code: str) -> list[str]:
    """The ``aioqiscus`` modules loaded in a fresh interpreter after *code*."""
    probe = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('aioqiscus'))))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def _under(modules: list[str], package: str) -> list[str]:
    return [m for m in modules if m == package or m.startswith(f"{package}.")]


class TestImportAioqiscus:
    def test_leaves_optional_parts_unloaded(self):
        """``import aioqiscus`` loads neither the bot, migration, the fake nor the CLI."""
        loaded = _loaded_after("import aioqiscus")
        assert "aioqiscus._client" in loaded
        for package in NOT_LOADED:
            assert _under(loaded, package) == []

    def test_converters_are_built_on_first_use(self):
        """cattrs loads with the first user or room parsed, not with the package."""
        probe = (
            "import sys, aioqiscus\n"
            "before = 'cattrs' in sys.modules\n"
            "from aioqiscus.dialects import v21\n"
            "v21.parse_user({'user_id': 'a@example.com', 'username': 'A'})\n"
            "print(before, 'cattrs' in sys.modules)"
        )
        done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["False", "True"]

    def test_bot_loads_on_first_use(self):
        """``aioqiscus.bot`` and ``aioqiscus.migration`` load when first touched."""
        loaded = _loaded_after(
            "import aioqiscus\naioqiscus.bot.Bot\naioqiscus.migration.plan_import"
        )
        assert "aioqiscus.bot._bot" in loaded
        assert "aioqiscus.migration" in loaded
        assert _under(loaded, "aioqiscus.testing") == []

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

    def test_dir_lists_lazy_subpackages(self):
        """``dir(aioqiscus)`` names the lazy subpackages before they load."""
        assert {"bot", "migration"} <= set(dir(aioqiscus))


class TestCliImports:
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
