"""Import time: ``import aioqiscus`` beside ``import httpx``, and the CLI's help.

    python bench/imports.py [--rounds N] [--callgrind]

``import aioqiscus`` loads each public name on first use, so the package
alone costs next to nothing; what a program pays is the first use of a
client. Both are measured. Each round runs, in turn and each in a fresh
interpreter:

- ``python -X importtime -c STATEMENT`` for ``import httpx``,
  ``import aioqiscus``, ``from aioqiscus import QiscusClient`` and
  ``from aioqiscus import SyncQiscusClient``: the microseconds
  ``-X importtime`` reports for the statement (the cumulative times of the
  modules it imports at the top level, the interpreter's own start left out;
  the figure the targets are set in);
- ``python -c pass``, ``python -c "import aioqiscus"``,
  ``python -c "from aioqiscus import QiscusClient"`` and
  ``aioqiscus --help`` timed from outside (wall clock, process start to exit).

With ``--callgrind`` (valgrind installed), each statement is also counted in
instructions, which the machine's load does not change: the interpreter's
own start (``python -c pass``) is subtracted from each before the ratio.
They are counted twice: as installed, and as if httpx's command-line extras
were not (``import httpx`` imports click, rich and pygments when they are).

Interleaving exposes every command to the same moments of a shared
machine's load; the report gives each one's median over the rounds, the
lowest and highest, and the ratio of the medians. Targets: ``import
aioqiscus`` (and the first use of a client) at most 1.5x ``import httpx``;
``aioqiscus --help`` under 150 ms.

Results go to ``bench/results/imports.md``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SOURCE = Path(__file__).resolve().parents[1] / "src" / "aioqiscus"
PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("aioqiscus"))

#: The children's environment: bytecode cached, as for an installed wheel
#: (``httpx`` in site-packages has its ``.pyc`` files; an editable source
#: tree without them would be measured compiling itself).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

#: A line of ``-X importtime``: "import time: self | cumulative | name",
#: the name indented by its depth.
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)\s*$")


def _top_level(code: str) -> dict[str, int]:
    """Each top-level import of ``python -c code``: its cumulative microseconds."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    found = {}
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if match and not match.group(2):
            found[match.group(3)] = int(match.group(1))
    return found


#: What the interpreter imports before running any code (``site``...).
_STARTUP: set[str] = set()


def import_us(statement: str) -> float:
    """Microseconds ``-X importtime`` gives *statement*, in a fresh interpreter.

    The sum of the cumulative times of the modules it imports at the top
    level: one for ``import httpx``; for the first use of a lazy name, the
    package and what the name's first use imports.
    """
    if not _STARTUP:
        _STARTUP.update(_top_level("pass"))
    found = _top_level(statement)
    total = sum(us for name, us in found.items() if name not in _STARTUP)
    if not total:
        msg = f"no import time for {statement!r} in -X importtime's output"
        raise RuntimeError(msg)
    return float(total)


def instructions(code: str) -> float:
    """Instructions ``python -c code`` executes, counted by callgrind."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            PYTHON,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        msg = "no instruction count in callgrind's output"
        raise RuntimeError(msg)
    return float(found.group(1))


def wall_ms(command: list[str]) -> float:
    """Milliseconds from starting *command* to its exit."""
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, env=ENV)
    return (time.perf_counter() - started) * 1e3


#: What each statement is measured as, and the statement.
STATEMENTS = {
    "import httpx": "import httpx",
    "import aioqiscus": "import aioqiscus",
    "first use of QiscusClient": "from aioqiscus import QiscusClient",
    "first use of SyncQiscusClient": "from aioqiscus import SyncQiscusClient",
}


#: Where instructions are counted: as installed here, and as if httpx's
#: command-line extras (click, rich, pygments, which ``aioqiscus[cli]``
#: installs) were not: ``import httpx`` imports them when all three are
#: (``httpx._main``), which makes it two thirds dearer.
SETTINGS = {
    "": "",
    ", without click, rich, pygments": (
        "import sys; sys.modules.update(dict.fromkeys(('click', 'pygments', 'rich')))\n"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--callgrind", action="store_true", help="also count instructions"
    )
    args = parser.parse_args()
    compileall.compile_dir(SOURCE, quiet=1)
    runs: dict[str, list[float]] = {}
    measures = {
        **{
            f"{name} (-X importtime)": (
                lambda statement=statement: import_us(statement) / 1e3
            )
            for name, statement in STATEMENTS.items()
        },
        "python -c pass": lambda: wall_ms([PYTHON, "-c", "pass"]),
        "python -c 'import aioqiscus'": lambda: wall_ms(
            [PYTHON, "-c", "import aioqiscus"]
        ),
        "python -c 'from aioqiscus import QiscusClient'": lambda: wall_ms(
            [PYTHON, "-c", "from aioqiscus import QiscusClient"]
        ),
        "aioqiscus --help": lambda: wall_ms([CLI, "--help"]),
    }
    for _ in range(args.rounds):
        for name, measure in measures.items():
            runs.setdefault(name, []).append(measure())
    median = {name: statistics.median(values) for name, values in runs.items()}
    httpx_ms = median["import httpx (-X importtime)"]
    lines = [
        (
            f"Medians of {args.rounds} interleaved rounds (lowest to highest "
            f"beside), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.2f} at the end; "
            f"`python bench/imports.py{' --callgrind' if args.callgrind else ''}`."
        ),
        "",
        "| measure | median | spread | context | target |",
        "|---|---:|---:|---|---|",
    ]
    for name, value in median.items():
        context, target = "", ""
        if name.endswith("(-X importtime)") and not name.startswith("import httpx"):
            context, target = f"{value / httpx_ms:.2f}x import httpx", "<= 1.5x"
        elif name == "aioqiscus --help":
            context = "wall clock, interpreter start included"
            target = "< 150 ms"
        spread = f"{min(runs[name]):.1f}-{max(runs[name]):.1f}"
        lines.append(f"| {name} | {value:.1f} ms | {spread} | {context} | {target} |")
    if args.callgrind:
        for setting, prelude in SETTINGS.items():
            floor = instructions(prelude or "pass")
            counts = {
                name: instructions(prelude + statement) - floor
                for name, statement in STATEMENTS.items()
            }
            base = counts.pop("import httpx")
            for name, count in counts.items():
                lines.append(
                    f"| {name} (callgrind{setting}) | {count / 1e6:.0f}M "
                    f"instructions | | {count / base:.2f}x import httpx "
                    f"({base / 1e6:.0f}M), interpreter start subtracted "
                    "| <= 1.5x |"
                )
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imports.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
